/**
 * A tiny cookie-keeping HTTP client that behaves like a browser for redirects and cookies
 * (per host and path), so tests can walk the authorize → QR page → complete → callback chain
 * over real HTTP. Real Chromium runs in the e2e browser suite; this is for fast protocol tests.
 */
interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

export class TestBrowser {
  private cookies: Cookie[] = [];
  constructor(readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64) SaomaTestBrowser/1.0') {}

  cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (c) => c.host === url.host && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/'),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, setCookies: string[]) {
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const pathAttr = attrs.find((a) => /^path=/i.test(a));
      const path = pathAttr ? pathAttr.slice(5) : '/';
      const expired = attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()) || attrs.some((a) => /^max-age=0$/i.test(a));
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.host === url.host && c.path === path));
      if (!expired && value !== '') this.cookies.push({ name, value, host: url.host, path });
    }
  }

  /** One request, no redirect following. */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    headers.set('user-agent', this.userAgent);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, res.headers.getSetCookie());
    return res;
  }

  /** Follow redirects until `stop(url)` says so (e.g. we reached the site's callback) or a non-redirect. */
  async navigate(input: string | URL, stop: (url: URL) => boolean = () => false, init: RequestInit = {}): Promise<{ url: URL; res: Response | null }> {
    let url = new URL(input);
    let first = true;
    for (let hops = 0; hops < 20; hops++) {
      if (stop(url)) return { url, res: null };
      const res = await this.fetch(url, first ? init : {});
      first = false;
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        url = new URL(location, url);
        continue;
      }
      return { url, res };
    }
    throw new Error('too many redirects');
  }
}
