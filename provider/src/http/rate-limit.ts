/**
 * Rate limits (rate-limiter-flexible). On Redis when the provider runs on Redis, so every
 * instance counts together; in memory on the embedded default. Each surface answers a limit in
 * its own documented shape, always with `Retry-After`:
 * - JSON APIs (phone, admin, QR JSON): 429 `{error: "rate_limited", error_description}`
 * - HTML pages (/auth, the QR page): 429 page (JSON when the client asks for JSON)
 * - OAuth token/introspection/revocation: 429 `{error: "invalid_request", error_description}`
 *   (RFC 6749 §5.2 has no rate-limit code; `slow_down` is device-flow polling advice and
 *   `invalid_client` would be false for a right secret; the status and Retry-After carry it)
 * - WeChat /sns: HTTP 200 `{errcode: 45011, errmsg}` as WeChat does
 * Limits that guard credentials count failures only: a point is taken before the attempt (so
 * concurrent guesses cannot all slip past a check) and given back when it succeeds.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import net from 'node:net';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Cluster, Redis } from 'ioredis';
import Provider, { errors } from 'oidc-provider';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../log.js';
import { escapeHtml, layout } from './html.js';

/** A limit: `points` per `seconds` (fixed window), or null for "off". Parsed in config.ts. */
export interface Rule {
  points: number;
  seconds: number;
}

/**
 * Every limit, by its environment variable (config.ts parses "POINTS/SECONDS" or "off"):
 * - RATE_LIMIT_PHONE_LOGIN (10/900): phone sign-in failures per username + IP
 * - RATE_LIMIT_PHONE_LOGIN_IP (50/900): phone sign-in failures per IP (password spraying)
 * - RATE_LIMIT_PHONE_REGISTER (50/3600): phone account registrations per IP
 * - RATE_LIMIT_SCANS (30/60): QR scans per user
 * - RATE_LIMIT_QR_CREATE (60/60): login starts and QR (re)creations per IP (/auth, the QR page, /qr)
 * - RATE_LIMIT_TOKEN_IP (30/900): failed client authentications per IP (token, introspection, revocation)
 * - RATE_LIMIT_CLIENT_AUTH (10/900): wrong AppSecrets per AppID + IP, then a lockout for the window
 * - RATE_LIMIT_CLIENT_AUTH_APP (100/900): wrong AppSecrets per AppID from anywhere (a right one passes)
 * - RATE_LIMIT_WECHAT (600/60): WeChat /sns calls per appid (per IP when no appid is named)
 * - RATE_LIMIT_ADMIN_LOGIN (5/900), RATE_LIMIT_ADMIN_LOGIN_IP (20/900): admin sign-in failures
 */
export const RATE_LIMIT_NAMES = [
  'RATE_LIMIT_PHONE_LOGIN',
  'RATE_LIMIT_PHONE_LOGIN_IP',
  'RATE_LIMIT_PHONE_REGISTER',
  'RATE_LIMIT_SCANS',
  'RATE_LIMIT_QR_CREATE',
  'RATE_LIMIT_TOKEN_IP',
  'RATE_LIMIT_CLIENT_AUTH',
  'RATE_LIMIT_CLIENT_AUTH_APP',
  'RATE_LIMIT_WECHAT',
  'RATE_LIMIT_ADMIN_LOGIN',
  'RATE_LIMIT_ADMIN_LOGIN_IP',
] as const;
export type RateLimitSettings = Record<(typeof RATE_LIMIT_NAMES)[number], Rule | null>;

export interface RateLimitOptions {
  settings: RateLimitSettings;
  /** The store's Redis connection (one server, Sentinel or Cluster); omitted → in-process memory (the embedded default). */
  redis?: Redis | Cluster;
  /** Key namespace, normally REDIS_PREFIX. */
  prefix?: string;
  log?: Logger;
}

/** Thrown (or rendered) when a limit is reached; `retryAfter` in whole seconds. */
export class RateLimited extends Error {
  constructor(readonly retryAfter: number) {
    super(`Too many requests; try again in ${retryAfter} seconds.`);
    this.name = 'RateLimited';
  }
}

/** oidc-provider renders this as 429 `{error: "invalid_request", error_description}`. */
class ClientAuthRateLimited extends errors.OIDCProviderError {
  constructor(description: string) {
    super(429, 'invalid_request');
    Object.assign(this, { error_description: description });
  }
}

