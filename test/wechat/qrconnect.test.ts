import { nanoid } from 'nanoid';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { CALLBACK, qrconnectUrl, signedInPhone, SITE, sns, wechatApp, wechatLogin, wechatError } from './support.js';
import { useProvider } from '../support/harness.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

/** The first response to a qrconnect request, redirects not followed. */
async function open(p: TestProvider, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await new TestBrowser().fetch(qrconnectUrl(p, params), { headers });
  return { status: res.status, location: res.headers.get('location'), type: res.headers.get('content-type') ?? '', html: await res.text() };
}

describe.skipIf(servicesMissing)('GET /connect/qrconnect: WeChat website login in the browser (PostgreSQL + Redis)', () => {
  const p = useProvider('services');
  let app: Awaited<ReturnType<typeof wechatApp>>;
  beforeAll(async () => {
    app = await wechatApp(p);
  });

  it('shows the same QR page as OIDC and, once the phone confirms, lands on redirect_uri?code=CODE&state=STATE', async () => {
    const phone = await signedInPhone(p);
    const { landed, state } = await wechatLogin(p, app.appId, phone);
    expect(landed.origin + landed.pathname).toBe(CALLBACK);
    expect([...landed.searchParams.keys()]).toEqual(['code', 'state']);
    expect(landed.searchParams.get('state')).toBe(state);
    expect(landed.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });

  it('goes through oidc-provider: qrconnect redirects to the authorization endpoint, then to the interaction page', async () => {
    const first = await open(p, { appid: app.appId, redirect_uri: CALLBACK, state: 'S1' });
    expect(first.status).toBe(302);
    const auth = new URL(first.location!, p.issuer);
    expect(auth.pathname).toBe('/auth');
    expect(auth.searchParams.get('client_id')).toBe(app.appId);
    expect(auth.searchParams.get('response_mode')).toBe('wechat');
    const browser = new TestBrowser();
    const { url, res } = await browser.navigate(qrconnectUrl(p, { appid: app.appId, redirect_uri: CALLBACK, state: 'S1' }));
    expect(url.pathname).toMatch(/^\/interaction\/[^/]+$/);
    expect(res!.status).toBe(200);
    expect(await res!.text()).toContain('WeChat Site');
  });

  it('sends a denial back as redirect_uri?state=STATE with no code and no error parameter', async () => {
    const phone = await signedInPhone(p);
    const { landed, state } = await wechatLogin(p, app.appId, phone, { deny: true });
    expect(landed.origin + landed.pathname).toBe(CALLBACK);
    expect([...landed.searchParams.keys()]).toEqual(['state']);
    expect(landed.searchParams.get('state')).toBe(state);
  });

  it('echoes an absent state as an empty one, and keeps the query already in redirect_uri', async () => {
    const phone = await signedInPhone(p);
    const redirectUri = `${SITE}/wechat/callback?from=%2Fcart`;
    const { landed } = await wechatLogin(p, app.appId, phone, { redirectUri, state: '' });
    expect(landed.search).toMatch(/^\?from=%2Fcart&code=[A-Za-z0-9_-]+&state=$/);
  });

  it('accepts any redirect_uri on the callback domain, including one not registered for OIDC', async () => {
    const phone = await signedInPhone(p);
    const { landed } = await wechatLogin(p, app.appId, phone, { redirectUri: `${SITE}/some/other/path` });
    expect(landed.pathname).toBe('/some/other/path');
    expect(landed.searchParams.get('code')).toBeTruthy();
  });

  it('leaves OIDC requests on the registered redirect URIs: the callback domain is a WeChat-only rule', async () => {
    const url = `${p.issuer}/auth?${new URLSearchParams({ client_id: app.appId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid', state: 'x' })}`;
    const res = await new TestBrowser().fetch(url);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('redirect_uri');
  });

  it('keeps the callback-domain rule when someone skips qrconnect and sends response_mode=wechat to /auth', async () => {
    const params = { client_id: app.appId, response_type: 'code', scope: 'openid profile', response_mode: 'wechat', state: 'x' };
    const off = await new TestBrowser().fetch(`${p.issuer}/auth?${new URLSearchParams({ ...params, redirect_uri: 'https://evil.example/cb' })}`);
    expect(off.status).toBe(400);
    expect(off.headers.get('location')).toBeNull();
    const on = await new TestBrowser().fetch(`${p.issuer}/auth?${new URLSearchParams({ ...params, redirect_uri: `${SITE}/anything` })}`);
    expect(on.status).toBe(303);
    expect(on.headers.get('location')).toMatch(/\/interaction\//);
  });

  it('shows an error page instead of sending any other OAuth error back to the site (e.g. prompt=none)', async () => {
    const query = {
      client_id: app.appId,
      response_type: 'code',
      scope: 'openid profile',
      response_mode: 'wechat',
      state: 'x',
      redirect_uri: CALLBACK,
      prompt: 'none',
    };
    const res = await new TestBrowser().fetch(`${p.issuer}/auth?${new URLSearchParams(query)}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('授权失败');
  });

  it('shows an error page, never a redirect, for a redirect_uri off the callback domain', async () => {
    for (const redirectUri of [
      'https://evil.example/cb',
      `http://sub.127.0.0.1.nip.io/cb`,
      `${SITE.replace('127.0.0.1', 'localhost')}/cb`,
      'javascript:alert(1)',
    ]) {
      const r = await open(p, { appid: app.appId, redirect_uri: redirectUri, state: 'S' });
      expect(r.status, redirectUri).toBe(400);
      expect(r.location).toBeNull();
      expect(r.type).toContain('text/html');
      expect(r.html).toContain('redirect_uri 参数错误');
    }
  });

  it('shows an error page for an unknown or missing appid, a bad scope and a bad response_type', async () => {
    const unknown = await open(p, { appid: 'wx0000000000000000', redirect_uri: CALLBACK });
    expect([unknown.status, unknown.location]).toEqual([400, null]);
    expect(unknown.html).toContain('AppID 参数错误');
    expect((await open(p, { redirect_uri: CALLBACK })).html).toContain('AppID 参数错误');

    const scope = await open(p, { appid: app.appId, redirect_uri: CALLBACK, scope: 'snsapi_userinfo' });
    expect([scope.status, scope.location]).toEqual([400, null]);
    expect(scope.html).toContain('Scope 参数错误');

    const type = await open(p, { appid: app.appId, redirect_uri: CALLBACK, response_type: 'token' });
    expect([type.status, type.location]).toEqual([400, null]);
    expect(type.html).toContain('response_type');
  });

  it('speaks English when asked (lang=en or Accept-Language) and Chinese by default', async () => {
    const en = await open(p, { appid: 'nope', redirect_uri: CALLBACK, lang: 'en' });
    expect(en.html).toContain('Invalid AppID');
    const accept = await open(p, { appid: 'nope', redirect_uri: CALLBACK }, { 'accept-language': 'en-GB,en;q=0.8' });
    expect(accept.html).toContain('This link cannot be opened');
    const zh = await open(p, { appid: 'nope', redirect_uri: CALLBACK });
    expect(zh.html).toContain('该链接无法访问');
  });

  it('treats a repeated parameter as a malformed request (error page)', async () => {
    const url = `${qrconnectUrl(p, { appid: app.appId, redirect_uri: CALLBACK }).split('#')[0]}&redirect_uri=${encodeURIComponent('https://evil.example/')}`;
    const res = await new TestBrowser().fetch(url);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('escapes what it echoes: no markup from the request reaches the error page', async () => {
    const r = await open(p, { appid: '<script>alert(1)</script>', redirect_uri: '"><img src=x onerror=alert(1)>', lang: 'en' });
    expect(r.html).not.toContain('<script>alert');
    expect(r.html).not.toContain('<img src=x');
  });

  it('refuses a disabled app with an error page, and its codes stop working (40013)', async () => {
    const other = await wechatApp(p, { name: 'Soon disabled' });
    const phone = await signedInPhone(p);
    const { landed } = await wechatLogin(p, other.appId, phone);
    await p.saoma.apps.setStatus(other.appId, 'disabled');
    const page = await open(p, { appid: other.appId, redirect_uri: CALLBACK });
    expect([page.status, page.location]).toEqual([400, null]);
    expect(page.html).toContain('AppID 参数错误');
    const exchange = await sns(p, 'oauth2/access_token', {
      appid: other.appId,
      secret: other.appSecret,
      code: landed.searchParams.get('code')!,
      grant_type: 'authorization_code',
    });
    expect(exchange.body).toEqual(wechatError(40013, 'invalid appid'));
  });

  it('without a callback domain, accepts exactly the registered redirect URIs', async () => {
    const strict = await p.saoma.apps.create({ name: 'No domain', redirectUris: [`${SITE}/only/here`] });
    const phone = await signedInPhone(p);
    const { landed } = await wechatLogin(p, strict.appId, phone, { redirectUri: `${SITE}/only/here` });
    expect(landed.searchParams.get('code')).toBeTruthy();
    const elsewhere = await open(p, { appid: strict.appId, redirect_uri: `${SITE}/only/here/not`, state: nanoid() });
    expect([elsewhere.status, elsewhere.location]).toEqual([400, null]);
  });
});
