import { randomBytes } from 'node:crypto';
import cookieSession from 'cookie-session';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import * as client from 'openid-client';
import { expiredLoginPage, homePage, problemPage, profilePage, visitorOf, type SignedIn } from './pages.js';
import { session, type PendingLogin } from './session.js';
import { createWechatClient, WechatUnreachable } from './wechat-client.js';
import { wechatVisitor } from './wechat-pages.js';
import { wechatRoutes } from './wechat.js';

export interface DemoSiteOptions {
  /** The provider's issuer URL, e.g. http://localhost:3000 */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where people reach this site, e.g. http://127.0.0.1:3001 (the redirect URI is `${publicUrl}/callback`). */
  publicUrl: string;
  /** Cookie signing keys; default: random per process (logins end when the demo restarts). */
  sessionKeys?: string[];
}

/**
 * A small relying party on openid-client v6: exactly what a real website does to offer
 * "log in with Saoma" — discovery, PKCE + state + nonce, code exchange, userinfo. Beside it,
 * the WeChat-style path (wechat.ts): the same app through the WeChat-compatible API.
 */
export function createDemoSite(opts: DemoSiteOptions): express.Express {
  const publicUrl = opts.publicUrl.replace(/\/+$/, '');
  const redirectUri = `${publicUrl}/callback`;
  const discover = lazyDiscovery(opts);
  discover().catch(() => {}); // warm up; a provider that is not up yet is retried on first use

  const app = express();
  app.disable('x-powered-by');
  const secure = publicUrl.startsWith('https:');
  // Behind a TLS-terminating proxy the connection itself is plain http; cookie-session must trust it.
  if (secure) app.set('trust proxy', true);
  app.use(securityHeaders);
  app.use(
    cookieSession({
      name: 'saoma_demo',
      keys: opts.sessionKeys?.length ? opts.sessionKeys : [randomBytes(32).toString('base64url')],
      httpOnly: true,
      sameSite: 'lax', // the callback is a top-level GET from the provider: lax cookies come along
      secure,
      maxAge: 8 * 3600 * 1000,
    }),
  );

  app.get('/', (req, res) => {
    const { user, wechat } = session(req);
    res.type('html').send(homePage(user ? visitorOf(user) : wechat ? wechatVisitor(wechat) : null));
  });

  app.get('/login', async (req, res) => {
    const config = await discover();
    const pending: PendingLogin = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    req.session = { ...session(req), pending };
    res.redirect(url.href);
  });

  app.get('/callback', async (req, res) => {
    const { pending, ...rest } = session(req);
    if (!pending) {
      res.status(400).type('html').send(expiredLoginPage());
      return;
    }
    req.session = rest; // one use: a reloaded callback never replays the exchange
    const config = await discover();
    let tokens;
    try {
      // The URL the provider sent the browser to, as the site publishes it (openid-client derives redirect_uri from it).
      tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, publicUrl), {
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        pkceCodeVerifier: pending.codeVerifier,
      });
    } catch (err) {
      const { status, html } = loginProblem(err);
      res.status(status).type('html').send(html);
      return;
    }
    const claims = tokens.claims()!;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    const user: SignedIn = {
      claims: { ...claims },
      userinfo: { ...userinfo },
      accessTokenExpiresAt: typeof tokens.expires_in === 'number' ? Date.now() + tokens.expires_in * 1000 : null,
      scope: tokens.scope ?? null,
      refreshTokenIssued: Boolean(tokens.refresh_token),
      loggedInAt: Date.now(),
    };
    req.session = { user };
    res.redirect('/profile');
  });

  app.get('/profile', (req, res) => {
    const user = session(req).user;
    if (!user) {
      res.redirect('/');
      return;
    }
    res.type('html').send(profilePage(user));
  });

  // Local logout only: the provider keeps no login worth ending (every login needs a fresh QR).
  const logout: RequestHandler = (req, res) => {
    req.session = null;
    res.redirect('/');
  };
  app.get('/logout', logout);
  app.post('/logout', logout);

  const wechat = createWechatClient({ issuer: opts.issuer, appid: opts.clientId, secret: opts.clientSecret });
  app.use(wechatRoutes({ issuer: opts.issuer.replace(/\/+$/, ''), appid: opts.clientId, publicUrl, client: wechat }));

  app.use((_req, res) => {
    res
      .status(404)
      .type('html')
      .send(problemPage({ title: 'Not found', message: 'There is no such page on this demo site.', kind: 'notice' }));
  });
  app.use(friendlyErrors);
  return app;
}

