import { createRequire } from 'node:module';
import express from 'express';
import { Passport } from 'passport';
import { Strategy as OpenIDConnectStrategy } from 'passport-openidconnect';
import { describe, expect, it } from 'vitest';
import { useProvider } from '../support/harness.js';
import { jsonOf, loginThroughSite, personWithPhone, registerApp, startSite } from './support.js';

/**
 * Passport sites (passport 0.7 + express-session on Express 5), each strategy configured as its
 * README shows. passport-openidconnect is given Saoma's endpoints (it does no discovery) and
 * builds the profile from the ID token; passport-weixin (on passport-oauth2) is given Saoma's
 * three URLs in place of its hard-coded WeChat ones and POSTs the code exchange with a form body.
 */
type Done = (err: Error | null, user?: Express.User) => void;
type WeixinVerify = (accessToken: string, refreshToken: string, profile: Express.User, done: Done) => void;
const require = createRequire(import.meta.url);
const WeixinStrategy = require('passport-weixin') as new (options: Record<string, unknown>, verify: WeixinVerify) => import('passport').Strategy;
const session = require('express-session') as (options: { secret: string; resave: boolean; saveUninitialized: boolean }) => express.RequestHandler;

/** An Express site with sessions and one passport strategy under /login and /callback. */
async function passportSite() {
  const passport = new Passport();
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  const app = express();
  app.use(session({ secret: 'passport test site', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/login', (req, res, next) => passport.authenticate('saoma')(req, res, next));
  app.get('/callback', (req, res, next) =>
    passport.authenticate('saoma', { successRedirect: '/me', failureRedirect: '/failed', failureMessage: true })(req, res, next),
  );
  app.get('/me', (req, res) => void res.json({ user: req.user ?? null }));
  app.get('/failed', (req, res) => void res.status(401).json({ messages: (req.session as { messages?: string[] }).messages ?? [] }));
  app.use(((err, _req, res, _next) => void res.status(500).json({ error: String(err?.message ?? err) })) as express.ErrorRequestHandler);
  const site = await startSite(app);
  return { ...site, use: (strategy: import('passport').Strategy) => passport.use('saoma', strategy) };
}

describe('Passport strategies against Saoma (embedded default)', () => {
  const p = useProvider('embedded');

  it('passport-openidconnect: the profile built from the ID token has the display name', async () => {
    const site = await passportSite();
    try {
      // passport-openidconnect sends client_secret in the form body (client_secret_post) and no PKCE.
      const app = await registerApp(p, { redirectUris: [`${site.origin}/callback`], tokenEndpointAuthMethod: 'client_secret_post' }, { pkce: false });
      site.use(
        new OpenIDConnectStrategy(
          {
            issuer: p.issuer,
            authorizationURL: `${p.issuer}/auth`,
            tokenURL: `${p.issuer}/token`,
            userInfoURL: `${p.issuer}/me`,
            clientID: app.appId,
            clientSecret: app.appSecret,
            callbackURL: `${site.origin}/callback`,
            scope: ['profile'],
          },
          (_issuer: string, profile: Express.User, done: Done) => done(null, profile),
        ),
      );
      const person = await personWithPhone(p);
      const { res, url } = await loginThroughSite(p, person, `${site.origin}/login`);
      const { body } = await jsonOf(res);
      expect(url.pathname, JSON.stringify(body)).toBe('/me');
      expect(body.user).toMatchObject({ displayName: person.nickname });
    } finally {
      await site.close();
    }
  });

  it('passport-weixin: qrconnect, POST code exchange, /sns/userinfo', async () => {
    const site = await passportSite();
    try {
      const app = await registerApp(p, { redirectUris: [`${site.origin}/callback`], callbackDomain: '127.0.0.1' }, { pkce: false });
      site.use(
        new WeixinStrategy(
          {
            clientID: app.appId,
            clientSecret: app.appSecret,
            callbackURL: `${site.origin}/callback`,
            requireState: false,
            scope: 'snsapi_login',
            authorizationURL: `${p.issuer}/connect/qrconnect`,
            tokenURL: `${p.issuer}/sns/oauth2/access_token`,
            userProfileURL: `${p.issuer}/sns/userinfo`,
          },
          (_accessToken, _refreshToken, profile, done) => done(null, profile),
        ),
      );
      const person = await personWithPhone(p);
      const { res, url } = await loginThroughSite(p, person, `${site.origin}/login`);
      const { body } = await jsonOf(res);
      expect(url.pathname, JSON.stringify(body)).toBe('/me');
      expect(body.user).toMatchObject({ provider: 'weixin', displayName: person.nickname, profileUrl: person.picture });
    } finally {
      await site.close();
    }
  });
});
