import { createRequire } from 'node:module';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { useProvider } from '../support/harness.js';
import { jsonOf, loginThroughSite, personWithPhone, registerApp, startSite } from './support.js';

/**
 * WeChat client libraries whose WeChat hosts are hard-coded, pointed at Saoma the way each
 * allows: co-wechat-oauth by rewriting the host in its one `request` method and in the
 * authorize URLs it builds (as the README shows for wechat-oauth); grant by its documented
 * per-provider `authorize_url`, `access_url` and `profile_url` overrides (host swapped, path
 * kept: its WeChat provider uses the Official Account path /connect/oauth2/authorize).
 */
interface CoWechatOAuth {
  request(url: string, opts?: unknown): Promise<Record<string, unknown>>;
  getAuthorizeURL(redirect: string, state?: string, scope?: string): string;
  getAuthorizeURLForWebsite(redirect: string, state?: string, scope?: string): string;
  getAccessToken(code: string): Promise<{ data: Record<string, string | number> }>;
  getUser(openid: string): Promise<Record<string, unknown>>;
  verifyToken(openid: string, accessToken: string): Promise<Record<string, unknown>>;
  refreshAccessToken(refreshToken: string): Promise<{ data: Record<string, string | number> }>;
}
const require = createRequire(import.meta.url);
const CoOAuth = require('co-wechat-oauth') as new (appid: string, secret: string) => CoWechatOAuth;
const grant = require('grant') as typeof import('grant').default;
const session = require('express-session') as (options: { secret: string; resave: boolean; saveUninitialized: boolean }) => express.RequestHandler;
const WECHAT_HOSTS = /^https:\/\/(api|open)\.weixin\.qq\.com/;

function coWechatPointedAt(issuer: string, appid: string, secret: string): CoWechatOAuth {
  const api = new CoOAuth(appid, secret);
  const request = api.request.bind(api);
  api.request = (url, opts) => request(url.replace(WECHAT_HOSTS, issuer), opts);
  for (const name of ['getAuthorizeURL', 'getAuthorizeURLForWebsite'] as const) {
    const build = api[name].bind(api);
    api[name] = (...args) => build(...args).replace(WECHAT_HOSTS, issuer);
  }
  return api;
}

describe('WeChat client libraries against Saoma (embedded default)', () => {
  const p = useProvider('embedded');

  for (const entry of ['website (qrconnect, snsapi_login)', 'in-app (oauth2/authorize, snsapi_userinfo)'] as const) {
    it(`co-wechat-oauth, ${entry}: code → token → user, verified and refreshed`, async () => {
      let api: CoWechatOAuth | undefined;
      const app = express();
      app.get('/login', (req, res) => {
        const redirect = `${req.protocol}://${req.get('host')}/callback`;
        const to = entry.startsWith('website')
          ? api!.getAuthorizeURLForWebsite(redirect, 'co-state')
          : api!.getAuthorizeURL(redirect, 'co-state', 'snsapi_userinfo');
        res.redirect(to);
      });
      app.get('/callback', async (req, res) => {
        const token = await api!.getAccessToken(req.query.code as string);
        const openid = String(token.data.openid);
        const user = await api!.getUser(openid);
        const verified = await api!.verifyToken(openid, String(token.data.access_token));
        const refreshed = await api!.refreshAccessToken(String(token.data.refresh_token));
        res.json({ state: req.query.state, token: token.data, user, verified, refreshed: refreshed.data });
      });
      app.use(((err, _req, res, _next) => void res.status(500).json({ error: err.name, code: err.code, message: err.message })) as express.ErrorRequestHandler);
      const site = await startSite(app);
      try {
        const registered = await registerApp(p, { redirectUris: [`${site.origin}/callback`], callbackDomain: '127.0.0.1' }, { pkce: false });
        api = coWechatPointedAt(p.issuer, registered.appId, registered.appSecret);
        const person = await personWithPhone(p);
        const { res } = await loginThroughSite(p, person, `${site.origin}/login`);
        const { status, body } = await jsonOf(res);
        expect(status, JSON.stringify(body)).toBe(200);
        expect(body.state).toBe('co-state');
        const openid = (body.token as { openid: string }).openid;
        expect(body.user).toMatchObject({ openid, nickname: person.nickname, headimgurl: person.picture });
        expect(body.verified).toMatchObject({ errcode: 0 });
        expect(body.refreshed).toMatchObject({ openid });
      } finally {
        await site.close();
      }
    });
  }

  it("grant (express): its WeChat provider's own paths on Saoma's host; tokens and the profile reach the site", async () => {
    const app = express();
    app.use(session({ secret: 'grant test site', resave: false, saveUninitialized: true }));
    let handler: express.RequestHandler = (_req, _res, next) => next();
    app.use((req, res, next) => handler(req, res, next));
    app.get('/done', (req, res) => void res.json((req.session as { grant?: { response?: unknown } }).grant?.response ?? {}));
    const site = await startSite(app);
    try {
      const registered = await registerApp(p, { redirectUris: [`${site.origin}/connect/wechat/callback`], callbackDomain: '127.0.0.1' }, { pkce: false });
      handler = grant.express({
        defaults: { origin: site.origin, transport: 'session', state: true },
        wechat: {
          key: registered.appId,
          secret: registered.appSecret,
          scope: ['snsapi_userinfo'],
          callback: '/done',
          response: ['tokens', 'raw', 'profile'],
          authorize_url: `${p.issuer}/connect/oauth2/authorize`,
          access_url: `${p.issuer}/sns/oauth2/access_token`,
          profile_url: `${p.issuer}/sns/userinfo`,
        },
      });
      const person = await personWithPhone(p);
      const { res, url } = await loginThroughSite(p, person, `${site.origin}/connect/wechat`);
      const { body } = await jsonOf(res);
      expect(url.pathname, JSON.stringify(body)).toBe('/done');
      expect(body.access_token).toEqual(expect.any(String));
      expect(body.profile).toMatchObject({ nickname: person.nickname, headimgurl: person.picture });
    } finally {
      await site.close();
    }
  });
});
