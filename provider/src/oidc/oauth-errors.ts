import type { ErrorRequestHandler } from 'express';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Logger } from '../log.js';
import { errorBody, errorHandler, plainErrorPage, toAppError } from '../http/render.js';

/**
 * The OAuth surface's errors (oidc-provider's endpoints: /token, introspection, revocation,
 * /auth, userinfo). oidc-provider renders its own OAuth errors; this adapts ours to them:
 * - a rate limit in front of an OAuth endpoint: 429 `{error: "invalid_request", error_description}`
 *   (RFC 6749 §5.2 has no rate-limit code; `slow_down` is device-flow polling advice and
 *   `invalid_client` would be false for a right secret; the status and Retry-After carry it);
 * - a backing service down inside oidc-provider (which would say 500 server_error): 503
 *   `temporarily_unavailable` with Retry-After, so sites and their libraries retry.
 */

/** For the limiter middleware mounted in front of oidc-provider's OAuth endpoints. */
export const oauthErrorHandler = (log: Logger): ErrorRequestHandler =>
  errorHandler(log, (_req, res, e) => {
    res.set('Pragma', 'no-cache');
    res.json(errorBody(e, e.code === 'rate_limited' ? { error: 'invalid_request', error_description: e.description } : e.toJSON()));
  });

/** Inside oidc-provider (client authentication): a limit as its own 429 OAuth error. */
export class ClientAuthRateLimited extends errors.OIDCProviderError {
  constructor(description: string) {
    super(429, 'invalid_request');
    Object.assign(this, { error_description: description });
  }
}

/** oidc-provider's 500 for an outage becomes 503 (redirects to a site are left as they are). */
export function serveOutagesAs503(provider: Provider): void {
  const outages = new WeakSet<object>();
  provider.on('server_error', (ctx: object, err: unknown) => {
    if (toAppError(err).status === 503) outages.add(ctx);
  });
  provider.use(async (ctx, next) => {
    await next();
    if (!outages.has(ctx) || ctx.status < 500) return;
    const e = toAppError(Object.assign(new Error('unavailable'), { code: 'ECONNREFUSED' }));
    ctx.status = 503;
    ctx.set({ ...e.headers, 'Cache-Control': 'no-store' });
    if (ctx.accepts('json', 'html') === 'html') {
      ctx.type = 'html';
      ctx.body = plainErrorPage(e);
    } else {
      ctx.body = errorBody(e);
    }
  });
}
