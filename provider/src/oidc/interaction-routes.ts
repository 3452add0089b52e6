import type { Request, Response } from 'express';
import { Router } from 'express';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import type { Audit } from '../accounts/audit.js';
import type { Authorizations } from '../accounts/authorizations.js';
import { AppError } from '../errors.js';
import { toAppError } from '../http/errors.js';
import { noStore, parseWith } from '../http/guard.js';
import type { ClientDirectory } from '../apps/directory.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { qrError } from '../login/error-codes.js';
import * as machine from '../login/machine.js';
import type { QrSession } from '../login/machine.js';
import { createQrImages } from '../login/images.js';
import { renderQrPage } from './qr-page.js';
import { qrChannel, type QrService, type QrSnapshot } from '../login/store.js';

export interface QrRouteDeps {
  provider: Provider;
  qr: QrService;
  store: EphemeralStore;
  clients: ClientDirectory;
  authorizations: Authorizations;
  audit: Audit;
  issuer: string;
  /** Aborted when the server begins shutting down: streams end and long-polls answer at once. */
  shutdown?: AbortSignal;
}

const SUPPORTED_SCOPES = new Set(['openid', 'profile', 'offline_access']);
const statusQuery = z.object({
  last: z.enum(['pending', 'scanned', 'confirmed', 'denied', 'expired']).optional(),
  wait: z.coerce.number().min(0).max(30).default(25),
});

