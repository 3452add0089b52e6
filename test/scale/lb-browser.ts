/**
 * What a load balancer in front of several instances looks like from the outside: every URL is
 * on the one issuer host, and each request goes to whichever instance the test picks. Requests
 * are sent to that instance's port with `Host: <issuer host>` (as a proxy forwards it), so the
 * instance builds the same redirect URLs the issuer would. Cookies belong to the issuer host,
 * never to an instance: a cookie set by A is sent to B, as a browser behind a balancer does.
 */
import http from 'node:http';
import { Readable } from 'node:stream';

export interface Target {
  name: string;
  port: number;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

/** The bodies the tests send: text and forms (a Blob or a stream would have needed reading, not String()). */
function bodyText(body: RequestInit['body']): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  throw new Error('sendVia forwards string and URLSearchParams bodies only');
}

/** One request to `target`, as if to the issuer; the Response streams (SSE works). */
export function sendVia(target: Target, issuer: URL, input: string | URL, init: RequestInit = {}): Promise<Response> {
  const url = new URL(input);
  if (url.host !== issuer.host) throw new Error(`${url.href} is not on the issuer host ${issuer.host}`);
  const headers = new Headers(init.headers);
  headers.set('host', issuer.host);
  const body = bodyText(init.body);
  if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        method: init.method ?? 'GET',
        path: url.pathname + url.search,
        headers: Object.fromEntries(headers),
        agent: false,
      },
      (res) => {
        const out = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const status = res.statusCode ?? 0;
        const empty = status === 204 || status === 304 || init.method === 'HEAD';
        if (empty) res.resume();
        resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, headers: out }));
      },
    );
    req.on('error', reject);
    init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
    req.end(body);
  });
}

/** A cookie-keeping browser whose every request goes through the balancer to a chosen instance. */
export class LbBrowser {
  private cookies: Cookie[] = [];
  constructor(readonly issuer: URL) {}

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter((c) => c.path === '/' || url.pathname === c.path || url.pathname.startsWith(`${c.path.replace(/\/$/, '')}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private store(lines: string[]) {
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired = value === '' || attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (!expired) this.cookies.push({ name, value, path });
    }
  }

  async fetch(target: Target, input: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(input, this.issuer);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await sendVia(target, this.issuer, url, { ...init, headers });
    this.store(res.headers.getSetCookie());
    return res;
  }

  /** Follows redirects on `target` until `stop(url)` (e.g. the site's callback) or a non-redirect. */
  async navigate(target: Target, input: string | URL, stop: (url: URL) => boolean = () => false): Promise<{ url: URL; res: Response | null }> {
    let url = new URL(input, this.issuer);
    for (let hops = 0; hops < 20; hops++) {
      if (stop(url)) return { url, res: null };
      const res = await this.fetch(target, url);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url, res };
      await res.arrayBuffer();
      url = new URL(location, url);
    }
    throw new Error('too many redirects');
  }
}
