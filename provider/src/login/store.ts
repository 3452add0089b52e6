import { customAlphabet } from 'nanoid';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { Clock } from './clock.js';
import { loginError } from './error-codes.js';
import * as machine from './machine.js';
import type { QrSession, QrStatus, QrUser, Requester, Timing, Transition } from './machine.js';

/**
 * The login store: the only owner of the `login:*` and `qr:*` keys. Every write is a
 * compare-and-set on the serialized record (machine.ts judges the state that is really there),
 * and every change is published on the login's channel for the pages waiting on it (events.ts).
 *
 *   login:<id>  what is asked (client, scopes), who asks (the requester, bound once, at
 *               creation) and the QR it shows now
 *   qr:<qrId>   one QR's state machine; kept `retentionMs` past its end so it answers
 *               "expired" rather than "unknown"
 */

/** 24 chars of a 64-symbol alphabet: 144 random bits, URL-safe (API.md asks for ≥ 128). */
const newQrId = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-', 24);

/** What a surface asks for: the app and the scopes the person will see on the phone. */
export interface LoginRequest {
  clientId: string;
  scopes: string[];
  /** OIDC `claims` request parameter names, granted with the scopes. */
  claims?: string[];
}

export interface LoginRecord extends LoginRequest {
  id: string;
  /** The browser that started the login. Never replaced: rotations show the phone this one. */
  requester: Requester;
  /** The QR shown now, or null before the first. */
  qrId: string | null;
  createdAt: number;
}

/** What a browser is told about its QR (page JSON, SSE, long-poll). */
export interface QrSnapshot {
  qrId: string;
  status: QrStatus;
  expiresAt: number;
  user?: QrUser;
}

/** Stages a login passes, for whoever counts them (metrics). */
export type LoginStage = 'created' | 'scanned' | 'confirmed' | 'denied' | 'expired' | 'completed';

export interface LoginStoreOptions extends Timing {
  /** How long a finished/expired QR is kept so its qrId answers 410 rather than 404. */
  retentionMs: number;
  clock: Clock;
  onStage?: (stage: LoginStage, clientId: string) => void;
}

const loginKey = (id: string) => `login:${id}`;
const qrKey = (qrId: string) => `qr:${qrId}`;
/** Pub/sub channel of one login: a snapshot on every change of its QR. */
export const loginChannel = (id: string) => `qr-events:${id}`;

/** What travels on a login's channel: the snapshot, and when it was published (metrics: how long until a page sends it). */
export type PublishedSnapshot = QrSnapshot & { publishedAt: number };

function snapshotOf(s: QrSession, now: number): QrSnapshot {
  const status = machine.statusOf(s, now);
  return { qrId: s.qrId, status, expiresAt: s.expiresAt, ...(s.user && status !== 'pending' ? { user: s.user } : {}) };
}

export type LoginStore = ReturnType<typeof createLoginStore>;

