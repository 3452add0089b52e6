import { beforeAll, describe, expect, it } from 'vitest';
import type { Phone } from '../support/flow.js';
import { signedInPhone, sns, wechatApp, wechatLogin, wechatError } from './support.js';
import { useProvider } from '../support/harness.js';

/**
 * /sns accepts what WeChat's servers accept: besides GET with a query string, POST with a form
 * body (passport-weixin, grant-style generic OAuth code), the query (Auth.js puts appid and
 * secret there), and the AppID and AppSecret in HTTP Basic (Auth.js adds it). Same answers,
 * same errcodes.
 */
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('the WeChat API over POST (embedded default)', () => {
  const p = useProvider('embedded');
  let app: { appId: string; appSecret: string };
  let phone: Phone;
  beforeAll(async () => {
    app = await wechatApp(p);
    phone = await signedInPhone(p);
  });

  const post = async (path: string, form: Record<string, string>, init: { query?: Record<string, string>; headers?: Record<string, string> } = {}) => {
    const query = init.query ? `?${new URLSearchParams(init.query)}` : '';
    const res = await fetch(`${p.issuer}/sns/${path}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...init.headers },
      body: new URLSearchParams(form),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const code = async () => (await wechatLogin(p, app.appId, phone)).landed.searchParams.get('code')!;

  it('exchanges a code POSTed as a form body (passport-weixin), and a reuse answers 40163 as over GET', async () => {
    const c = await code();
    const form = {
      appid: app.appId,
      secret: app.appSecret,
      code: c,
      grant_type: 'authorization_code',
      client_id: app.appId,
      redirect_uri: 'http://127.0.0.1:5999/cb',
    };
    const first = await post('oauth2/access_token', form);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 7200,
      openid: expect.any(String),
      unionid: expect.any(String),
    });
    const { access_token, openid, refresh_token } = first.body as Record<string, string>;
    expect((await post('auth', { access_token, openid })).body).toEqual({ errcode: 0, errmsg: 'ok' });
    expect((await post('userinfo', { access_token, openid, lang: 'zh_CN' })).body).toMatchObject({ openid, nickname: phone.user.nickname });
    const refreshed = await post('oauth2/refresh_token', { appid: app.appId, grant_type: 'refresh_token', refresh_token });
    expect(refreshed.body).toMatchObject({ openid, access_token: expect.any(String) });
    // A reuse revokes what the first redemption issued, over POST as over GET.
    expect((await post('oauth2/access_token', form)).body).toEqual(wechatError(40163, 'code been used'));
    expect((await post('auth', { access_token, openid })).body.errcode).toBe(40001);
  });

  it("takes Auth.js's shape: appid and secret in the query, the same in Basic, code and grant_type in the body", async () => {
    const c = await code();
    const res = await post(
      'oauth2/access_token',
      { grant_type: 'authorization_code', code: c, redirect_uri: 'http://127.0.0.1:5999/cb' },
      {
        query: { appid: app.appId, secret: app.appSecret },
        headers: { authorization: basic(app.appId, app.appSecret) },
      },
    );
    expect(res.body).toMatchObject({ access_token: expect.any(String), openid: expect.any(String) });
  });

  it('takes the AppID and AppSecret from Basic alone; a wrong secret there is 40125', async () => {
    const c = await code();
    const wrong = await post(
      'oauth2/access_token',
      { grant_type: 'authorization_code', code: c },
      { headers: { authorization: basic(app.appId, 'not-the-secret') } },
    );
    expect(wrong.body).toEqual(wechatError(40125, 'invalid appsecret'));
    const right = await post(
      'oauth2/access_token',
      { grant_type: 'authorization_code', code: c },
      { headers: { authorization: basic(app.appId, app.appSecret) } },
    );
    expect(right.body).toMatchObject({ access_token: expect.any(String) });
  });

  it('answers a POST missing a parameter with the same errcode as GET', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{ secret: 's', code: 'c', grant_type: 'authorization_code' }, 41002],
      [{ appid: app.appId, code: 'c', grant_type: 'authorization_code' }, 41004],
      [{ appid: app.appId, secret: 's', grant_type: 'authorization_code' }, 41008],
      [{ appid: app.appId, secret: 's', code: 'c', grant_type: 'client_credentials' }, 40002],
    ];
    for (const [form, errcode] of cases) {
      expect((await post('oauth2/access_token', form)).body.errcode, JSON.stringify(form)).toBe(errcode);
      expect((await sns(p, 'oauth2/access_token', form)).body.errcode, JSON.stringify(form)).toBe(errcode);
    }
  });

  it('answers 40097 when query, body and Basic disagree, or the body is too large', async () => {
    const conflicting = await post(
      'oauth2/access_token',
      { appid: 'wx-other', secret: app.appSecret, code: 'c', grant_type: 'authorization_code' },
      { query: { appid: app.appId } },
    );
    expect(conflicting.body).toEqual(wechatError(40097, 'invalid args'));
    const basicDisagrees = await post(
      'oauth2/access_token',
      { appid: app.appId, code: 'c', grant_type: 'authorization_code' },
      { headers: { authorization: basic('wx-other', 'x') } },
    );
    expect(basicDisagrees.body.errcode).toBe(40097);
    const huge = await post('oauth2/access_token', { appid: app.appId, pad: 'x'.repeat(40_000) });
    expect(huge).toEqual({ status: 200, body: wechatError(40097, 'invalid args') });
  });
});
