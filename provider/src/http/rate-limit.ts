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
 * A limit is an AppError (`rate_limited`, 429, Retry-After) passed to the surface's error
 * handler, which renders it in the surface's shape (http/render.ts, wechat/errcodes.ts,
 * oidc/oauth-errors.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import net from 'node:net';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError, rateLimited } from '../errors.js';
import type { Cluster, Redis } from 'ioredis';
import Provider from 'oidc-provider';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../log.js';

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
 * - RATE_LIMIT_WECHAT (600/60): WeChat /sns calls per appid, counted once the call proved it is that app's
 * - RATE_LIMIT_WECHAT_FAILURES (120/60): failed WeChat /sns calls per IP (unknown appid, secret or token)
 * - RATE_LIMIT_EMBED_TOKEN (30/600): unknown embedded-QR tokens per IP (no address can test guesses)
 * - RATE_LIMIT_SIGN_IN_START (60/60): passkey sign-in options and SSO starts per IP (each keeps state for minutes)
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
  'RATE_LIMIT_WECHAT_FAILURES',
  'RATE_LIMIT_EMBED_TOKEN',
  'RATE_LIMIT_SIGN_IN_START',
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
  /** A request refused by the limit named `limit` (metrics). */
  onRefused?: (limit: string) => void;
}

type Limiter = {
  readonly name: string;
  consume(key: string): Promise<RateLimiterRes>;
  reward(key: string): Promise<unknown>;
  get(key: string): Promise<RateLimiterRes | null>;
  readonly points: number;
};
type Key = (req: Request, res: Response) => string | null;

const digest = (value: unknown) => createHash('sha256').update(String(value).trim().toLowerCase()).digest('base64url').slice(0, 22);