/** The browser side of a login (API.md §2): QR page, QR JSON, SSE, long-poll, completion. */
export function qrRoutes(deps: QrRouteDeps): Router {
  const { provider, qr, store, clients, audit, authorizations, issuer } = deps;
  const shutdown = deps.shutdown ?? new AbortController().signal;
  const router = Router();
  router.use('/interaction/:uid', noStore);
  /** Re-reads of this process's open streams and long-polls, run when the store resubscribes. */
  const openStreams = new Set<() => void>();
  store.onResubscribed(() => openStreams.forEach((recheck) => recheck()));

  /**
   * Only the browser holding this interaction's cookie gets anywhere: oidc-provider resolves
   * the interaction from its signed cookie, and it must be the one in the path.
   */
  async function interactionOf(req: Request, res: Response) {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      // A store that does not answer is not a finished login: the page must retry, not give up.
      const appError = toAppError(err);
      if (appError.status === 503) throw appError;
      throw new AppError('interaction_not_found', 400, 'This login request has expired or belongs to another browser. Go back to the site and start again.');
    }
    if (details.uid !== req.params.uid) throw new AppError('interaction_not_found', 400, 'This login request belongs to another browser tab or has been replaced.');
    return details;
  }

  async function currentQr(req: Request, res: Response): Promise<{ session: QrSession; uiLocales?: string }> {
    const details = await interactionOf(req, res);
    const scopes = String(details.params.scope ?? 'openid').split(' ').filter((s) => SUPPORTED_SCOPES.has(s));
    const uiLocales = typeof details.params.ui_locales === 'string' ? details.params.ui_locales : undefined;
    const session = await qr.current({
      uid: details.uid,
      clientId: String(details.params.client_id),
      scopes,
      requester: { ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '', createdAt: new Date().toISOString() },
    });
    return { session, uiLocales };
  }

  const { payloadOf, svgOf } = createQrImages(issuer, store);
  const json = (s: QrSnapshot) => ({ ...s, expiresAt: new Date(s.expiresAt).toISOString() });

  router.get('/interaction/:uid', async (req, res) => {
    let session: QrSession;
    let uiLocales: string | undefined;
    try {
      ({ session, uiLocales } = await currentQr(req, res));
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return void res.status(err.status).type('html').send(renderQrPage.error(err, req));
      throw err;
    }
    const client = await clients.get(session.clientId);
    res.type('html').send(
      renderQrPage({
        req,
        langHint: uiLocales,
        uid: session.uid,
        app: { name: client?.name ?? session.clientId, logoUrl: client?.logoUrl ?? null, homepage: client?.homepage ?? null },
        snapshot: qr.snapshot(session),
        payload: payloadOf(session.qrId),
        svg: await svgOf(session.qrId),
      }),
    );
  });

  router.get('/interaction/:uid/qr', async (req, res) => {
    const { session } = await currentQr(req, res);
    res.json({ ...json(qr.snapshot(session)), payload: payloadOf(session.qrId), svg: await svgOf(session.qrId) });
  });

  router.get('/interaction/:uid/qr/events', async (req, res) => {
    const { uid } = await interactionOf(req, res);
    if (shutdown.aborted) throw new AppError('temporarily_unavailable', 503, 'The server is restarting; try again.', { 'Retry-After': '1' });
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
    });
    res.write('retry: 2000\n\n');
    let last = '';
    let expiryTimer: NodeJS.Timeout | undefined;
    const send = (s: QrSnapshot) => {
      const data = JSON.stringify(json(s));
      if (data === last) return;
      last = data;
      res.write(`event: status\ndata: ${data}\n\n`);
      // Time alone expires a QR (no event is published): tell the page when it happens.
      clearTimeout(expiryTimer);
      if (s.status === 'pending' || s.status === 'scanned') {
        expiryTimer = setTimeout(() => send({ ...s, status: 'expired' }), Math.max(0, s.expiresAt - qr.now()) + 50);
      }
    };
    // Subscribe before reading, so a change between the two is never lost.
    const unsubscribe = await store.subscribe(qrChannel(uid), (message) => send(JSON.parse(message) as QrSnapshot));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 20_000);
    // Pub/sub delivers nothing while the store reconnects (a Redis restart): re-read once it is
    // back, so a change made in that gap still reaches the page (send skips repeats).
    const recheck = () => void qr.ofInteraction(uid).then((s) => s && send(qr.snapshot(s)), () => undefined);
    openStreams.add(recheck);
    const close = () => {
      clearInterval(heartbeat);
      openStreams.delete(recheck);
      clearTimeout(expiryTimer);
      void unsubscribe().catch(() => {});
    };
    req.on('close', close);
    // Shutting down: end the stream cleanly; EventSource reconnects (to another instance) by itself.
    const end = () => {
      close();
      res.end();
    };
    shutdown.addEventListener('abort', end, { once: true });
    req.on('close', () => shutdown.removeEventListener('abort', end));
    const session = await qr.ofInteraction(uid);
    if (session) send(qr.snapshot(session));
  });

  router.get('/interaction/:uid/qr/status', async (req, res) => {
    const { uid } = await interactionOf(req, res);
    const { last, wait } = parseWith(statusQuery, req.query);
    const snapshot = await waitForChange(uid, last, wait * 1000, req);
    if (!snapshot) throw qrError('qr_not_found');
    res.json(json(snapshot));
  });

  /** Long-poll: answer at once if the status differs from `last`, else when it changes or `wait` runs out. */
  async function waitForChange(uid: string, last: string | undefined, waitMs: number, req: Request): Promise<QrSnapshot | null> {
    let wake: () => void = () => {};
    const changed = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = await store.subscribe(qrChannel(uid), () => wake());
    const recheck = () => wake();
    openStreams.add(recheck);
    try {
      const session = await qr.ofInteraction(uid);
      if (!session) return null;
      const now = qr.snapshot(session);
      if (now.status !== last || waitMs === 0) return now;
      const until = Math.min(waitMs, Math.max(0, now.expiresAt - qr.now()) + 50);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        changed,
        new Promise<void>((r) => (timer = setTimeout(r, until))),
        new Promise<void>((r) => req.once('close', r)),
        // Shutting down: answer now with the current status, so the page simply polls again.
        new Promise<void>((r) => (shutdown.aborted ? r() : shutdown.addEventListener('abort', () => r(), { once: true }))),
      ]);
      clearTimeout(timer);
      const after = await qr.ofInteraction(uid);
      return after ? qr.snapshot(after) : now;
    } finally {
      openStreams.delete(recheck);
      await unsubscribe().catch(() => {});
    }
  }

  /**
   * Finish the login: claim the decided QR exactly once (compare-and-set), then hand the result
   * to oidc-provider, which redirects to the site with a code (or access_denied).
   */
  router.get('/interaction/:uid/complete', async (req, res) => {
    const details = await interactionOf(req, res);
    const current = await qr.ofInteraction(details.uid);
    if (!current) throw qrError('not_decided');
    const ready = machine.claim(current, qr.now());
    if (!ready.ok) throw qrError(ready.error);
    const who = { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };

    if (current.status === 'denied') {
      await qr.claim(current.qrId);
      await audit.record('login.denied', { userId: current.userId, appId: current.clientId, ...who });
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied the login on the phone.' }, { mergeWithLastSubmission: false });
      return;
    }
    // Every durable write before the single-use claim (a conditional write, last): if the
    // database is down this answers 503 and the confirmed QR can still be completed on retry.
    const accountId = current.userId!;
    const grant = new provider.Grant({ accountId, clientId: current.clientId });
    grant.addOIDCScope(current.scopes.join(' '));
    const requestedClaims = claimNames(details.params.claims);
    if (requestedClaims.length) grant.addOIDCClaims(requestedClaims);
    const grantId = await grant.save();
    await authorizations.recordApproval(accountId, current.clientId, current.scopes);
    let session: QrSession;
    try {
      session = await qr.claim(current.qrId);
    } catch (err) {
      await grant.destroy().catch(() => undefined); // lost the race: the winner has its own grant
      throw err;
    }
    await audit.record('login.completed', { userId: accountId, appId: session.clientId, ...who, detail: { scopes: session.scopes } });
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId, amr: ['qr'], remember: false }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  });

  /** The person gave up on the computer ("cancel"): the site hears access_denied. */
  router.post('/interaction/:uid/abort', async (req, res) => {
    await interactionOf(req, res);
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The login was cancelled.' }, { mergeWithLastSubmission: false });
  });

  return router;
}

/** Claim names from the OIDC `claims` request parameter (userinfo and id_token members). */
function claimNames(raw: unknown): string[] {
  if (typeof raw !== 'string') return [];
  try {
    const parsed = JSON.parse(raw) as Record<string, Record<string, unknown> | null>;
    return [...new Set(['userinfo', 'id_token'].flatMap((k) => Object.keys(parsed?.[k] ?? {})))];
  } catch {
    return [];
  }
}
