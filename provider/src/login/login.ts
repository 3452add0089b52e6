import type { EphemeralStore } from '../storage/ephemeral.js';
import { systemClock, type Clock } from './clock.js';
import { loginError } from './error-codes.js';
import { createLoginEvents, type OnNotified, type WaitLimits } from './events.js';
import * as machine from './machine.js';
import type { QrUser, Requester, Timing } from './machine.js';
import type { Approval, ApprovalLog, GrantIssuer, LoginAudit, People, Who } from './ports.js';
import { createLoginStore, type LoginRequest, type LoginStage } from './store.js';

/**
 * The login core: "a request approved on a phone", the same for every surface.
 *
 *   surface (OIDC interaction, WeChat qrconnect/embed)  ── currentQr / watch / stream / complete ──┐
 *   phone API                                           ── scan / confirm / deny ─────────────────┤
 *                                                                                                  ▼
 *   login.ts ── store.ts (compare-and-set on the ephemeral store) ── events.ts (waiting pages)
 *            └─ ports.ts: GrantIssuer (oidc-provider), ApprovalLog, LoginAudit
 *
 * A surface names its login by an id of its own (an interaction uid, an embed session) and
 * adapts: it reads its request, calls the core, and shapes the answer its protocol wants. A new
 * surface (a device-code page, a push to a phone) is one adapter over these functions.
 */
export interface LoginDeps {
  store: EphemeralStore;
  grants: GrantIssuer;
  approvals: ApprovalLog;
  people: People;
  audit: LoginAudit;
  timing: Timing & {
    /** How long a finished/expired QR answers "expired" rather than "unknown". */
    retentionMs: number;
  };
  waiting: WaitLimits;
  clock?: Clock;
  onStage?: (stage: LoginStage, clientId: string) => void;
  onNotified?: OnNotified;
}

/**
 * How a login ended, for the surface to answer its browser: approved, or denied — by the person
 * on the phone (`denied`), or because they may no longer sign in (`account_disabled`: disabled
 * or deleted between their Confirm and the browser's completion).
 */
export type Completion<T> =
  | { denied: true; reason: 'denied' | 'account_disabled'; userId: string; clientId: string }
  | { denied: false; approval: Approval & { grantId: string }; prepared: T };

export type Logins = ReturnType<typeof createLogins>;

export function createLogins(deps: LoginDeps) {
  const clock = deps.clock ?? systemClock;
  const store = createLoginStore(deps.store, { ...deps.timing, clock, onStage: deps.onStage });
  const events = createLoginEvents({ store: deps.store, logins: store, clock, limits: deps.waiting, onNotified: deps.onNotified });
  const { audit } = deps;

  return {
    // ── the browser's side (surfaces) ──────────────────────────────────────────────────────
    /**
     * The QR login `id` shows now (rotated once expired). The first call creates the login with
     * `init`: what is asked and who asks. The requester is bound there and then, so no later
     * request (a rotation from another browser or address) changes what the phone is shown.
     */
    currentQr: (id: string, init?: { request: LoginRequest; requester: Requester; ttlMs: number }) => store.currentQr(id, init),
    qrOf: (id: string) => store.qrOf(id),
    snapshot: store.snapshot,
    watch: (id: string, opts: Parameters<typeof events.watch>[1]) => events.watch(id, opts),
    stream: (id: string, opts: Parameters<typeof events.stream>[1]) => events.stream(id, opts),

    /**
     * Finishes a decided login, once. Denied: claimed and reported. Confirmed: every fallible
     * write first — the grant (durable), the "apps I approved" row, then the surface's own
     * `prepare` (e.g. minting a code) — and the single-use claim last, so an outage anywhere
     * answers 503 and leaves the confirmed QR completable on retry; a completion that loses the
     * claim race revokes the grant it issued (the winner has its own).
     */
    async complete<T = undefined>(
      id: string,
      who: Who,
      opts: { via?: string; prepare?: (approval: Approval & { grantId: string }) => Promise<T> } = {},
    ): Promise<Completion<T>> {
      const [current, record] = await Promise.all([store.qrOf(id), store.login(id)]);
      if (!current || !record) throw loginError('not_decided');
      const ready = machine.claim(current, clock.now());
      if (!ready.ok) throw loginError(ready.error);
      const via = opts.via ? { via: opts.via } : undefined;

      if (current.status === 'denied') {
        await store.claim(current.qrId);
        await audit.record('login.denied', { userId: current.userId, appId: current.clientId, ...who, ...(via ? { detail: via } : {}) });
        return { denied: true, reason: 'denied', userId: current.userId!, clientId: current.clientId };
      }
      // A Confirm is not a lasting licence: a person disabled or deleted since gets no grant.
      if (!(await deps.people.canSignIn(current.userId!))) {
        await store.claim(current.qrId);
        await audit.record('login.denied', { userId: current.userId, appId: current.clientId, ...who, detail: { reason: 'account_disabled', ...via } });
        return { denied: true, reason: 'account_disabled', userId: current.userId!, clientId: current.clientId };
      }

      const approval: Approval = {
        accountId: current.userId!,
        clientId: current.clientId,
        scopes: current.scopes,
        ...(record.claims?.length ? { claims: record.claims } : {}),
      };
      const grantId = await deps.grants.issue(approval);
      let prepared: T;
      try {
        await deps.approvals.recordApproval(approval.accountId, approval.clientId, approval.scopes);
        prepared = (opts.prepare ? await opts.prepare({ ...approval, grantId }) : undefined) as T;
        await store.claim(current.qrId);
      } catch (err) {
        await deps.grants.revoke(grantId).catch(() => undefined);
        throw err;
      }
      await audit.record('login.completed', { userId: approval.accountId, appId: approval.clientId, ...who, detail: { scopes: approval.scopes, ...via } });
      return { denied: false, approval: { ...approval, grantId }, prepared };
    },

    // ── the phone's side ───────────────────────────────────────────────────────────────────
    get: store.get,

    /** A phone scans: the QR is bound to this person; the browser is told who scanned. */
    async scan(qrId: string, user: { id: string } & QrUser, who: Who) {
      const session = await store.scan(qrId, user.id, { nickname: user.nickname, picture: user.picture });
      await audit.record('qr.scanned', { userId: user.id, appId: session.clientId, ...who, detail: { qrId, requesterIp: session.requester.ip } });
      return session;
    },

    /** The scanner confirms or denies; final (a denial never becomes a confirmation). */
    async decide(qrId: string, userId: string, decision: 'confirm' | 'deny', who: Who) {
      const session = await store.decide(qrId, userId, decision);
      await audit.record(decision === 'confirm' ? 'qr.confirmed' : 'qr.denied', { userId, appId: session.clientId, ...who, detail: { qrId } });
      return session;
    },

    // ── lifecycle ──────────────────────────────────────────────────────────────────────────
    /** Shutdown: streams end, long-polls answer now. */
    shutdown: () => events.shutdown(),
    /** Open waits right now. */
    waiting: events.open,
    now: () => clock.now(),
  };
}
