import { expect } from 'vitest';
import { nanoid } from 'nanoid';
import { asWechat } from '../../provider/src/oidc/flows.js';
import { TestBrowser } from '../support/browser.js';
import { signedInPhone, type Phone } from '../support/flow.js';
import { startTestProvider, type StorageKind, type TestProvider } from '../support/harness.js';

export const SITE = 'http://127.0.0.1:5999';
export const CALLBACK = `${SITE}/wechat/callback`;

/** A real provider (app.ts mounts the WeChat facade before provider.callback()). */
export async function startWechatProvider(kind: StorageKind = 'services', env: Record<string, string> = {}): Promise<TestProvider> {
  return startTestProvider(kind, env);
}

/** A WeChat-style app: AppID + AppSecret, a callback domain, optionally a developer account. */
export async function wechatApp(p: TestProvider, input: Record<string, unknown> = {}) {
  return p.saoma.apps.create({ name: 'WeChat Site', redirectUris: [`${SITE}/oidc/callback`], callbackDomain: '127.0.0.1', ...input });
}

export const qrconnectUrl = (p: TestProvider, params: Record<string, string>) =>
  `${p.issuer}/connect/qrconnect?${new URLSearchParams({ response_type: 'code', scope: 'snsapi_login', ...params })}#wechat_redirect`;

/** `/sns/...` as a site's server calls it: GET with query parameters, JSON back. */
export async function sns(p: TestProvider, path: string, params: Record<string, string>) {
  const res = await fetch(`${p.issuer}/sns/${path}?${new URLSearchParams(params)}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> };
}

/**
 * The browser side of a WeChat website login: qrconnect → QR page → phone → callback. Returns
 * the URL the browser lands on (the site's redirect_uri with code and state).
 */
export async function wechatLogin(p: TestProvider, appId: string, phone: Phone, opts: { deny?: boolean; redirectUri?: string; state?: string } = {}) {
  const browser = new TestBrowser();
  const redirectUri = opts.redirectUri ?? CALLBACK;
  const state = opts.state ?? nanoid(12);
  const { url, res } = await browser.navigate(qrconnectUrl(p, { appid: appId, redirect_uri: redirectUri, state }));
  const uid = /\/interaction\/([^/?#]+)$/.exec(url.pathname)?.[1];
  if (!uid || res?.status !== 200) throw new Error(`expected the QR page, got ${res?.status} at ${url}`);
  const qr = (await (await browser.fetch(`${p.issuer}/interaction/${uid}/qr`)).json()) as { qrId: string; payload: string };
  await expectOk(phone.scan(qr.payload));
  await expectOk(opts.deny ? phone.deny(qr.qrId) : phone.confirm(qr.qrId));
  const done = await browser.navigate(`${p.issuer}/interaction/${uid}/complete`, (u) => u.href.startsWith(redirectUri.split('?')[0]));
  return { landed: done.url, state, browser, uid };
}

/** A whole WeChat login and code exchange: what the site's server ends up with. */
export async function wechatTokens(p: TestProvider, app: { appId: string; appSecret: string }, phone: Phone) {
  const { landed } = await wechatLogin(p, app.appId, phone);
  const code = landed.searchParams.get('code')!;
  const { body } = await sns(p, 'oauth2/access_token', { appid: app.appId, secret: app.appSecret, code, grant_type: 'authorization_code' });
  return { code, tokens: body as { access_token: string; refresh_token: string; openid: string; unionid: string; expires_in: number; scope: string } };
}

/**
 * Codes and tokens made directly through oidc-provider's models, e.g. with an expiry in the
 * past (the provider has no TTL knobs; this is how expiry is tested without waiting).
 */
export async function viaModels(p: TestProvider, appId: string, accountId: string, opts: { scope?: string; expiredSecondsAgo?: number } = {}) {
  const { provider } = p.saoma;
  const client = (await provider.Client.find(appId))!;
  const scope = opts.scope ?? 'openid profile offline_access';
  const grant = new provider.Grant({ accountId, clientId: appId });
  grant.addOIDCScope(scope);
  const grantId = await grant.save();
  const now = Math.floor(Date.now() / 1000);
  const timing = opts.expiredSecondsAgo === undefined ? {} : { iat: now - 3600, exp: now - opts.expiredSecondsAgo };
  const common = { client, accountId, grantId, scope, expiresWithSession: false, ...timing };
  return {
    grantId,
    // As the WeChat flow issues them (oidc/flows.ts): only those redeem at /sns.
    code: () => asWechat(() => new provider.AuthorizationCode({ ...common, gty: 'authorization_code', redirectUri: CALLBACK }).save()),
    accessToken: () => asWechat(() => new provider.AccessToken({ ...common, gty: 'authorization_code' }).save()),
    refreshToken: () => asWechat(() => new provider.RefreshToken({ ...common, gty: 'authorization_code', rotations: 0 }).save()),
    /** The same, issued by the plain OIDC flow. */
    oidcCode: () => new provider.AuthorizationCode({ ...common, gty: 'authorization_code', redirectUri: CALLBACK }).save(),
    oidcRefreshToken: () => new provider.RefreshToken({ ...common, gty: 'authorization_code', rotations: 0 }).save(),
  };
}

async function expectOk(res: Promise<Response>) {
  const r = await res;
  if (r.status !== 200) throw new Error(`phone: ${r.status} ${await r.text()}`);
}

export { signedInPhone };

/**
 * A WeChat error body: its errcode, and its errmsg followed by the request id as WeChat appends
 * its own (`invalid code, rid: …`).
 */
export const wechatError = (errcode: number, errmsg: string) => ({
  errcode,
  errmsg: expect.stringMatching(new RegExp(`^${errmsg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, rid: [A-Za-z0-9._-]+$`)),
});
