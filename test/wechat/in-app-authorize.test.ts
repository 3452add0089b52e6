import { nanoid } from 'nanoid';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import type { Phone } from '../support/flow.js';
import type { TestProvider } from '../support/harness.js';
import { CALLBACK, signedInPhone, sns, wechatApp, wechatError } from './support.js';
import { useProvider } from '../support/harness.js';

/**
 * /connect/oauth2/authorize, WeChat's in-app (Official Account) authorization, which Auth.js's
 * and grant's WeChat providers use by default: the same QR approval as /connect/qrconnect,
 * snsapi_userinfo standing for `openid profile` and snsapi_base for `openid` alone.
 */
const inAppUrl = (p: TestProvider, params: Record<string, string>) =>
  `${p.issuer}/connect/oauth2/authorize?${new URLSearchParams({ response_type: 'code', ...params })}#wechat_redirect`;

async function login(p: TestProvider, appId: string, phone: Phone, scope: string) {
  const browser = new TestBrowser();
  const state = nanoid(10);
  const { url, res } = await browser.navigate(inAppUrl(p, { appid: appId, redirect_uri: CALLBACK, scope, state }));
  const uid = /\/interaction\/([^/?#]+)$/.exec(url.pathname)?.[1];
  if (!uid || res?.status !== 200) throw new Error(`expected the QR page, got ${res?.status} at ${url}`);
  const qr = (await (await browser.fetch(`${p.issuer}/interaction/${uid}/qr`)).json()) as { qrId: string; payload: string };
  const scan = (await (await phone.scan(qr.payload)).json()) as { scopes: string[] };
  expect((await phone.confirm(qr.qrId)).status).toBe(200);
  const done = await browser.navigate(`${p.issuer}/interaction/${uid}/complete`, (u) => u.href.startsWith(CALLBACK));
  expect(done.url.searchParams.get('state')).toBe(state);
  return { code: done.url.searchParams.get('code')!, scopes: scan.scopes };
}

describe('GET /connect/oauth2/authorize (embedded default)', () => {
  const p = useProvider('embedded');
  let app: { appId: string; appSecret: string };
  let phone: Phone;
  beforeAll(async () => {
    app = await wechatApp(p);
    phone = await signedInPhone(p);
  });

  const exchange = async (code: string) =>
    (await sns(p, 'oauth2/access_token', { appid: app.appId, secret: app.appSecret, code, grant_type: 'authorization_code' })).body as Record<string, string>;

  it('snsapi_userinfo: the QR approval of qrconnect, then the profile at /sns/userinfo', async () => {
    const { code, scopes } = await login(p, app.appId, phone, 'snsapi_userinfo');
    expect(scopes).toEqual(expect.arrayContaining(['openid', 'profile']));
    const tokens = await exchange(code);
    expect(tokens).toMatchObject({ access_token: expect.any(String), openid: expect.any(String), scope: 'snsapi_login' });
    const user = await sns(p, 'userinfo', { access_token: tokens.access_token, openid: tokens.openid });
    expect(user.body).toMatchObject({ openid: tokens.openid, nickname: phone.user.nickname });
  });

  it('snsapi_base: the openid only; /sns/userinfo answers 48001 as WeChat does, /sns/auth is fine', async () => {
    const { code, scopes } = await login(p, app.appId, phone, 'snsapi_base');
    expect(scopes).not.toContain('profile');
    const tokens = await exchange(code);
    expect(tokens).toMatchObject({ openid: expect.any(String), scope: 'snsapi_base' });
    expect((await sns(p, 'userinfo', { access_token: tokens.access_token, openid: tokens.openid })).body).toEqual(wechatError(48001, 'api unauthorized'));
    expect((await sns(p, 'auth', { access_token: tokens.access_token, openid: tokens.openid })).body).toEqual({ errcode: 0, errmsg: 'ok' });
  });

  it('answers a bad scope, appid or redirect_uri with the WeChat-style error page (400, no redirect), never a 404', async () => {
    const browser = new TestBrowser();
    const cases: Array<[Record<string, string>, string]> = [
      [{ appid: app.appId, redirect_uri: CALLBACK, scope: 'snsapi_login' }, 'Scope 参数错误'],
      [{ appid: 'wx0000000000000000', redirect_uri: CALLBACK, scope: 'snsapi_userinfo' }, 'AppID 参数错误'],
      [{ appid: app.appId, redirect_uri: 'https://evil.example/cb', scope: 'snsapi_userinfo' }, 'redirect_uri 参数错误'],
    ];
    for (const [params, text] of cases) {
      const res = await browser.fetch(inAppUrl(p, params));
      expect([res.status, res.headers.get('location')], JSON.stringify(params)).toEqual([400, null]);
      expect(await res.text()).toContain(text);
    }
  });
});
