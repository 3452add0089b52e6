/**
 * The web console at /admin: server-rendered pages and plain HTML forms (no build step, no
 * inline script or style, so the strict CSP holds). Every page calls the same services as the
 * admin API and CLI. State changes are POSTs that must pass two CSRF checks: the Origin (or
 * Sec-Fetch-Site) is this site's, and the form carries the session's synchronizer token.
 */
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { AppError, notFound } from '../../errors.js';
import { actorOf } from '../audit.js';
import { adminError } from '../error-codes.js';
import { toAppError } from '../../http/render.js';
import { noStore } from '../../http/guard.js';
import { isolatedPageHeaders, requireSameOrigin, securityHeaders } from '../../http/security.js';
import { refuseNul } from '../../http/refuse-nul.js';
import { consoleAccountRoutes } from './routes-accounts.js';
import { consoleAppRoutes } from './routes-apps.js';
import { consoleKeyRoutes } from './routes-keys.js';
import { consolePeopleRoutes } from './routes-people.js';
import { consoleSourceRoutes } from './routes-sources.js';
import { ctxOf, locals, send, type ConsoleDeps, type ConsoleLocals } from './kit.js';
import { clearSessionCookie, csrfMatches, readSessionCookie, setSessionCookie } from './session.js';
import { errorPage, loginPage } from './views-accounts.js';

/** Only our own console paths: `next` must not become an open redirect. */
const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/admin(\/[A-Za-z0-9/_?=&.%-]*)?$/.test(next) && !next.includes('..') ? next : '/admin/apps';

export function consoleRoutes(deps: ConsoleDeps): Router {
  const { services, sessions, record, issuer } = deps;
  const router = Router();
  router.use(securityHeaders({ issuer }), isolatedPageHeaders, noStore, sameOriginReferrer);
  router.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 }), refuseNul);
  router.use(requireSameOrigin({ issuer, strict: true }));

  router.get('/login', async (req, res) => {
    // Already signed in: straight in.
    if (await sessions.load(readSessionCookie(req))) {
      res.redirect(303, safeNext(req.query.next));
      return;
    }
    send(res, 200, loginPage({}, { next: typeof req.query.next === 'string' ? req.query.next : '' }));
  });
  router.post('/login', limitedAsPage(deps.loginLimiter), async (req, res) => {
    const { username, password, next } = (req.body ?? {}) as Record<string, unknown>;
    const shown = typeof username === 'string' ? username.slice(0, 64) : '';
    if (typeof username !== 'string' || typeof password !== 'string' || !username.trim() || !password) {
      send(res, 400, loginPage({ error: 'Enter your username and password.' }, { username: shown, next: typeof next === 'string' ? next : '' }));
      return;
    }
    const admin = await services.admins.authenticate(username, password);
    if (!admin) {
      await record('admin.sign_in_failed', 'anonymous', { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null, detail: { username: shown } });
      // 401: the rate limiter counts exactly these.
      send(res, 401, loginPage({ error: 'Wrong username or password.' }, { username: shown, next: typeof next === 'string' ? next : '' }));
      return;
    }
    await sessions.end(readSessionCookie(req));
    const { sid } = await sessions.start(admin);
    setSessionCookie(req, res, issuer, sid);
    await record('admin.signed_in', `admin:${admin.username}`, { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });
    res.redirect(303, safeNext(next));
  });

  router.use(requireSession(deps));
  router.post('/logout', async (req, res) => {
    await sessions.end(locals(res).sid);
    clearSessionCookie(req, res, issuer);
    await record('admin.signed_out', actorOf(res));
    res.redirect(303, '/admin/login');
  });
  router.get('/', (_req, res) => res.redirect(303, '/admin/apps'));
  router.use(consoleAppRoutes(deps));
  router.use(consolePeopleRoutes(deps));
  router.use(consoleSourceRoutes(deps));
  router.use(consoleKeyRoutes(deps));
  router.use(consoleAccountRoutes(deps));
  router.use((req, _res) => {
    throw notFound(`No console page at ${req.originalUrl.split('?')[0]}.`);
  });
  router.use(pageErrorHandler(deps));
  return router;
}

/**
 * Signed in, with a live session of an active admin; on POST, the session's CSRF token.
 * Enforces: a session cookie naming a live session, its admin not disabled since, and
 * `_csrf` equal to the session's token on every state change. Sets res.locals.actor.
 */
function requireSession(deps: ConsoleDeps): RequestHandler {
  return async (req, res, next) => {
    const sid = readSessionCookie(req);
    const session = await deps.sessions.load(sid);
    const admin = session && (await deps.services.admins.active(session.adminId, session.createdAt));
    if (!sid || !session || !admin) {
      if (session) await deps.sessions.end(sid);
      res.redirect(303, req.method === 'GET' ? `/admin/login?next=${encodeURIComponent(req.originalUrl)}` : '/admin/login');
      return;
    }
    if (req.method === 'POST' && !csrfMatches(session, (req.body as Record<string, unknown> | undefined)?._csrf)) {
      throw adminError('invalid_csrf_token');
    }
    res.locals.actor = `admin:${admin.username}`;
    res.locals.adminId = admin.id;
    const flash = req.method === 'GET' ? await deps.sessions.takeFlash(sid) : null;
    res.locals.console = { sid, session, flash } satisfies ConsoleLocals;
    next();
  };
}

/**
 * Under `Referrer-Policy: no-referrer` browsers send `Origin: null` on a same-origin form POST
 * (Fetch standard, "serializing a request origin"), which the Origin check must refuse. The
 * console's forms post to themselves, so its pages send their origin to themselves only.
 */
const sameOriginReferrer: RequestHandler = (_req, res, next) => {
  res.set('Referrer-Policy', 'same-origin');
  next();
};

/** A limit (http/rate-limit.ts passes it on as a 429 error): the person at the sign-in form gets the form, saying so. */
function limitedAsPage(limiter: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next) =>
    limiter(req, res, (err?: unknown) => {
      if (!(err instanceof AppError) || err.status !== 429) {
        next(err);
        return;
      }
      const username = (req.body as Record<string, unknown> | undefined)?.username; // undefined when the body was not a form
      res.status(429).set(err.headers);
      send(res, 429, loginPage({ error: err.description }, { username: typeof username === 'string' ? username.slice(0, 64) : '' }));
    });
}

function pageErrorHandler(deps: ConsoleDeps): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e = toAppError(err);
    res.locals.thrown = err as unknown; // metrics/http.ts counts outages
    if (e.status >= 500) deps.log.error({ err, url: req.originalUrl }, 'admin console request failed');
    if (res.headersSent) return void res.end();
    const signedIn = res.locals.console ? ctxOf(res) : {};
    res
      .status(e.status)
      .set(e.headers)
      .type('html')
      .send(errorPage(signedIn, e.status, e.code, e.description));
  };
}
