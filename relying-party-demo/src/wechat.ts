import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { expiredLoginPage, problemPage } from './pages.js';
import { session, type PendingWechat } from './session.js';
import { WechatApiError, type WechatClient, type WechatLogin } from './wechat-client.js';
import { embeddedPage, wechatProfilePage, type WechatSignedIn } from './wechat-pages.js';

/** The embedded-QR page's script: a real file (type-checked as browser JavaScript), not a string. */
const EMBEDDED_SCRIPT_FILE = fileURLToPath(new URL('../public/embedded.js', import.meta.url));

const LIBRARY = `wechat-oauth@${(createRequire(import.meta.url)('wechat-oauth/package.json') as { version: string }).version}`;

/** A started login stays answerable as long as the provider's embedded QR does (30 min). */
const PENDING_TTL_MS = 30 * 60 * 1000;
/** A few logins at once per browser (two tabs, a reloaded embedded page); the oldest goes first. */
const MAX_PENDING = 5;

/**
 * The WeChat-style path: what a site that used WeChat website login does, against Saoma.
 * `/wechat/login` redirects to `/connect/qrconnect`, `/wechat/embedded` shows WeChat's embedded
 * QR, and `/wechat/callback?code&state` checks the state this browser was given, then lets the
 * library exchange the code and read the profile.
 */
export function wechatRoutes(opts: { issuer: string; appid: string; publicUrl: string; client: WechatClient }): Router {
  const router = Router();
  const redirectUri = `${opts.publicUrl}/wechat/callback`;

  /** A fresh state, remembered in the session; expired and surplus ones are dropped. */
  function begin(req: Request, via: PendingWechat['via']): string {
    const state = randomBytes(16).toString('base64url');
    const now = Date.now();
    const kept = (session(req).wechatPending ?? []).filter((p) => now - p.at < PENDING_TTL_MS).slice(-(MAX_PENDING - 1));
    req.session = { ...session(req), wechatPending: [...kept, { state, via, at: now }] };
    return state;
  }

  router.get('/wechat/login', (req, res) => {
    res.redirect(opts.client.authorizeUrl(redirectUri, begin(req, 'redirect')));
  });

  router.get('/wechat/embedded', (req, res) => {
    const state = begin(req, 'embedded');
    const provider = new URL(opts.issuer).origin;
    // The page runs the provider's wxLogin.js and frames its QR; still no inline script.
    res.set(
      'Content-Security-Policy',
      `default-src 'none'; script-src 'self' ${provider}; frame-src ${provider}; style-src 'unsafe-inline'; img-src http: https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    res.type('html').send(embeddedPage({ issuer: opts.issuer, appid: opts.appid, redirectUri, state }));
  });

  router.get('/wechat/embedded.js', (_req, res) => {
    res.type('application/javascript').sendFile(EMBEDDED_SCRIPT_FILE);
  });

  router.get('/wechat/callback', checkState, async (req, res) => {
    const pending = res.locals.pending as PendingWechat;
    const code = req.query.code;
    // WeChat's "no": the callback carries the state and no code at all.
    if (code === undefined) {
      res
        .status(403)
        .type('html')
        .send(
          problemPage({
            title: 'You cancelled / denied the login',
            message: 'The login was denied on the phone, so you are not logged in. 登录已取消。',
            kind: 'notice',
            retryHref: retryOf(pending),
          }),
        );
      return;
    }
    let login: WechatLogin;
    try {
      // A repeated `code` is malformed: send none and let the API say so (41008).
      login = await opts.client.signIn(typeof code === 'string' ? code : '');
    } catch (err) {
      if (!(err instanceof WechatApiError)) throw err;
      sendApiProblem(res, err, pending);
      return;
    }
    const { token, userinfo } = login;
    const user: WechatSignedIn = {
      openid: token.openid,
      unionid: token.unionid ?? (typeof userinfo.unionid === 'string' ? userinfo.unionid : null),
      nickname: typeof userinfo.nickname === 'string' ? userinfo.nickname : '',
      headimgurl: typeof userinfo.headimgurl === 'string' ? userinfo.headimgurl : '',
      userinfo,
      scope: token.scope,
      accessTokenExpiresAt: token.expiresIn === null ? null : Date.now() + token.expiresIn * 1000,
      refreshTokenIssued: token.refreshTokenIssued,
      via: pending.via,
      loggedInAt: Date.now(),
    };
    req.session = { wechat: user }; // a new login replaces whoever was signed in
    res.redirect('/wechat/profile');
  });

  router.get('/wechat/profile', (req, res) => {
    const user = session(req).wechat;
    if (!user) {
      res.redirect('/');
      return;
    }
    res.type('html').send(wechatProfilePage(user, LIBRARY));
  });

  return router;
}

const retryOf = (p: PendingWechat | undefined) => (p?.via === 'embedded' ? '/wechat/embedded' : '/wechat/login');

/**
 * CSRF check, before anything is redeemed: the callback's `state` must be one this browser was
 * given. A match is used up (a reloaded callback never replays the exchange); a mismatch leaves
 * the browser's real logins in progress untouched.
 */
const checkState: RequestHandler = (req, res, next) => {
  const pendings = session(req).wechatPending ?? [];
  const now = Date.now();
  const live = pendings.filter((p) => now - p.at < PENDING_TTL_MS);
  if (!live.length) {
    res.status(400).type('html').send(expiredLoginPage('/wechat/login'));
    return;
  }
  const state = req.query.state;
  const match = typeof state === 'string' ? live.find((p) => p.state === state) : undefined;
  if (!match) {
    res
      .status(400)
      .type('html')
      .send(
        problemPage({
          title: 'The login could not be verified',
          message: 'The answer from the provider did not match the login this browser started (another tab, or a forged link?). Start again.',
          detail: 'Error: state mismatch',
          retryHref: '/wechat/login',
        }),
      );
    return;
  }
  req.session = { ...session(req), wechatPending: live.filter((p) => p !== match) };
  res.locals.pending = match;
  next();
};

/** WeChat's codes a callback can meet, in words for the person who tried to log in. */
const API_PROBLEMS: Record<number, { status: number; title: string; message: string }> = {
  40029: { status: 400, title: 'The login could not be completed', message: 'The login code is not valid. Start again.' },
  40163: { status: 400, title: 'The login could not be completed', message: 'This login code was already used. Start again.' },
  42003: { status: 400, title: 'The login could not be completed', message: 'This login code has expired. Start again.' },
  41008: { status: 400, title: 'The login could not be completed', message: 'The provider sent no login code. Start again.' },
  40013: {
    status: 502,
    title: 'This site could not finish the login',
    message: "The provider does not know this site's AppID (was the app disabled or deleted?).",
  },
  40125: {
    status: 502,
    title: 'This site could not finish the login',
    message: "The provider refused this site's AppSecret (was it rotated?). Restart the demo with the current secret.",
  },
};

function sendApiProblem(res: Response, err: WechatApiError, pending: PendingWechat) {
  const known = API_PROBLEMS[err.errcode] ?? {
    status: 400,
    title: 'The login could not be completed',
    message: 'The provider refused the login. Start again.',
  };
  res
    .status(known.status)
    .type('html')
    .send(problemPage({ ...known, detail: `errcode ${err.errcode}: ${err.errmsg}`, retryHref: retryOf(pending) }));
}
