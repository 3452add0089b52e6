/**
 * Response headers and request-origin checks for the browser surfaces.
 *
 * - `securityHeaders`: helmet with a strict CSP for every page we serve (QR page, phone app,
 *   admin console) and harmless on JSON. Our pages load only same-origin scripts and styles and
 *   carry data in `<script type="application/json">` blocks, so no 'unsafe-inline' anywhere.
 *   oidc-provider's own auto-submitting pages (form_post) add their script's hash to this
 *   header themselves (lib/helpers/script_src_sha.js), so it is safe in front of it too.
 * - `setFramedPageHeaders`: the same for the one page other sites may frame (WeChat's
 *   wxLogin.js iframe), framed only by the app's own origins.
 * - `isolatedPageHeaders`: cross-origin isolation for pages that are never opened by a site
 *   (phone app, admin console).
 * - `requireSameOrigin`: refuses state-changing browser requests sent from another origin.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { commonError } from '../errors.js';

export interface SecurityOptions {
  /** The public base URL (config.issuer): HSTS and upgrade-insecure-requests only over https. */
  issuer: string;
}

/** The strict policy, by directive (exported for tests and for the docs). */
function strictDirectives(opts: SecurityOptions): Record<string, string[]> {
  const tls = new URL(opts.issuer).protocol === 'https:';
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    // App logos and avatars come from anywhere over https; QR codes may be data: images; the
    // phone app decodes a photo of a QR through a blob: URL of the chosen file (qr-scanner).
    'img-src': ["'self'", 'data:', 'https:', 'blob:'],
    'connect-src': ["'self'"],
    'font-src': ["'self'"],
    // qr-scanner runs its decoder in a worker it may start from a blob: URL.
    'worker-src': ["'self'", 'blob:'],
    'manifest-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'frame-ancestors': ["'none'"],
    // No form-action: browsers apply it to the redirect after a form post, and the cancel
    // form's redirect goes to the site's redirect_uri (any origin, even a custom scheme).
    ...(tls ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

function headers(opts: SecurityOptions, overrides: { frameAncestors: string[]; corp: 'same-origin' | 'cross-origin' }) {
  const tls = new URL(opts.issuer).protocol === 'https:';
  const directives = { ...strictDirectives(opts), 'frame-ancestors': overrides.frameAncestors };
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    // Sites open the login in a popup and wait for it through window.opener; a COOP other
    // than unsafe-none would sever that link for good. Pages no site opens get `isolatedPageHeaders`.
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: { policy: overrides.corp },
    // Nothing leaves for other origins. Not no-referrer: under it browsers send `Origin: null` on
    // our own form posts (Fetch, "serialize a request origin"), which requireSameOrigin refuses.
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: tls ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    // frame-ancestors decides; X-Frame-Options only for browsers that predate it.
    xFrameOptions: overrides.frameAncestors.includes("'none'") ? { action: 'deny' } : false,
  });
}

/** Every response: strict CSP, no framing, nosniff, no referrer, HSTS over https. */
export function securityHeaders(opts: SecurityOptions): RequestHandler {
  const h = headers(opts, { frameAncestors: ["'none'"], corp: 'same-origin' });
  return (req, res, next) => h(req as IncomingMessage, res as ServerResponse, next);
}

/**
 * A page other sites frame (the WeChat-style embedded QR): the strict policy, except who may
 * frame it (`ancestors`: the app's own origins, or `*` for an error page that carries nothing),
 * whose stylesheet it may load, and no image or font from anywhere else (a stylesheet could
 * otherwise send what its selectors match to a server of its choosing). Call per response.
 */
export function setFramedPageHeaders(res: Response, opts: SecurityOptions, frame: { ancestors: string[]; styleSources?: string[] }): void {
  const directives: Record<string, string[]> = {
    ...strictDirectives(opts),
    'style-src': ["'self'", ...(frame.styleSources ?? [])],
    'img-src': ["'self'", 'data:'],
    'worker-src': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': frame.ancestors.length ? frame.ancestors : ["'none'"],
  };
  res.removeHeader('X-Frame-Options');
  res.set({
    'Content-Security-Policy': Object.entries(directives)
      .map(([k, v]) => [k, ...v].join(' '))
      .join('; '),
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'Referrer-Policy': 'no-referrer',
  });
}

/** Pages no other site opens or frames (phone app, admin console): their own browsing context group. */
export const isolatedPageHeaders: RequestHandler = (_req, res, next) => {
  res.set('Cross-Origin-Opener-Policy', 'same-origin');
  next();
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface OriginCheckOptions extends SecurityOptions {
  /** More origins whose pages may post here (e.g. the provider reached on a LAN address). */
  allowedOrigins?: string[];
  /**
   * true: a request with neither `Origin` nor `Sec-Fetch-Site` is refused (cookie-authenticated
   * forms: the admin console). false: it passes (a non-browser client carries no ambient
   * cookies, so it cannot be a cross-site forgery).
   */
  strict?: boolean;
}

/**
 * CSRF defence for cookie-authenticated, state-changing requests: the request must come from
 * one of our own pages. Browsers send `Origin` on every POST (and `Sec-Fetch-Site` on every
 * request) and pages cannot forge either, so checking them is stateless, needs no token in
 * forms or scripts (our CSP forbids inline script anyway), and also covers attacks from sibling
 * subdomains that SameSite cookies let through. `Origin: null` (sandboxed frames, privacy
 * redirects) is refused.
 */
export function requireSameOrigin(opts: OriginCheckOptions): RequestHandler {
  const allowed = new Set([new URL(opts.issuer).origin, ...(opts.allowedOrigins ?? []).map((o) => new URL(o).origin)]);
  const sameOrigin = (req: Request): boolean => {
    if (SAFE_METHODS.has(req.method)) return true;
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    // The request's own origin too: the provider may be reached on another name than PUBLIC_URL.
    if (origin !== undefined) return allowed.has(origin) || origin === `${req.protocol}://${req.host}`;
    if (site !== undefined) return site === 'same-origin' || site === 'none';
    return !opts.strict;
  };
  return (req: Request, _res: Response, next: NextFunction) => {
    next(sameOrigin(req) ? undefined : crossOrigin());
  };
}

const crossOrigin = () => commonError('invalid_origin');
