/**
 * Helpers for the administration tests: the admin API over HTTP with a bearer token, and the
 * console driven like a browser (cookies, Origin, the forms' CSRF token).
 */
import { createAdminAccounts } from '../../provider/src/admin/admins.js';
import { createAdminTokens } from '../../provider/src/admin/tokens.js';
import { TestBrowser } from '../support/browser.js';
import type { TestProvider } from '../support/harness.js';

export const ADMIN = { username: 'root', password: 'correct horse battery staple' };

/** A token as `tokens:create` makes one (the service the CLI and console call). */
export async function adminToken(p: TestProvider, name = 'tests'): Promise<string> {
  return (await createAdminTokens(p.saoma.db.prisma).create({ name }, 'local', null)).token;
}

export async function ensureAdmin(p: TestProvider, who = ADMIN) {
  const accounts = createAdminAccounts(p.saoma.db.prisma);
  return (await accounts.list()).find((a) => a.username === who.username) ?? accounts.create(who);
}

export interface ApiAnswer<T = Record<string, any>> {
  status: number;
  body: T;
  headers: Headers;
}

/** `/api/admin` over HTTP with `Authorization: Bearer <token>` (or a raw header, or none). */
export function adminApi(p: TestProvider, auth: string | null) {
  return async <T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> => {
    const headers: Record<string, string> = {};
    if (auth !== null) headers.authorization = auth.startsWith('sat_') ? `Bearer ${auth}` : auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${p.issuer}/api/admin${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the tests that care assert on it
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}

export type AdminApi = ReturnType<typeof adminApi>;

/** The console as a browser uses it: same-origin form posts carrying the page's CSRF token. */
export class ConsoleClient {
  readonly browser = new TestBrowser();
  constructor(readonly p: TestProvider) {}

  /** GET a console page (no redirect following); returns status, HTML and the CSRF token on it. */
  async page(path: string) {
    const res = await this.browser.fetch(`${this.p.issuer}${path}`);
    const html = await res.text();
    return { status: res.status, html, location: res.headers.get('location'), csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1], headers: res.headers };
  }

  /** POST a form as the console's own page does (Origin of the provider), unless told otherwise. */
  async post(path: string, form: Record<string, string | undefined>, opts: { origin?: string | null; secFetchSite?: string } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const origin = opts.origin === undefined ? new URL(this.p.issuer).origin : opts.origin;
    if (origin !== null) headers.origin = origin;
    if (opts.secFetchSite) headers['sec-fetch-site'] = opts.secFetchSite;
    const body = new URLSearchParams(Object.entries(form).filter((e): e is [string, string] => e[1] !== undefined));
    const res = await this.browser.fetch(`${this.p.issuer}${path}`, { method: 'POST', headers, body });
    return { status: res.status, html: await res.text(), location: res.headers.get('location'), headers: res.headers };
  }

  async signIn(who = ADMIN) {
    const out = await this.post('/admin/login', { username: who.username, password: who.password });
    if (out.status !== 303) throw new Error(`sign-in failed: ${out.status} ${out.html.slice(0, 300)}`);
    return out;
  }

  /** The CSRF token of the signed-in session (read off any console page). */
  async csrf(): Promise<string> {
    const { csrf } = await this.page('/admin/apps');
    if (!csrf) throw new Error('no CSRF token on the console page (not signed in?)');
    return csrf;
  }
}
