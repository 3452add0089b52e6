import { beforeAll, describe, expect, it } from 'vitest';
import { CALLBACK, qrconnectUrl, signedInPhone, sns, viaModels, wechatApp, wechatLogin, wechatTokens } from './support.js';
import { useProvider } from '../support/harness.js';

/** The zero-setup default (PGlite + in-memory store) serves the WeChat facade with the same guarantees. */
describe('the WeChat facade on the embedded default (PGlite + memory store)', () => {
  const p = useProvider('embedded');
  let app: Awaited<ReturnType<typeof wechatApp>>;
  let phone: Awaited<ReturnType<typeof signedInPhone>>;
  beforeAll(async () => {
    app = await wechatApp(p);
    phone = await signedInPhone(p);
  });

  it('logs in through qrconnect, exchanges the code, refreshes and reads the profile', async () => {
    const { tokens } = await wechatTokens(p, app, phone);
    expect(tokens).toMatchObject({ expires_in: 7200, scope: 'snsapi_login' });
    const refreshed = await sns(p, 'oauth2/refresh_token', { appid: app.appId, grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    const profile = await sns(p, 'userinfo', { access_token: String(refreshed.body.access_token), openid: tokens.openid });
    expect(profile.body).toMatchObject({ openid: tokens.openid, nickname: phone.user.nickname, unionid: tokens.unionid });
  });

  it('lets one of 20 concurrent redemptions win; reuse answers 40163 and revokes', async () => {
    const code = (await wechatLogin(p, app.appId, phone)).landed.searchParams.get('code')!;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => sns(p, 'oauth2/access_token', { appid: app.appId, secret: app.appSecret, code, grant_type: 'authorization_code' })),
    );
    const winner = results.find((r) => r.body.access_token);
    expect(results.filter((r) => r.body.access_token)).toHaveLength(1);
    expect(results.filter((r) => r.body.errcode === 40163)).toHaveLength(19);
    expect((await sns(p, 'auth', { access_token: String(winner!.body.access_token), openid: String(winner!.body.openid) })).body.errcode).toBe(40001);
  });

  it('tells expired from invalid: 42003, 42001, 42002', async () => {
    const models = await viaModels(p, app.appId, phone.user.id, { expiredSecondsAgo: 5 });
    const exchange = await sns(p, 'oauth2/access_token', {
      appid: app.appId,
      secret: app.appSecret,
      code: await models.code(),
      grant_type: 'authorization_code',
    });
    expect(exchange.body.errcode).toBe(42003);
    const { tokens } = await wechatTokens(p, app, phone);
    expect((await sns(p, 'auth', { access_token: await models.accessToken(), openid: tokens.openid })).body.errcode).toBe(42001);
    const refresh = await sns(p, 'oauth2/refresh_token', { appid: app.appId, grant_type: 'refresh_token', refresh_token: await models.refreshToken() });
    expect(refresh.body.errcode).toBe(42002);
  });

  it('completes an embedded QR login without cookies', async () => {
    const res = await fetch(qrconnectUrl(p, { appid: app.appId, redirect_uri: CALLBACK, state: 'E', login_type: 'jssdk' }));
    const html = await res.text();
    const config = JSON.parse(/id="wx-config">([\s\S]*?)<\/script>/.exec(html)![1]) as { token: string; qrId: string };
    await phone.scan(config.qrId);
    await phone.confirm(config.qrId);
    const done = await fetch(`${p.issuer}/connect/embed/${config.token}/complete`, { redirect: 'manual' });
    const landed = new URL(done.headers.get('location')!);
    expect(landed.searchParams.get('state')).toBe('E');
    const tokens = await sns(p, 'oauth2/access_token', {
      appid: app.appId,
      secret: app.appSecret,
      code: landed.searchParams.get('code')!,
      grant_type: 'authorization_code',
    });
    expect(tokens.body.access_token).toBeTruthy();
  });
});
