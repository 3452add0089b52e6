import { beforeAll, describe, expect, it } from 'vitest';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { signedInPhone, sns, viaModels, wechatApp, wechatTokens, wechatError } from './support.js';
import { useProvider } from '../support/harness.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(servicesMissing)('refresh_token, auth and userinfo: WeChat semantics (PostgreSQL + Redis)', () => {
  const p = useProvider('services');
  let app: Awaited<ReturnType<typeof wechatApp>>;
  let phone: Awaited<ReturnType<typeof signedInPhone>>;
  beforeAll(async () => {
    app = await wechatApp(p);
    phone = await signedInPhone(p);
  });

  const refresh = (refreshToken: string, over: Record<string, string> = {}) =>
    sns(p, 'oauth2/refresh_token', { appid: app.appId, grant_type: 'refresh_token', refresh_token: refreshToken, ...over });
  const auth = (accessToken: string, openid: string) => sns(p, 'auth', { access_token: accessToken, openid });
  const userinfo = (accessToken: string, openid: string, lang = 'zh_CN') => sns(p, 'userinfo', { access_token: accessToken, openid, lang });

  describe('GET /sns/oauth2/refresh_token', () => {
    it('needs no secret, answers the same shape with a new access token, and keeps the refresh token reusable', async () => {
      const { tokens } = await wechatTokens(p, app, phone);
      const first = await refresh(tokens.refresh_token);
      expect(Object.keys(first.body).sort()).toEqual(['access_token', 'expires_in', 'openid', 'refresh_token', 'scope', 'unionid']);
      expect(first.body).toMatchObject({
        expires_in: 7200,
        refresh_token: tokens.refresh_token,
        openid: tokens.openid,
        unionid: tokens.unionid,
        scope: 'snsapi_login',
      });
      expect(first.body.access_token).not.toBe(tokens.access_token);
      const second = await refresh(tokens.refresh_token);
      expect(second.body.access_token).toBeTruthy();
      expect((await auth(String(second.body.access_token), tokens.openid)).body).toEqual({ errcode: 0, errmsg: 'ok' });
    });

    it('binds the refresh token to its AppID: another app presenting it gets 40030', async () => {
      const { tokens } = await wechatTokens(p, app, phone);
      const other = await wechatApp(p, { name: 'Other app' });
      expect((await refresh(tokens.refresh_token, { appid: other.appId })).body).toEqual(wechatError(40030, 'invalid refresh_token'));
      expect((await refresh(tokens.refresh_token)).body.access_token).toBeTruthy();
    });

    it('answers 40030 for an unknown or malformed refresh token, and 40013 for an unknown AppID', async () => {
      expect((await refresh('R'.repeat(43))).body).toEqual(wechatError(40030, 'invalid refresh_token'));
      expect((await refresh('bad token')).body.errcode).toBe(40030);
      expect((await refresh('R'.repeat(43), { appid: 'wx0123456789abcdef' })).body).toEqual(wechatError(40013, 'invalid appid'));
    });

    it('answers 42002 for an expired refresh token', async () => {
      const { refreshToken } = await viaModels(p, app.appId, phone.user.id, { expiredSecondsAgo: 5 });
      expect((await refresh(await refreshToken())).body).toEqual(wechatError(42002, 'refresh_token expired'));
    });

    it('names the missing parameter: 41002 appid, 41003 refresh_token, 40002 grant_type', async () => {
      expect((await sns(p, 'oauth2/refresh_token', { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) })).body).toEqual(
        wechatError(41002, 'appid missing'),
      );
      expect((await sns(p, 'oauth2/refresh_token', { appid: app.appId, grant_type: 'refresh_token' })).body).toEqual(
        wechatError(41003, 'refresh_token missing'),
      );
      expect((await refresh('x'.repeat(43), { grant_type: 'authorization_code' })).body).toEqual(wechatError(40002, 'invalid grant_type'));
    });
  });

  describe('GET /sns/auth', () => {
    it('says ok for a live token and its openid', async () => {
      const { tokens } = await wechatTokens(p, app, phone);
      expect((await auth(tokens.access_token, tokens.openid)).body).toEqual({ errcode: 0, errmsg: 'ok' });
    });

    it('answers 40003 for an openid that is not the token owner at this app', async () => {
      const { tokens } = await wechatTokens(p, app, phone);
      const other = await wechatApp(p, { name: 'Openid elsewhere' });
      const there = await wechatTokens(p, other, phone);
      expect((await auth(tokens.access_token, there.tokens.openid)).body).toEqual(wechatError(40003, 'invalid openid'));
    });

    it('answers 40014 for a malformed token and 40001 for an unknown one', async () => {
      expect((await auth('not a token', 'o1')).body).toEqual(wechatError(40014, 'invalid access_token'));
      expect((await auth('T'.repeat(43), 'o1')).body).toEqual(wechatError(40001, 'invalid credential, access_token is invalid or not latest'));
    });

    it('answers 42001 for an expired access token, both while stored and after the store dropped it', async () => {
      const { accessToken } = await viaModels(p, app.appId, phone.user.id, { expiredSecondsAgo: 5 });
      const value = await accessToken();
      const { tokens } = await wechatTokens(p, app, phone);
      expect((await auth(value, tokens.openid)).body).toEqual(wechatError(42001, 'access_token expired'));
      await new Promise((r) => setTimeout(r, 1300));
      expect(await p.saoma.provider.AccessToken.find(value, { ignoreExpiration: true })).toBeUndefined();
      expect((await auth(value, tokens.openid)).body).toEqual(wechatError(42001, 'access_token expired'));
    });

    it('names the missing parameter: 41001 access_token, 41009 openid', async () => {
      expect((await sns(p, 'auth', { openid: 'o1' })).body).toEqual(wechatError(41001, 'access_token missing'));
      expect((await sns(p, 'auth', { access_token: 'T'.repeat(43) })).body).toEqual(wechatError(41009, 'missing openid'));
    });

    it('stops accepting the tokens once the person revokes the app on the phone (40001, 40030)', async () => {
      const revoking = await wechatApp(p, { name: 'To revoke' });
      const { tokens } = await wechatTokens(p, revoking, phone);
      const res = await phone.call('DELETE', `/authorizations/${revoking.appId}`);
      expect(res.status).toBe(204);
      expect((await auth(tokens.access_token, tokens.openid)).body.errcode).toBe(40001);
      expect(
        (await sns(p, 'oauth2/refresh_token', { appid: revoking.appId, grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body.errcode,
      ).toBe(40030);
    });

    it('stops accepting the tokens of a disabled app (40001, 40013)', async () => {
      const disabled = await wechatApp(p, { name: 'To disable' });
      const { tokens } = await wechatTokens(p, disabled, phone);
      await p.saoma.apps.setStatus(disabled.appId, 'disabled');
      expect((await auth(tokens.access_token, tokens.openid)).body.errcode).toBe(40001);
      expect(
        (await sns(p, 'oauth2/refresh_token', { appid: disabled.appId, grant_type: 'refresh_token', refresh_token: tokens.refresh_token })).body.errcode,
      ).toBe(40013);
    });
  });

  describe('GET /sns/userinfo', () => {
    it("answers WeChat's fields: openid, nickname, sex, province, city, country, headimgurl, privilege, unionid", async () => {
      const { tokens } = await wechatTokens(p, app, phone);
      const r = await userinfo(tokens.access_token, tokens.openid);
      expect(r.body).toEqual({
        openid: tokens.openid,
        nickname: phone.user.nickname,
        sex: 0,
        province: '',
        city: '',
        country: '',
        headimgurl: '',
        privilege: [],
        unionid: tokens.unionid,
      });
      expect((await userinfo(tokens.access_token, tokens.openid, 'en')).body).toEqual(r.body);
    });

    it('answers 48001 for a token without the profile scope (e.g. an OIDC token for scope=openid)', async () => {
      const { accessToken } = await viaModels(p, app.appId, phone.user.id, { scope: 'openid' });
      const { tokens } = await wechatTokens(p, app, phone);
      const value = await accessToken();
      expect((await auth(value, tokens.openid)).body).toEqual({ errcode: 0, errmsg: 'ok' });
      expect((await userinfo(value, tokens.openid)).body).toEqual(wechatError(48001, 'api unauthorized'));
    });

    it('answers the same errors as /sns/auth: 41001, 41009, 40014, 40001, 40003', async () => {
      const { tokens } = await wechatTokens(p, app, phone);
      expect((await sns(p, 'userinfo', { openid: tokens.openid })).body.errcode).toBe(41001);
      expect((await sns(p, 'userinfo', { access_token: tokens.access_token })).body.errcode).toBe(41009);
      expect((await userinfo('?', tokens.openid)).body.errcode).toBe(40014);
      expect((await userinfo('T'.repeat(43), tokens.openid)).body.errcode).toBe(40001);
      expect((await userinfo(tokens.access_token, `${tokens.openid}x`)).body.errcode).toBe(40003);
    });
  });
});