type Limiter = {
  consume(key: string): Promise<RateLimiterRes>;
  reward(key: string): Promise<unknown>;
  get(key: string): Promise<RateLimiterRes | null>;
  readonly points: number;
};
type Key = (req: Request, res: Response) => string | null;
type Render = (req: Request, res: Response, limited: RateLimited) => void;

const digest = (value: unknown) => createHash('sha256').update(String(value).trim().toLowerCase()).digest('base64url').slice(0, 22);

/** The client's address as a rate-limit key: IPv4 as is, IPv6 by its /64 (one subscriber's block). */
export function ipKey(ip: string | undefined): string {
  const raw = (ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!net.isIPv6(raw)) return raw || 'unknown';
  const [head, tail = ''] = raw.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = raw.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

const retryAfterOf = (r: RateLimiterRes) => Math.max(1, Math.ceil(r.msBeforeNext / 1000));

export const renderJson: Render = (_req, res, limited) => {
  res.status(429).set({ 'Retry-After': String(limited.retryAfter), 'Cache-Control': 'no-store' }).json({ error: 'rate_limited', error_description: limited.message });
};

/** Pages get a page; their scripts (which ask for JSON) get the JSON shape. */
export const renderPage: Render = (req, res, limited) => {
  if (req.accepts(['html', 'json']) !== 'html' || /\/qr$/.test(req.path)) return renderJson(req, res, limited);
  const title = 'Too many requests · 请求过于频繁';
  res.status(429).set({ 'Retry-After': String(limited.retryAfter), 'Cache-Control': 'no-store' }).type('html').send(
    layout(title, `<main class="card error"><h1>${escapeHtml(title)}</h1><p class="code">rate_limited</p><p>${escapeHtml(limited.message)}</p></main>`),
  );
};

/** WeChat answers over-quota calls with HTTP 200 and errcode 45011. */
export const renderWechat: Render = (_req, res, limited) => {
  res.status(200).set({ 'Retry-After': String(limited.retryAfter), 'Cache-Control': 'no-store' }).json({ errcode: 45011, errmsg: 'api minute-quota reach limit  mustslower  retry next minute' });
};

export type RateLimits = ReturnType<typeof createRateLimits>;

export function createRateLimits(opts: RateLimitOptions) {
  const { settings, redis, log } = opts;
  const prefix = `${opts.prefix ?? 'saoma:'}rl`;

  /** Redis when available, with a memory insurance limiter so a Redis outage never blocks sign-in. */
  function limiter(name: string, r: Rule | null): Limiter | null {
    if (!r) return null;
    const base = { points: r.points, duration: r.seconds, keyPrefix: `${prefix}:${name}` };
    const memory = new RateLimiterMemory(base);
    // rejectIfRedisNotReady: while Redis is down, count in memory at once instead of queueing.
    return redis ? new RateLimiterRedis({ ...base, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
  }

  /** Takes a point from each limiter; a store error lets the request through (and is logged). */
  async function take(limiters: Array<[Limiter | null, string | null]>): Promise<{ taken: Array<[Limiter, string]>; limited?: RateLimited }> {
    const taken: Array<[Limiter, string]> = [];
    let worst = 0;
    await Promise.all(
      limiters.map(async ([l, key]) => {
        if (!l || key === null) return;
        try {
          await l.consume(key);
          taken.push([l, key]);
        } catch (err) {
          if (err instanceof RateLimiterRes) {
            taken.push([l, key]); // counted even when over: a success still gives it back
            worst = Math.max(worst, retryAfterOf(err));
          } else log?.warn({ err: (err as Error)?.message }, 'rate limiter store failed; request allowed');
        }
      }),
    );
    return { taken, ...(worst ? { limited: new RateLimited(worst) } : {}) };
  }
  const giveBack = (taken: Array<[Limiter, string]>) =>
    Promise.all(taken.map(([l, key]) => (l as unknown as RateLimiterAbstract).reward(key, 1).catch(() => undefined)));

  /**
   * For limits on failed AppSecrets, which a busy site passes thousands of times a minute:
   * success costs a read (no take-and-give-back). Concurrent guesses may overshoot by the
   * number in flight, harmless for 256-bit secrets; passwords keep take-first (`take`).
   */
  async function overLimit(limiters: Array<[Limiter | null, string | null]>): Promise<RateLimited | undefined> {
    let worst = 0;
    await Promise.all(
      limiters.map(async ([l, key]) => {
        if (!l || key === null) return;
        try {
          const state = await l.get(key);
          if (state && state.consumedPoints >= l.points) worst = Math.max(worst, retryAfterOf(state));
        } catch (err) {
          log?.warn({ err: (err as Error)?.message }, 'rate limiter store failed; request allowed');
        }
      }),
    );
    return worst ? new RateLimited(worst) : undefined;
  }
  const countFailure = async (limiters: Array<[Limiter | null, string | null]>) => void (await take(limiters));

  /** Express middleware for failure-only limits: refuses when over, counts a response that `isFailure`. */
  function failureMiddleware(limiters: Array<[Limiter | null, Key]>, render: Render, isFailure: (status: number) => boolean): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const keyed = limiters.map(([l, key]) => [l, key(req, res)] as [Limiter | null, string | null]);
      const limited = await overLimit(keyed);
      if (limited) return render(req, res, limited);
      res.on('finish', () => void (isFailure(res.statusCode) && countFailure(keyed)));
      next();
    };
  }

  /**
   * Express middleware over some limiters. With `countsAsFailure`, the points come back unless
   * the response status is a failure (e.g. 401), so only failed attempts count.
   */
  function middleware(limiters: Array<[Limiter | null, Key]>, render: Render, countsAsFailure?: (status: number) => boolean): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const { taken, limited } = await take(limiters.map(([l, key]) => [l, key(req, res)]));
      if (limited) return render(req, res, limited);
      if (countsAsFailure) res.on('finish', () => void (countsAsFailure(res.statusCode) || giveBack(taken)));
      next();
    };
  }
  /** A wrong password or secret is a 401 on every surface; bad input and outages do not count. */
  const wrongCredentials = (status: number) => status === 401;

  const byIp: Key = (req) => ipKey(req.ip);
  const bodyField = (field: string): Key => (req) => {
    const value = (req.body as Record<string, unknown> | undefined)?.[field];
    return typeof value === 'string' && value ? `${digest(value)}:${ipKey(req.ip)}` : null;
  };

  const L = {
    phoneLogin: limiter('phone-login', settings.RATE_LIMIT_PHONE_LOGIN),
    phoneLoginIp: limiter('phone-login-ip', settings.RATE_LIMIT_PHONE_LOGIN_IP),
    phoneRegister: limiter('phone-register', settings.RATE_LIMIT_PHONE_REGISTER),
    scans: limiter('scans', settings.RATE_LIMIT_SCANS),
    qrCreate: limiter('qr-create', settings.RATE_LIMIT_QR_CREATE),
    tokenIp: limiter('token-ip', settings.RATE_LIMIT_TOKEN_IP),
    clientAuth: limiter('client-auth', settings.RATE_LIMIT_CLIENT_AUTH),
    clientAuthApp: limiter('client-auth-app', settings.RATE_LIMIT_CLIENT_AUTH_APP),
    wechat: limiter('wechat', settings.RATE_LIMIT_WECHAT),
    adminLogin: limiter('admin-login', settings.RATE_LIMIT_ADMIN_LOGIN),
    adminLoginIp: limiter('admin-login-ip', settings.RATE_LIMIT_ADMIN_LOGIN_IP),
  };

  const phoneLogin = middleware([[L.phoneLogin, bodyField('username')], [L.phoneLoginIp, byIp]], renderJson, wrongCredentials);
  const phoneRegister = middleware([[L.phoneRegister, byIp]], renderJson);

  /**
   * AppSecret checks, wherever a secret is presented (OAuth client auth, WeChat
   * /sns/oauth2/access_token). Over the AppID + IP limit: refused without checking (lockout).
   * Over the AppID-wide limit: a right secret still passes, so strangers cannot lock a site out
   * of its own token endpoint; AppSecrets carry 256 bits, so this limit sheds load, not risk.
   */
  async function verifyClientSecret(appId: string, ip: string, check: () => Promise<boolean>): Promise<boolean> {
    const pair: [Limiter | null, string] = [L.clientAuth, `${digest(appId)}:${ipKey(ip)}`];
    const app: [Limiter | null, string] = [L.clientAuthApp, digest(appId)];
    const [pairLimited, appLimited] = await Promise.all([overLimit([pair]), overLimit([app])]);
    if (pairLimited) throw pairLimited;
    const ok = await check();
    if (ok) return true;
    await countFailure([pair, app]);
    log?.warn({ appId, ip }, 'client authentication failed');
    if (appLimited) throw appLimited;
    return false;
  }

  return {
    /** POST /api/mobile/login: failures per username + IP and per IP. Needs the JSON body parsed. */
    phoneLogin,
    /** POST /api/mobile/register: per IP. */
    phoneRegister,
    /** For `app.use('/api/mobile', limits.mobile, mobileRoutes(...), jsonErrorHandler(log))`. */
    mobile: Router()
      .post('/login', express.json({ limit: '16kb' }), phoneLogin)
      .post('/register', phoneRegister),
    /** POST /api/mobile/scans: per user; mount after the device-token check (res.locals.user). */
    scans: middleware([[L.scans, (req, res) => (res.locals.user?.id ? `u:${res.locals.user.id}` : `t:${digest(req.get('authorization'))}`)]], renderJson),
    /** GET|POST /auth, GET /interaction/:uid, GET /interaction/:uid/qr: per IP. */
    qrCreate: middleware([[L.qrCreate, byIp]], renderPage),
    /** POST /token, /token/introspection, /token/revocation: failed client authentications per IP. */
    tokenEndpoint: failureMiddleware([[L.tokenIp, byIp]], (_req, res, limited) => renderOAuth(res, limited), wrongCredentials),
    /** /sns/*: per appid (or IP); WeChat's 45011 at HTTP 200. Mounted by the WeChat facade (wechat/routes.ts). */
    wechat: middleware([[L.wechat, (req) => {
      // Mounted after the form body is parsed: the appid may be in the query or the body.
      const appid = req.query.appid ?? (req.body as Record<string, unknown> | undefined)?.appid;
      return typeof appid === 'string' && appid ? `a:${digest(appid)}` : `ip:${ipKey(req.ip)}`;
    }]], renderWechat),
    /** Admin console sign-in: failures per username + IP and per IP; mount after the body parser. */
    adminLogin: middleware([[L.adminLogin, bodyField('username')], [L.adminLoginIp, byIp]], renderJson, wrongCredentials),
    verifyClientSecret,
    /**
     * Remembers the client address for code below that has no request at hand (a secret check
     * inside the WeChat facade's token exchange). Mount first, app-wide.
     */
    context: ((req, _res, next) => requestIp.run(req.ip ?? '', next)) as RequestHandler,
    /**
     * Puts `verifyClientSecret` in front of every AppSecret comparison (oidc-provider's token,
     * introspection and revocation endpoints, and anything else calling
     * `client.compareClientSecret`): call once, after createOidcProvider. Inside oidc-provider a
     * limit is its 429 OAuth error; elsewhere `RateLimited` is thrown for the caller to render.
     */
    guardClientSecrets(provider: Provider) {
      const proto = provider.Client.prototype as unknown as { compareClientSecret(this: { clientId: string }, actual: string): Promise<boolean> };
      const compare = proto.compareClientSecret;
      proto.compareClientSecret = async function guarded(this: { clientId: string }, actual: string) {
        // The request being served (oidc-provider keeps it in AsyncLocalStorage); Express's
        // req.ip honours `trust proxy` the same way for every surface.
        const ctx = Provider.ctx;
        const ip = (ctx?.req as { ip?: string } | undefined)?.ip ?? requestIp.getStore() ?? ctx?.ip ?? '';
        try {
          return await verifyClientSecret(this.clientId, ip, () => compare.call(this, actual));
        } catch (err) {
          if (!(err instanceof RateLimited) || !ctx) throw err;
          ctx?.set('Retry-After', String(err.retryAfter));
          ctx?.set('Cache-Control', 'no-store');
          throw new ClientAuthRateLimited(`Too many failed client authentications for this client; try again in ${err.retryAfter} seconds.`);
        }
      };
    },
  };
}

/** The client address of the request being served, for code that has no `req` (see `context`). */
const requestIp = new AsyncLocalStorage<string>();

function renderOAuth(res: Response, limited: RateLimited) {
  res.status(429).set({ 'Retry-After': String(limited.retryAfter), 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json({ error: 'invalid_request', error_description: limited.message });
}
