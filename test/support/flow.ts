import * as oidc from 'openid-client';
import { nanoid } from 'nanoid';
import { TestBrowser } from './browser.js';
import { contractFetch } from './contract.js';
import type { TestProvider } from './harness.js';

export const REDIRECT_URI = 'http://127.0.0.1:5999/callback';

/** A registered app and an openid-client Configuration for it, as a real site would hold. */
export async function registerSite(p: TestProvider, input: Record<string, unknown> = {}) {
  const app = await p.saoma.apps.create({ name: 'Test Site', redirectUris: [REDIRECT_URI], ...input });
  const config = await oidc.discovery(new URL(p.issuer), app.appId, undefined, oidc.ClientSecretBasic(app.appSecret), {
    execute: [oidc.allowInsecureRequests],
  });
  return { app, config };
}

/** An openid-client Configuration for an app registered elsewhere (e.g. by the admin CLI). */
export async function siteConfig(p: TestProvider, appId: string, appSecret: string) {
  return oidc.discovery(new URL(p.issuer), appId, undefined, oidc.ClientSecretBasic(appSecret), { execute: [oidc.allowInsecureRequests] });
}

/**
 * A phone: a user registered and signed in through the phone API. Every answer it gets is
 * checked against the published contract (/api/mobile/openapi.json, support/contract.ts).
 */
export async function signedInPhone(
  p: TestProvider,
  username = `u${nanoid(8)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}`,
) {
  const password = 'correct horse battery';
  const reg = await contractFetch(p.issuer, `${p.issuer}/api/mobile/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, nickname: `Nick ${username}` }),
  });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
  const login = await contractFetch(p.issuer, `${p.issuer}/api/mobile/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, deviceName: 'test phone' }),
  });
  const { token, user } = (await login.json()) as { token: string; user: { id: string; nickname: string } };
  return phoneOf(p, { token, user, username, password });
}

/** The phone API calls of a device signed in with `token`, each checked against the contract. */
export function phoneOf<T extends { token: string }>(p: { issuer: string }, signedIn: T) {
  const { token } = signedIn;
  const call = (method: string, path: string, body?: unknown) =>
    contractFetch(p.issuer, `${p.issuer}/api/mobile${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  return {
    ...signedIn,
    call,
    scan: (payload: string) => call('POST', '/scans', { payload }),
    confirm: (qrId: string) => call('POST', `/scans/${qrId}/confirm`),
    deny: (qrId: string) => call('POST', `/scans/${qrId}/deny`),
  };
}

export type Phone = Awaited<ReturnType<typeof signedInPhone>>;

/** Where a site sends a browser to log in: REDIRECT_URI, scope `openid`, PKCE (S256) with a fresh verifier; `params` on top. */
export async function authorizationUrl(config: oidc.Configuration, params: Record<string, string> = {}) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...params,
  });
  return { url, codeVerifier };
}

/** A browser that has been sent to the provider by a site and is looking at the QR page. */
export async function beginLogin(p: TestProvider, config: oidc.Configuration, params: Record<string, string> = {}) {
  const browser = new TestBrowser();
  const state = oidc.randomState();
  const { url, codeVerifier } = await authorizationUrl(config, { scope: 'openid profile', state, ...params });
  const { url: pageUrl, res } = await browser.navigate(url);
  const html = res ? await res.text() : '';
  const uid = /\/interaction\/([^/?#]+)$/.exec(pageUrl.pathname)?.[1];
  if (!uid || res?.status !== 200) throw new Error(`expected the QR page, got ${res?.status} at ${pageUrl}: ${html.slice(0, 300)}`);
  const qr = async () => {
    const r = await browser.fetch(`${p.issuer}/interaction/${uid}/qr`);
    return { status: r.status, body: (await r.json()) as { qrId: string; payload: string; status: string; expiresAt: string; svg: string } };
  };
  return {
    browser,
    uid,
    html,
    state,
    codeVerifier,
    qr,
    /** Go to /complete and follow redirects until the site's callback URL. */
    async complete() {
      return browser.navigate(`${p.issuer}/interaction/${uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    },
  };
}

/** Site side: exchange the callback URL for tokens and fetch the profile, as openid-client does. */
export async function finishAtSite(config: oidc.Configuration, callback: URL, login: { state: string; codeVerifier: string }) {
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
  const claims = tokens.claims()!;
  const profile = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  return { tokens, claims, profile };
}

/**
 * The whole login, phone included; returns what the site ends up with. `offline`: ask for
 * `offline_access` too (a refresh token comes only with it, and OIDC keeps it only with
 * prompt=consent).
 */
export async function fullLogin(p: TestProvider, config: oidc.Configuration, phone: Pick<Phone, 'scan' | 'confirm'>, opts: { offline?: boolean } = {}) {
  const login = await beginLogin(p, config, opts.offline ? { scope: 'openid profile offline_access', prompt: 'consent' } : {});
  const { body } = await login.qr();
  const scanned = await phone.scan(body.payload);
  if (scanned.status !== 200) throw new Error(`scan: ${scanned.status} ${await scanned.text()}`);
  const confirmed = await phone.confirm(body.qrId);
  if (confirmed.status !== 200) throw new Error(`confirm: ${confirmed.status} ${await confirmed.text()}`);
  const { url } = await login.complete();
  return { login, callback: url, ...(await finishAtSite(config, url, login)) };
}
