/**
 * Shared by the client-library tests: each library runs unchanged inside a tiny site (a real
 * HTTP server on a free port) or as the site's server-side code, pointed at a real provider
 * started in-process. The browser is a cookie-keeping HTTP client (TestBrowser); the phone is
 * the phone API. Nothing of the provider is mocked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { nanoid } from 'nanoid';
import { TestBrowser } from '../support/browser.js';
import type { TestProvider } from '../support/harness.js';

export const PICTURE = 'https://avatars.example/u/1.png';

/** A site: any request listener (express app, grant, Auth.js) on 127.0.0.1 and a free port. */
export async function startSite(handler: RequestListener): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Registers an app the way an admin would (the admin API's own validation). `pkce: false` is
 * for libraries that send no PKCE: new apps may require it (the per-app `requirePkce` switch).
 */
export async function registerApp(p: TestProvider, input: Record<string, unknown>, opts: { pkce?: boolean } = {}) {
  const body = { name: 'Library Site', ...input, ...(opts.pkce === false ? { requirePkce: false } : {}) };
  try {
    return await p.saoma.apps.create(body);
  } catch (err) {
    // Before the requirePkce switch exists, the strict schema refuses the unknown field.
    if (opts.pkce === false && /requirePkce/.test((err as Error).message)) return p.saoma.apps.create({ name: 'Library Site', ...input });
    throw err;
  }
}

/** A person with a phone signed in, and a nickname and picture the site should end up with. */
export async function personWithPhone(p: TestProvider) {
  const username = `u${nanoid(8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`;
  const password = 'correct horse battery';
  const nickname = `Nick ${username}`;
  await p.saoma.users.register({ username, password, nickname, picture: PICTURE });
  const login = await fetch(`${p.issuer}/api/mobile/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, deviceName: 'test phone' }),
  });
  if (login.status !== 200) throw new Error(`phone login: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${p.issuer}/api/mobile${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  return { username, nickname, picture: PICTURE, call };
}
export type Person = Awaited<ReturnType<typeof personWithPhone>>;

/**
 * The person's side of a login: the browser, already on the QR page (`/interaction/:uid`),
 * shows a QR; the phone scans it and confirms (or denies). Returns the scan's view for checks.
 */
export async function decideOnPhone(p: TestProvider, browser: TestBrowser, qrPage: URL, person: Person, decision: 'confirm' | 'deny' = 'confirm') {
  const uid = /\/interaction\/([^/?#]+)$/.exec(qrPage.pathname)?.[1];
  if (!uid) throw new Error(`not a QR page: ${qrPage}`);
  const qr = (await (await browser.fetch(`${p.issuer}/interaction/${uid}/qr`)).json()) as { qrId: string; payload: string };
  const scan = await person.call('POST', '/scans', { payload: qr.payload });
  if (scan.status !== 200) throw new Error(`scan: ${scan.status} ${await scan.text()}`);
  const view = (await scan.json()) as { scopes: string[]; app: { appId: string } };
  const decided = await person.call('POST', `/scans/${qr.qrId}/${decision}`);
  if (decided.status !== 200) throw new Error(`${decision}: ${decided.status} ${await decided.text()}`);
  return { uid, view };
}

/**
 * A whole login as a person does it: the browser starts at the site (`start`, optionally a
 * POST), is sent to Saoma's QR page, the phone decides, and the browser follows every
 * redirect from /complete through the site's callback to wherever the site finally lands.
 */
export async function loginThroughSite(
  p: TestProvider,
  person: Person,
  start: string | URL,
  opts: { init?: RequestInit; browser?: TestBrowser; decision?: 'confirm' | 'deny' } = {},
) {
  const browser = opts.browser ?? new TestBrowser();
  const { url: qrPage, res } = await browser.navigate(start, () => false, opts.init);
  if (res?.status !== 200 || !/\/interaction\/[^/]+$/.test(qrPage.pathname)) {
    throw new Error(`expected Saoma's QR page, got ${res?.status} at ${qrPage}: ${(await res?.text())?.slice(0, 300)}`);
  }
  await res.arrayBuffer();
  const { uid, view } = await decideOnPhone(p, browser, qrPage, person, opts.decision);
  const landed = await browser.navigate(`${p.issuer}/interaction/${uid}/complete`);
  return { browser, view, url: landed.url, res: landed.res! };
}

/** The JSON body of the page a login ended on, with its status for a clear failure. */
export async function jsonOf(res: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`expected JSON, got ${res.status}: ${text.slice(0, 400)}`);
  }
}
