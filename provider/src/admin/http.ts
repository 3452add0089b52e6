import { Router, type RequestHandler } from 'express';
import { errorHandler, renderJson } from '../http/render.js';
import { createRateLimits, RATE_LIMIT_NAMES, type RateLimitSettings } from '../http/rate-limit.js';
import type { Logger } from '../log.js';
import type { Administration } from './administration.js';
import { adminAudit } from './audit.js';
import { requireAdminToken } from './api/bearer.js';
import { consoleRoutes } from './console/router.js';
import type { ConsoleSessions } from './console/session.js';

export interface AdminHttpDeps {
  log: Logger;
  /** Console sessions (console/session.ts, on the ephemeral store). */
  sessions: ConsoleSessions;
  issuer: string;
  /**
   * Counts failed admin sign-ins and bad bearer tokens: `createRateLimits(...).adminLogin`
   * (http/rate-limit.ts), shared by every instance on Redis. Omitted: a per-process limiter
   * with the documented defaults (5 per username + IP, 20 per IP, per 15 minutes).
   */
  adminLogin?: RequestHandler;
}

/**
 * Administration on the web, for `app.use(...)` before oidc-provider's callback:
 * - `/api/admin`: the admin API (API.md §5) behind bearer admin tokens (auth.ts), JSON errors;
 * - `/admin`: the web console (console/router.ts), session cookie + CSRF.
 * Failed sign-ins and bad tokens count against the same admin-login limits.
 */
export function adminHttp(administration: Administration, deps: AdminHttpDeps): Router {
  const { log } = deps;
  const limiter = deps.adminLogin ?? defaultAdminLoginLimiter();
  const router = Router();
  router.use('/api/admin', limiter, requireAdminToken(administration.tokens), administration.api, errorHandler(log, renderJson));
  router.use(
    '/admin',
    consoleRoutes({
      services: administration,
      record: adminAudit(administration.audit),
      sessions: deps.sessions,
      issuer: deps.issuer,
      log,
      loginLimiter: limiter,
    }),
  );
  return router;
}

/** The limits RATE_LIMIT_ADMIN_LOGIN(_IP) default to, in this process's memory. */
function defaultAdminLoginLimiter(): RequestHandler {
  const off = Object.fromEntries(RATE_LIMIT_NAMES.map((n) => [n, null])) as RateLimitSettings;
  const settings = { ...off, RATE_LIMIT_ADMIN_LOGIN: { points: 5, seconds: 900 }, RATE_LIMIT_ADMIN_LOGIN_IP: { points: 20, seconds: 900 } };
  return createRateLimits({ settings }).adminLogin;
}