/** Discovery on first use, retried: in `npm run demo` the provider may come up a moment later. */
function lazyDiscovery(opts: DemoSiteOptions) {
  let pending: Promise<client.Configuration> | undefined;
  const once = () =>
    client.discovery(new URL(opts.issuer), opts.clientId, undefined, client.ClientSecretBasic(opts.clientSecret), {
      execute: opts.issuer.startsWith('http:') ? [client.allowInsecureRequests] : [],
    });
  async function withRetry(): Promise<client.Configuration> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        if (attempt >= 5) throw new ProviderUnreachable(opts.issuer, err);
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  }
  return () =>
    (pending ??= withRetry().catch((err: unknown) => {
      pending = undefined; // try again on the next request
      throw err;
    }));
}

class ProviderUnreachable extends Error {
  constructor(
    readonly issuer: string,
    cause: unknown,
  ) {
    super(`cannot reach the Saoma provider at ${issuer}`, { cause });
  }
}

/** What went wrong at the callback, in words for the person who tried to log in. */
function loginProblem(err: unknown): { status: number; html: string } {
  if (err instanceof client.AuthorizationResponseError) {
    if (err.error === 'access_denied') {
      return {
        status: 403,
        html: problemPage({
          title: 'You cancelled / denied the login',
          message: 'The login was denied on the phone or cancelled on the QR page, so you are not logged in. 登录已取消。',
          kind: 'notice',
        }),
      };
    }
    return {
      status: 400,
      html: problemPage({ title: 'The login did not succeed', message: err.error_description ?? err.error, detail: `Error: ${err.error}` }),
    };
  }
  if (err instanceof client.ResponseBodyError) {
    return {
      status: 400,
      html: problemPage({
        title: 'The login could not be completed',
        message: err.error === 'invalid_grant' ? 'This login code has expired or was already used. Start again.' : (err.error_description ?? err.error),
        detail: `Error: ${err.error}`,
      }),
    };
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    // 401 at the token endpoint: the provider does not accept this site's AppID/AppSecret (rotated? disabled?).
    const code = err.cause[0]?.parameters.error ?? `HTTP ${err.status}`;
    return {
      status: 502,
      html: problemPage({
        title: 'This site could not finish the login',
        message:
          "The provider refused this site's own credentials (was its AppSecret rotated, or the app disabled?). Restart the demo with the current secret.",
        detail: `Error: ${code}`,
      }),
    };
  }
  if (err instanceof client.ClientError) {
    return {
      status: 400,
      html: problemPage({
        title: 'The login could not be verified',
        message: 'The answer from the provider did not match the login this browser started (another tab?). Start again.',
      }),
    };
  }
  throw err; // unexpected: the error handler renders it without details
}

const friendlyErrors: ErrorRequestHandler = (err, req, res, _next) => {
  const unreachable = err instanceof ProviderUnreachable || err instanceof WechatUnreachable || (err instanceof TypeError && /fetch failed/.test(err.message));
  console.error(
    `[demo] ${req.method} ${req.originalUrl}: ${err instanceof Error ? `${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}` : String(err)}`,
  );
  if (res.headersSent) return void res.end();
  const html = unreachable
    ? problemPage({ title: 'Saoma is not reachable', message: 'The login provider did not answer. Is it running? Try again in a moment.' })
    : problemPage({ title: 'Something went wrong', message: 'The demo site could not finish this request. Try again.' });
  res
    .status(unreachable ? 502 : 500)
    .type('html')
    .send(html);
};

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
  next();
};
