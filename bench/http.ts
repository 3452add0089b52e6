/**
 * The load generator's HTTP: node:http on keep-alive connections to one origin, a lean cookie
 * jar per virtual browser, and an SSE reader. Leaner than fetch, so the generator spends its
 * CPU on requests rather than on itself. Every request is counted (requests per login).
 */
import http from 'node:http';

export const counters = { requests: 0 };

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Cookies of one browser at one host: name+path → value (what the server sets, it gets back). */
export class Jar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  header(path: string): string {
    let out = '';
    for (const c of this.cookies.values()) {
      if (path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/') {
        out += `${out ? '; ' : ''}${c.name}=${c.value}`;
      }
    }
    return out;
  }

  store(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const parts = line.split(';');
      const eq = parts[0].indexOf('=');
      const name = parts[0].slice(0, eq).trim();
      const value = parts[0].slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const attr of parts.slice(1)) {
        const [k, v = ''] = attr.trim().split('=');
        const key = k.toLowerCase();
        if (key === 'path') path = v;
        else if (key === 'max-age' && Number(v) <= 0) expired = true;
        else if (key === 'expires' && Date.parse(attr.trim().slice(8)) < Date.now()) expired = true;
      }
      const id = `${name}\0${path}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path });
    }
  }
}

export class Origin {
  readonly url: URL;
  readonly agent: http.Agent;
  constructor(base: string) {
    this.url = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 512 });
  }

  /** One request, no redirects followed. `path` is absolute-path (or a full URL on this origin). */
  request(method: string, path: string, opts: { jar?: Jar; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
    counters.requests++;
    const headers: Record<string, string> = { ...opts.headers };
    const target = this.pathOf(path);
    const cookie = opts.jar?.header(target.split('?')[0]);
    if (cookie) headers.cookie = cookie;
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.url.hostname, port: this.url.port, method, path: target, headers, agent: this.agent }, (res) => {
        opts.jar?.store(res.headers['set-cookie']);
        res.setEncoding('utf8');
        let body = '';
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /**
   * Opens an SSE stream; `onEvent` gets each event's name and data. Resolves once the response
   * headers arrive; `close()` drops the connection, as a page does when it navigates away.
   */
  events(path: string, jar: Jar, onEvent: (event: string, data: string) => void): Promise<{ close(): void }> {
    counters.requests++;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    const cookie = jar.header(path);
    if (cookie) headers.cookie = cookie;
    return new Promise((resolve, reject) => {
      const req = http.request({ host: this.url.hostname, port: this.url.port, method: 'GET', path, headers, agent: this.agent }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`SSE ${path}: HTTP ${res.statusCode}`));
          return;
        }
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data) onEvent(event, data);
          }
        });
        res.on('error', () => {});
        resolve({ close: () => req.destroy() });
      });
      req.on('error', reject);
      req.end();
    });
  }

  private pathOf(pathOrUrl: string): string {
    if (pathOrUrl.startsWith('/')) return pathOrUrl;
    const u = new URL(pathOrUrl);
    if (u.host !== this.url.host) throw new Error(`refusing to leave ${this.url.host} for ${u.host}`);
    return u.pathname + u.search;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Where a redirect points, resolved against the origin. */
export function locationOf(reply: Reply, origin: Origin): URL {
  const location = reply.headers.location;
  if (reply.status < 300 || reply.status >= 400 || !location) {
    throw new Error(`expected a redirect, got HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
  }
  return new URL(location, origin.url);
}
