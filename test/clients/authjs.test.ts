import { ExpressAuth, getSession, type ExpressAuthConfig } from '@auth/express';
import WeChat from '@auth/express/providers/wechat';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import { closeStarted, startTestProvider, type TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { jsonOf, loginThroughSite, personWithPhone, registerApp, startSite } from './support.js';

/**
 * Auth.js (@auth/express 0.12 on @auth/core 0.41), configured as its docs say: the built-in
 * WeChat provider with its three URLs pointed at Saoma, and a generic OIDC provider whose
 * issuer is Saoma. The site is an Express app mounting ExpressAuth; the browser signs in
 * through Auth.js's own endpoints (csrf, POST signin) and ends on a page showing the session.
 */
const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

async function authSite(config: ExpressAuthConfig) {
  const app = express();
  app.set('trust proxy', true);
  // Express 5's router refuses the docs' "/auth/*"; mounted on "/auth" ExpressAuth sees the same paths.
  app.use('/auth', ExpressAuth(config));
  app.get('/me', async (req, res) => void res.json((await getSession(req, config)) ?? {}));
  return startSite(app);
}

/** Auth.js's sign-in: GET /auth/csrf for the token and cookie, then POST /auth/signin/:provider. */
async function signIn(site: string, providerId: string) {
  const browser = new TestBrowser();
  const { csrfToken } = (await (await browser.fetch(`${site}/auth/csrf`)).json()) as { csrfToken: string };
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrfToken, callbackUrl: `${site}/me` }).toString(),
  };
  return { browser, start: `${site}/auth/signin/${providerId}`, init };
}

describe.skipIf(skip)('Auth.js against Saoma (PostgreSQL + Redis)', () => {
  let p: TestProvider;
  let site: Awaited<ReturnType<typeof authSite>>;
  let origin: string;
  const config: ExpressAuthConfig = { providers: [], secret: 'a-test-secret-of-at-least-32-characters', trustHost: true, basePath: '/auth' };

  beforeAll(async () => {
    p = await startTestProvider('services');
    site = await authSite(config);
    origin = site.origin;
  });
  afterAll(async () => {
    await closeStarted(site, p);
  });

  it('WeChat provider (WebsiteApp, its URLs pointed at Saoma): QR login, code exchanged by POST, name and picture in the session', async () => {
    const app = await registerApp(p, { redirectUris: [`${origin}/auth/callback/wechat`], callbackDomain: '127.0.0.1' }, { pkce: false });
    config.providers = [
      WeChat({
        clientId: app.appId,
        clientSecret: app.appSecret,
        platformType: 'WebsiteApp',
        authorization: { url: `${p.issuer}/connect/qrconnect` },
        token: { url: `${p.issuer}/sns/oauth2/access_token` },
        userinfo: { url: `${p.issuer}/sns/userinfo` },
      }),
    ];
    const person = await personWithPhone(p);
    const { browser, start, init } = await signIn(origin, 'wechat');
    const { url, res } = await loginThroughSite(p, person, start, { browser, init });
    expect(url.href).toBe(`${origin}/me`);
    const { body } = await jsonOf(res);
    expect(body.user).toMatchObject({ name: person.nickname, image: person.picture });
  });

  it("WeChat provider's default (OfficialAccount: /connect/oauth2/authorize, snsapi_userinfo) with the host swapped", async () => {
    const app = await registerApp(p, { redirectUris: [`${origin}/auth/callback/wechat`], callbackDomain: '127.0.0.1' }, { pkce: false });
    config.providers = [
      WeChat({
        clientId: app.appId,
        clientSecret: app.appSecret,
        authorization: { url: `${p.issuer}/connect/oauth2/authorize` },
        token: { url: `${p.issuer}/sns/oauth2/access_token` },
        userinfo: { url: `${p.issuer}/sns/userinfo` },
      }),
    ];
    const person = await personWithPhone(p);
    const { browser, start, init } = await signIn(origin, 'wechat');
    const { url, res, view } = await loginThroughSite(p, person, start, { browser, init });
    expect(view.scopes).toEqual(expect.arrayContaining(['openid', 'profile']));
    expect(url.href).toBe(`${origin}/me`);
    expect((await jsonOf(res)).body.user).toMatchObject({ name: person.nickname, image: person.picture });
  });

  it('generic OIDC provider (type "oidc", issuer = Saoma): the user comes from the ID token, with name and picture', async () => {
    const app = await registerApp(p, { redirectUris: [`${origin}/auth/callback/saoma`] });
    config.providers = [{ id: 'saoma', name: 'Saoma', type: 'oidc', issuer: p.issuer, clientId: app.appId, clientSecret: app.appSecret }];
    const person = await personWithPhone(p);
    const { browser, start, init } = await signIn(origin, 'saoma');
    const { url, res } = await loginThroughSite(p, person, start, { browser, init });
    expect(url.href).toBe(`${origin}/me`);
    expect((await jsonOf(res)).body.user).toMatchObject({ name: person.nickname, image: person.picture });
  });
});
