import type { IncomingMessage } from 'node:http';
import { AsyncResource } from 'node:async_hooks';
import type { RequestHandler } from 'express';
import { outageSource } from '../http/outage.js';
import type { Logger } from '../log.js';
import type { Metrics } from './metrics.js';

/**
 * The route a request is counted under: a template, never the raw URL (bounded labels, and no
 * codes or secrets from query strings). In order:
 * 1. a name given with `nameRoute` (oidc-provider's endpoints, whose router express never sees:
 *    oidc/extensions.ts names them by `provider.pathFor(route)`; static files: `routeLabel`);
 * 2. the express route that matched: its mount path (`req.baseUrl` when it matched) + its path;
 * 3. `unmatched` (404s, and errors before any route).
 */
const named = new WeakMap<IncomingMessage, string>();

export const nameRoute = (req: IncomingMessage, route: string): void => void named.set(req, route);

/** Names every request through here (mounts that have no express route: static files). */
export const routeLabel =
  (route: string): RequestHandler =>
  (req, _res, next) => {
    nameRoute(req, route);
    next();
  };

const UNMATCHED = 'unmatched';

const pathOf = (route: { path?: unknown } | undefined): string => {
  const p = route?.path;
  if (Array.isArray(p)) return p.map(String).join('|');
  return typeof p === 'string' || p instanceof RegExp ? String(p) : '';
};

/**
 * Times every request (first in app.ts, after the request id) and, when it ends: observes its
 * duration by method, route and status; counts an outage that failed it (http/render.ts leaves
 * what was thrown in `res.locals.thrown`); logs one debug line (route template, never the URL).
 */
export function httpMetrics(metrics: Metrics, log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // Express sets req.route when a route matches (router 2: never cleared) and restores
    // req.baseUrl as an error leaves a mount, so the mount path is read at the moment of matching.
    let route: unknown;
    let matched: string | undefined;
    Object.defineProperty(req, 'route', {
      configurable: true,
      enumerable: true,
      get: () => route,
      set(value: { path?: unknown }) {
        route = value;
        matched = `${req.baseUrl}${pathOf(value)}`;
      },
    });
    // Bound to this request's async context, so the log line carries its request id.
    res.once(
      'close',
      AsyncResource.bind(() => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const label = named.get(req) ?? matched ?? UNMATCHED;
        const status = res.statusCode;
        metrics.request({ method: req.method, route: label, status: String(status) }, seconds);
        const outage = outageSource(res.locals.thrown);
        if (outage) metrics.backendError(outage);
        log.debug({ method: req.method, route: label, status, ms: Math.round(seconds * 1000) }, 'request');
      }),
    );
    next();
  };
}
