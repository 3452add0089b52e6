import { Router, type Response } from 'express';
import { z } from 'zod';
import { cookieOf } from '../http/cookies.js';
import { toAppError } from '../http/render.js';
import type { Logger } from '../log.js';
import { identityError } from './error-codes.js';
import type { Federation } from './federation.js';
import { sourceIdSchema } from './source-input.js';

/**
 * The binding cookie (start → callback) and the same binding from the callback to the phone
 * app's claim (POST /api/mobile/login/sso). Under https they are __Host- cookies (Secure, Path=/,
 * no Domain): a sibling subdomain could otherwise plant its own sign-in's binding in a victim's
 * browser (cookie tossing) and complete that sign-in there. Plain http (loopback) keeps paths.
 */
export function ssoCookies(issuer: string) {
  const secure = issuer.startsWith('https:');
  return {
    secure,
    binding: secure ? { name: '__Host-saoma_sso', path: '/' } : { name: 'saoma_sso', path: '/app/sso/' },
    handoff: secure ? { name: '__Host-saoma_sso_handoff', path: '/' } : { name: 'saoma_sso_handoff', path: '/api/mobile/login/sso' },
  };
}
const sourceParam = z.object({ sourceId: sourceIdSchema });

/**
 * "Sign in with <organisation SSO>" in the browser: `/app/sso/:sourceId` starts it (a redirect
 * to the organisation's provider), `/app/sso/:sourceId/callback` finishes it. Both end on the
 * phone web app, with `#sso=<one-time code>` or `#sso-error=<error code>`: the app signs in or
 * says what went wrong in its own words and language (the fragment never reaches a server or
 * a Referer). The binding cookie is SameSite=Lax: sent on the provider's top-level redirect
 * back, never on a cross-site subrequest. The callback hands it on as the handoff cookie, which
 * the web app's claim of the code carries: proof that this is the browser that started.
 */
export function identityWebRoutes(deps: { federation: Federation; issuer: string; log: Logger }): Router {
  const router = Router();
  const { secure, binding: bindingCookie, handoff: handoffCookie } = ssoCookies(deps.issuer);
  const fail = (res: Response, err: unknown) => {
    const e = toAppError(err);
    if (e.status >= 500 && e.code !== 'source_unreachable') deps.log.error({ err }, 'federated sign-in failed');
    res.redirect(303, `/app#sso-error=${encodeURIComponent(e.code)}`);
  };
  const clearCookie = (res: Response) => res.clearCookie(bindingCookie.name, { path: bindingCookie.path, httpOnly: true, sameSite: 'lax', secure });

  router.get('/app/sso/:sourceId', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      const { sourceId } = sourceParam.parse(req.params);
      const { url, binding } = await deps.federation.begin(sourceId);
      res.cookie(bindingCookie.name, binding, { path: bindingCookie.path, httpOnly: true, sameSite: 'lax', secure, maxAge: 10 * 60_000 });
      res.redirect(303, url);
    } catch (err) {
      fail(res, err instanceof z.ZodError ? identityError('unknown_source') : err);
    }
  });

  router.get('/app/sso/:sourceId/callback', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    clearCookie(res);
    try {
      const { sourceId } = sourceParam.parse(req.params);
      // The URL the provider redirected to, as registered there (PUBLIC_URL), not as the Host header says.
      const callbackUrl = new URL(req.originalUrl, deps.issuer);
      const binding = cookieOf(req, bindingCookie.name);
      const { code } = await deps.federation.finish(sourceId, callbackUrl, binding);
      res.cookie(handoffCookie.name, binding, { path: handoffCookie.path, httpOnly: true, sameSite: 'lax', secure, maxAge: 60_000 });
      res.redirect(303, `/app#sso=${code}`);
    } catch (err) {
      fail(res, err instanceof z.ZodError ? identityError('unknown_source') : err);
    }
  });

  return router;
}