export function createLoginStore(store: EphemeralStore, opts: LoginStoreOptions) {
  const { clock } = opts;
  const stage = (name: LoginStage, clientId: string) => opts.onStage?.(name, clientId);

  async function loadQr(qrId: string): Promise<{ raw: string; s: QrSession } | null> {
    const raw = await store.get(qrKey(qrId));
    return raw ? { raw, s: JSON.parse(raw) as QrSession } : null;
  }

  async function loadLogin(id: string): Promise<{ raw: string; r: LoginRecord } | null> {
    const raw = await store.get(loginKey(id));
    return raw ? { raw, r: JSON.parse(raw) as LoginRecord } : null;
  }

  const keepMs = (s: QrSession, at: number) => Math.max(s.expiresAt - at, 0) + opts.retentionMs;

  const publish = (s: QrSession) => {
    const at = clock.now();
    return store.publish(loginChannel(s.loginId), JSON.stringify({ ...snapshotOf(s, at), publishedAt: at } satisfies PublishedSnapshot));
  };

  /**
   * Apply a transition with compare-and-set: re-read and retry when another writer got in
   * first, so the loser of a race gets the error for the state that is really there
   * (`already_scanned`, `already_completed`...). Never a blind write.
   */
  async function mutate(qrId: string, step: (s: QrSession, at: number) => Transition): Promise<{ s: QrSession; changed: boolean }> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const cur = await loadQr(qrId);
      if (!cur) throw loginError('qr_not_found');
      const at = clock.now();
      const result = step(cur.s, at);
      if (!result.ok) throw loginError(result.error);
      if (result.next === cur.s) return { s: cur.s, changed: false }; // idempotent repeat, nothing to write
      if (await store.compareAndSet(qrKey(qrId), cur.raw, JSON.stringify(result.next), keepMs(result.next, at))) {
        await publish(result.next);
        return { s: result.next, changed: true };
      }
    }
    throw loginError('conflict');
  }

  /** The record, created on first use with `init` (the requester is bound here, once). */
  async function ensureLogin(id: string, init: { request: LoginRequest; requester: Requester; ttlMs: number } | undefined) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = await loadLogin(id);
      if (found || !init) return found;
      const record: LoginRecord = { id, ...init.request, requester: init.requester, qrId: null, createdAt: clock.now() };
      // Two first requests at once (page and /qr): one record wins, the other adopts it.
      await store.setIfAbsent(loginKey(id), JSON.stringify(record), init.ttlMs);
    }
    throw loginError('conflict');
  }

  return {
    get: async (qrId: string) => (await loadQr(qrId))?.s ?? null,
    login: async (id: string) => (await loadLogin(id))?.r ?? null,

    /**
     * The QR a login shows now: the same until it expires, then a fresh one for the same
     * requester (the old qrId keeps answering `expired`). A finished QR is never replaced.
     * Without a record, `init` creates it; without either, the login is unknown.
     */
    async currentQr(id: string, init?: { request: LoginRequest; requester: Requester; ttlMs: number }): Promise<QrSession> {
      for (let attempt = 0; attempt < 10; attempt++) {
        const found = await ensureLogin(id, init);
        if (!found) throw loginError('login_not_found');
        const { raw, r } = found;
        const existing = r.qrId ? await loadQr(r.qrId) : null;
        const status = existing ? machine.statusOf(existing.s, clock.now()) : null;
        if (existing && (existing.s.claimedAt !== undefined || status !== 'expired')) return existing.s;
        const at = clock.now();
        const fresh = machine.create({ qrId: newQrId(), loginId: id, clientId: r.clientId, scopes: r.scopes, requester: r.requester }, at, opts);
        await store.set(qrKey(fresh.qrId), JSON.stringify(fresh), keepMs(fresh, at));
        // Two tabs rotating at once: only one swap lands; the other adopts the winner's QR.
        if (await store.compareAndSet(loginKey(id), raw, JSON.stringify({ ...r, qrId: fresh.qrId }))) {
          if (existing?.s.status === 'scanned') stage('expired', r.clientId);
          stage('created', r.clientId);
          await publish(fresh);
          return fresh;
        }
        await store.del(qrKey(fresh.qrId));
      }
      throw loginError('conflict');
    },

    /** The login's current QR, if it has one (no rotation). */
    async qrOf(id: string): Promise<QrSession | null> {
      const found = await loadLogin(id);
      return found?.r.qrId ? ((await loadQr(found.r.qrId))?.s ?? null) : null;
    },

    async scan(qrId: string, userId: string, user: QrUser) {
      const { s, changed } = await mutate(qrId, (cur, at) => machine.scan(cur, userId, user, at, opts));
      if (changed) stage('scanned', s.clientId);
      return s;
    },
    async decide(qrId: string, userId: string, decision: 'confirm' | 'deny') {
      const { s, changed } = await mutate(qrId, (cur, at) => machine[decision](cur, userId, at, opts));
      if (changed) stage(decision === 'confirm' ? 'confirmed' : 'denied', s.clientId);
      return s;
    },
    /** Single-use: of any number of concurrent completions, exactly one gets the session. */
    async claim(qrId: string) {
      const { s } = await mutate(qrId, (cur, at) => machine.claim(cur, at));
      if (s.status === 'confirmed') stage('completed', s.clientId);
      return s;
    },

    snapshot: (s: QrSession) => snapshotOf(s, clock.now()),
  };
}
