import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { CALLBACK, signedInPhone, wechatApp } from './support.js';
import { useProvider } from '../support/harness.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

type Callback<T> = (err: (Error & { code?: number }) | null, result: T) => void;
interface WechatOAuth {
  request(url: string, opts: unknown, cb: unknown): void;
  getAuthorizeURLForWebsite(redirect: string, state?: string, scope?: string): string;
  getAccessToken(code: string, cb: Callback<{ data: Record<string, string | number> }>): void;
  getUser(openid: string, cb: Callback<Record<string, unknown>>): void;
  verifyToken(openid: string, accessToken: string, cb: Callback<Record<string, unknown>>): void;
  refreshAccessToken(refreshToken: string, cb: Callback<{ data: Record<string, string | number> }>): void;
}
const OAuth = createRequire(import.meta.url)('wechat-oauth') as new (appid: string, secret: string) => WechatOAuth;

/**
 * An unmodified WeChat client library (wechat-oauth on npm) pointed at Saoma: its WeChat hosts
 * (hard-coded in lib/oauth.js) are rewritten in its one `request` method, and in the authorize
 * URL it builds. Nothing else changes: the compatibility a migrating site relies on.
 */
function pointedAt(issuer: string, appid: string, secret: string): WechatOAuth {
  const api = new OAuth(appid, secret);
  const request = api.request.bind(api);
  api.request = (url, opts, cb) => request(url.replace('https://api.weixin.qq.com', issuer), opts, cb);
  const authorize = api.getAuthorizeURLForWebsite.bind(api);
  api.getAuthorizeURLForWebsite = (...args) => authorize(...args).replace('https://open.weixin.qq.com', issuer);
  return api;
}

const call = <T>(fn: (cb: Callback<T>) => void) => new Promise<T>((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));

describe.skipIf(servicesMissing)('the wechat-oauth npm library works against Saoma unchanged (PostgreSQL + Redis)', () => {
  const p = useProvider('services');

  it('logs in, exchanges the code, reads the user, verifies and refreshes the token, and sees 40163 on reuse', async () => {
    const app = await wechatApp(p);
    const api = pointedAt(p.issuer, app.appId, app.appSecret);
    const phone = await signedInPhone(p);

    const browser = new TestBrowser();
    const authorizeUrl = api.getAuthorizeURLForWebsite(CALLBACK, 'lib-state');
    expect(authorizeUrl).toMatch(new RegExp(`^${p.issuer}/connect/qrconnect\\?.*#wechat_redirect$`));
    const { url } = await browser.navigate(authorizeUrl);
    const uid = url.pathname.split('/').pop()!;
    const qr = (await (await browser.fetch(`${p.issuer}/interaction/${uid}/qr`)).json()) as { qrId: string; payload: string };
    await phone.scan(qr.payload);
    await phone.confirm(qr.qrId);
    const { url: landed } = await browser.navigate(`${p.issuer}/interaction/${uid}/complete`, (u) => u.href.startsWith(CALLBACK));
    expect(landed.searchParams.get('state')).toBe('lib-state');
    const code = landed.searchParams.get('code')!;

    const token = await call<{ data: Record<string, string | number> }>((cb) => api.getAccessToken(code, cb));
    expect(token.data).toMatchObject({ expires_in: 7200, scope: 'snsapi_login' });
    const openid = String(token.data.openid);

    const user = await call<Record<string, unknown>>((cb) => api.getUser(openid, cb));
    expect(user).toMatchObject({ openid, nickname: phone.user.nickname, unionid: token.data.unionid });
    expect(await call<Record<string, unknown>>((cb) => api.verifyToken(openid, String(token.data.access_token), cb))).toMatchObject({ errcode: 0 });
    const refreshed = await call<{ data: Record<string, string | number> }>((cb) => api.refreshAccessToken(String(token.data.refresh_token), cb));
    expect(refreshed.data.openid).toBe(openid);

    const reuse = await call((cb) => api.getAccessToken(code, cb)).catch((err: unknown) => err);
    expect(reuse).toMatchObject({ name: 'WeChatAPIError', code: 40163 });
  });
});
