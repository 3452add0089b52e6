import type { Request, RequestHandler, Response } from 'express';
import { Router } from 'express';
import type Provider from 'oidc-provider';
import type { ClientDirectory } from '../apps/directory.js';
import { defineErrors } from '../errors.js';
import { errorHandler, renderJson, renderPage, toAppError } from '../http/render.js';
import { noStore } from '../http/guard.js';
import { requireSameOrigin } from '../http/security.js';
import type { Logger } from '../log.js';
import { loginError } from '../login/error-codes.js';
import type { QrImages } from '../login/images.js';
import type { Logins } from '../login/login.js';
import type { LoginRequest } from '../login/store.js';
import { eventStream, longPoll, snapshotJson } from '../login/waiting-http.js';
import { renderQrPage } from './qr-page.js';
import { TTL } from './provider.js';

/**
 * The OIDC surface of a login (API.md §2): oidc-provider's interaction, adapted to the login
 * core. The interaction uid names the login; only the browser holding the interaction's cookie
 * gets anywhere (oidc-provider resolves the interaction from its signed cookie, and it must be
 * the one in the path).
 */
export interface InteractionRouteDeps {
  provider: Provider;
  logins: Logins;
  clients: ClientDirectory;
  images: QrImages;
  issuer: string;
  /** Login starts and QR creations per address (http/rate-limit.ts qrCreate). */
  qrCreate: RequestHandler;
}

const interactionError = defineErrors({
  interaction_not_found: [400, 'This login request has expired or belongs to another browser. Go back to the site and start again.'],
});

const SUPPORTED_SCOPES = new Set(['openid', 'profile', 'offline_access']);

/** Claim names from the OIDC `claims` request parameter (userinfo and id_token members). */
function claimNames(raw: unknown): string[] {
  if (typeof raw !== 'string') return [];
  try {
    const parsed = JSON.parse(raw) as Record<string, Record<string, unknown> | null> | null; // 'null' parses too
    return [...new Set(['userinfo', 'id_token'].flatMap((k) => Object.keys(parsed?.[k] ?? {})))];
  } catch {
    return [];
  }
}

const requesterOf = (req: Request) => ({ ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '', createdAt: new Date().toISOString() });
const whoOf = (req: Request) => ({ ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null });

export function interactionRoutes(deps: InteractionRouteDeps): Router {
  const { provider, logins, clients, images, qrCreate } = deps;
  const router = Router();
  router.use('/interaction/:uid', noStore);
  router.post('/interaction/:uid/abort', requireSameOrigin({ issuer: deps.issuer }));

  async function interactionOf(req: Request, res: Response) {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      // A store that does not answer is not a finished login: the page must retry, not give up.
      const appError = toAppError(err);
      if (appError.status === 503) throw appError;
      throw interactionError('interaction_not_found');
    }
    if (details.uid !== req.params.uid)
      throw interactionError('interaction_not_found', 'This login request belongs to another browser tab or has been replaced.');
    return details;
  }

  /** The QR this interaction shows; its first call starts the login with this browser as the requester. */
  async function currentQr(req: Request, res: Response) {
    const details = await interactionOf(req, res);
    const request: LoginRequest = {
      clientId: String(details.params.client_id),
      scopes: (typeof details.params.scope === 'string' ? details.params.scope : 'openid').split(' ').filter((s) => SUPPORTED_SCOPES.has(s)),
      claims: claimNames(details.params.claims),
    };
    const session = await logins.currentQr(details.uid, { request, requester: requesterOf(req), ttlMs: TTL.Interaction * 1000 });
    const uiLocales = typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined;
    return { session, uiLocales };
  }

  router.get('/interaction/:uid', qrCreate, async (req, res) => {
    const { session, uiLocales } = await currentQr(req, res);
    const client = await clients.get(session.clientId);
    res.type('html').send(
      renderQrPage({
        req,
        langHint: uiLocales,
        uid: session.loginId,
        app: { name: client?.name ?? session.clientId, logoUrl: client?.logoUrl ?? null, homepage: client?.homepage ?? null },
        snapshot: logins.snapshot(session),
        payload: images.payloadOf(session.qrId),
        svg: await images.svgOf(session.qrId),
        serverNow: logins.now(),
      }),
    );
  });

  router.get('/interaction/:uid/qr', qrCreate, async (req, res) => {
    const { session } = await currentQr(req, res);
    res.json({ ...snapshotJson(logins.snapshot(session)), payload: images.payloadOf(session.qrId), svg: await images.svgOf(session.qrId) });
  });

  router.get('/interaction/:uid/qr/events', async (req, res) => {
    const { uid } = await interactionOf(req, res);
    await eventStream(logins, uid, req, res);
  });

  router.get('/interaction/:uid/qr/status', async (req, res) => {
    const { uid } = await interactionOf(req, res);
    const snapshot = await longPoll(logins, uid, req);
    if (!snapshot) throw loginError('qr_not_found');
    res.json(snapshot);
  });

  /** Finish: the core claims the decided QR once; oidc-provider redirects to the site with a code (or access_denied). */
  router.get('/interaction/:uid/complete', async (req, res) => {
    const { uid } = await interactionOf(req, res);
    const done = await logins.complete(uid, whoOf(req));
    const result = done.denied
      ? {
          error: 'access_denied',
          error_description: done.reason === 'denied' ? 'The user denied the login on the phone.' : 'This account can no longer sign in.',
        }
      : { login: { accountId: done.approval.accountId, amr: ['qr'], remember: false }, consent: { grantId: done.approval.grantId } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  });

  /** The person gave up on the computer ("cancel"): the site hears access_denied. */
  router.post('/interaction/:uid/abort', async (req, res) => {
    await interactionOf(req, res);
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The login was cancelled.' }, { mergeWithLastSubmission: false });
  });

  return router;
}

/** The surface's errors: pages for the page, its cancel and completion; JSON for the page's scripts (`…/qr*`). */
export const interactionErrors = (log: Logger) =>
  errorHandler(log, (req, res, e) =>
    req.method === 'GET' && /\/qr(\/|$)/.test(req.path) ? renderJson(req, res, e) : renderPage(renderQrPage.error)(req, res, e),
  );