/** The client's address as a rate-limit key: IPv4 as is, IPv6 by its /64 (one subscriber's block). */
export function ipKey(ip: string | undefined): string {
  const raw = (ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!net.isIPv6(raw)) return raw || 'unknown';
  const [head, tail = ''] = raw.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = raw.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

export type RateLimits = ReturnType<typeof createRateLimits>;

/** The seconds a limit's answer asks the client to wait (always ≥ 1). */
export const retryAfterOf = (e: AppError) => Number(e.headers['Retry-After'] ?? 1);

export function createRateLimits(opts: RateLimitOptions) {
  const { settings, redis, log } = opts;
  const prefix = `${opts.prefix ?? 'saoma:'}rl`;

  /** Redis when available, with a memory insurance limiter so a Redis outage never blocks sign-in. */
  function limiter(name: string, r: Rule | null): Limiter | null {
    if (!r) return null;
    const base = { points: r.points, duration: r.seconds, keyPrefix: `${prefix}:${name}` };
    const memory = new RateLimiterMemory(base);
    // rejectIfRedisNotReady: while Redis is down, count in memory at once instead of queueing.
    const counter = redis ? new RateLimiterRedis({ ...base, storeClient: redis, rejectIfRedisNotReady: true, insuranceLimiter: memory }) : memory;
    return Object.assign(counter, { name });
  }

  /**
   * Takes a point from each limiter, in order, stopping at the first that is over: a request
   * refused by an earlier (wider) limit never creates an entry in a later one, so an attacker
   * over the per-address limit cannot fill memory with per-username counters. A store error
   * lets the request through (and is logged).
   */
  async function take(limiters: Array<[Limiter | null, string | null]>): Promise<{ taken: Array<[Limiter, string]>; limited?: AppError }> {
    const taken: Array<[Limiter, string]> = [];
    for (const [l, key] of limiters) {
      if (!l || key === null) continue;
      try {
        await l.consume(key);
        taken.push([l, key]);
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          taken.push([l, key]); // counted even when over: a success still gives it back
          opts.onRefused?.(l.name);
          return { taken, limited: rateLimited(retryAfterOf429(err)) };
        }
        log?.warn({ err: (err as Error | null | undefined)?.message }, 'rate limiter store failed; request allowed');
      }
    }
    return { taken };
  }
  const giveBack = (taken: Array<[Limiter, string]>) =>
    Promise.all(taken.map(([l, key]) => (l as unknown as RateLimiterAbstract).reward(key, 1).catch(() => undefined)));

  /**
   * For limits on failures only, which a busy site passes thousands of times a minute: success
   * costs a read (no take-and-give-back). Concurrent failures may overshoot by the number in
   * flight, harmless for 256-bit secrets and tokens; passwords keep take-first (`take`).
   */
  async function overLimit(limiters: Array<[Limiter | null, string | null]>): Promise<(AppError & { limit: string }) | undefined> {
    let worst = 0;
    let limit = '';
    await Promise.all(
      limiters.map(async ([l, key]) => {
        if (!l || key === null) return;
        try {
          const state = await l.get(key);
          if (state && state.consumedPoints >= l.points && retryAfterOf429(state) > worst) {
            worst = retryAfterOf429(state);
            limit = l.name;
          }
        } catch (err) {
          log?.warn({ err: (err as Error | null | undefined)?.message }, 'rate limiter store failed; request allowed');
        }
      }),
    );
    return worst ? Object.assign(rateLimited(worst), { limit }) : undefined;
  }
  /** A refusal about to be answered, counted by its limit (metrics). */
  const refused = (limited: AppError & { limit: string }) => {
    opts.onRefused?.(limited.limit);
    return limited;
  };
  const countFailure = async (limiters: Array<[Limiter | null, string | null]>) => {
    await Promise.all(
      limiters.map(async ([l, key]) => {
        if (l && key !== null) await l.consume(key).catch(() => undefined);
      }),
    );
  };

  /** Failure-only limits as middleware: refuses when over (next(429)), counts a response that `isFailure`. */
  function failureMiddleware(limiters: Array<[Limiter | null, Key]>, isFailure: (res: Response) => boolean): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const keyed = limiters.map(([l, key]) => [l, key(req, res)] as [Limiter | null, string | null]);
      const limited = await overLimit(keyed);
      if (limited) {
        next(refused(limited));
        return;
      }
      res.on('finish', () => void (isFailure(res) && countFailure(keyed)));
      next();
    };
  }

  /**
   * Limits as middleware: takes a point from each (in order) or refuses with next(429), which
   * the surface's error handler renders in its own shape. With `countsAsFailure`, the points come
   * back unless the response is a failure (e.g. 401), so only failed attempts count.
   */
  function middleware(limiters: Array<[Limiter | null, Key]>, countsAsFailure?: (res: Response) => boolean): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const { taken, limited } = await take(limiters.map(([l, key]) => [l, key(req, res)]));
      if (limited) {
        next(limited);
        return;
      }
      if (countsAsFailure) res.on('finish', () => void (countsAsFailure(res) || giveBack(taken)));
      next();
    };
  }

  /** A wrong password or secret is a 401 on every surface; bad input and outages do not count. */
  const wrongCredentials = (res: Response) => res.statusCode === 401;

  const byIp: Key = (req) => ipKey(req.ip);
  const bodyField =
    (field: string): Key =>
    (req) => {
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
    wechatFailures: limiter('wechat-failures', settings.RATE_LIMIT_WECHAT_FAILURES),
    embedToken: limiter('embed-token', settings.RATE_LIMIT_EMBED_TOKEN),
    signInStart: limiter('sign-in-start', settings.RATE_LIMIT_SIGN_IN_START),
    adminLogin: limiter('admin-login', settings.RATE_LIMIT_ADMIN_LOGIN),
    adminLoginIp: limiter('admin-login-ip', settings.RATE_LIMIT_ADMIN_LOGIN_IP),
  };

  // Per address first: a sprayer over it never reaches (nor fills) the per-username counters.
  const phoneLogin = middleware(
    [
      [L.phoneLoginIp, byIp],
      [L.phoneLogin, bodyField('username')],
    ],
    wrongCredentials,
  );
  const phoneRegister = middleware([[L.phoneRegister, byIp]]);
  // Passkey, assertion and SSO-handoff sign-ins: failures per address (there is no username to key on).
  const phoneSignInIp = middleware([[L.phoneLoginIp, byIp]], wrongCredentials);
  // Anyone may start these, and each start keeps a challenge or an attempt in the store for minutes.
  const signInStart = middleware([[L.signInStart, byIp]]);

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
    if (pairLimited) throw refused(pairLimited);
    const ok = await check();
    if (ok) return true;
    await countFailure([pair, app]);
    log?.warn({ appId, ip }, 'client authentication failed');
    if (appLimited) throw refused(appLimited);
    return false;
  }

  return {
    /** POST /api/mobile/login: failures per IP, then per username + IP. Needs the JSON body parsed. */
    phoneLogin,
    /** POST /api/mobile/register: per IP. */
    phoneRegister,
    /** Mounted first in the phone API router (`mobile/routes.ts`). */
    mobile: Router()
      .post('/login', express.json({ limit: '16kb' }), phoneLogin)
      .post(['/login/passkey', '/login/assertion', '/login/sso'], phoneSignInIp)
      .post('/login/passkey/options', signInStart)
      .post('/register', phoneRegister),
    /** GET /app/sso/:sourceId (the browser starting a federated sign-in): per IP. */
    signInStart,
    /** POST /api/mobile/scans: per user; mount after the device-token check (res.locals.user). */
    scans: middleware([[L.scans, (req, res) => (res.locals.user?.id ? `u:${res.locals.user.id}` : `t:${digest(req.get('authorization'))}`)]]),
    /** GET|POST /auth, the QR pages and their /qr: per IP. */
    qrCreate: middleware([[L.qrCreate, byIp]]),
    /** POST /token, /token/introspection, /token/revocation: failed client authentications per IP. */
    tokenEndpoint: failureMiddleware([[L.tokenIp, byIp]], wrongCredentials),
    /**
     * /sns: failed calls per address (unknown appids, wrong secrets, unknown tokens); the
     * surface marks a failure with `res.locals.wechatFailed`. Nothing here spends a site's quota.
     */
    wechatFailures: failureMiddleware([[L.wechatFailures, byIp]], (res) => res.locals.wechatFailed === true),
    /**
     * A site's /sns quota, spent only once the call has proved it is that site's (right
     * AppSecret, or a token issued to it): throws 429 (WeChat's 45011) when over.
     */
    async wechatQuota(appId: string): Promise<void> {
      const { limited } = await take([[L.wechat, `a:${digest(appId)}`]]);
      if (limited) throw limited;
    },
    /** /connect/embed/<token>/*: unknown tokens per address (404s), so no address can test guesses. */
    embedTokens: failureMiddleware([[L.embedToken, byIp]], (res) => res.statusCode === 404),
    /** Admin console sign-in: failures per IP, then per username + IP; mount after the body parser. */
    adminLogin: middleware(
      [
        [L.adminLoginIp, byIp],
        [L.adminLogin, bodyField('username')],
      ],
      wrongCredentials,
    ),
    verifyClientSecret,
    /**
     * Remembers the client address for code below that has no request at hand (a secret check
     * inside the WeChat facade's token exchange). Mount first, app-wide.
     */
    context: ((req, _res, next) => requestIp.run(req.ip ?? '', next)) as RequestHandler,
    /** The address of the request being served (oidc-provider's context, else `context`'s). */
    currentIp(): string {
      const ctx = Provider.ctx;
      return (ctx?.req as { ip?: string } | undefined)?.ip ?? requestIp.getStore() ?? ctx?.ip ?? '';
    },
  };
}

const retryAfterOf429 = (r: RateLimiterRes) => Math.max(1, Math.ceil(r.msBeforeNext / 1000));

/** The client address of the request being served, for code that has no `req` (see `context`). */
const requestIp = new AsyncLocalStorage<string>();
