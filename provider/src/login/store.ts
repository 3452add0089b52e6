import { customAlphabet } from 'nanoid';
import { AppError } from '../errors.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { qrError } from './error-codes.js';
import * as machine from './machine.js';
import type { QrSession, QrStatus, QrUser, Requester, Timing, Transition } from './machine.js';

/** 24 chars of a 64-symbol alphabet: 144 random bits, URL-safe (API.md asks for ≥ 128). */
const newQrId = customAlphabet('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-', 24);

/** What the browser is told about its QR (page JSON, SSE, long-poll). */
export interface QrSnapshot {
  qrId: string;
  status: QrStatus;
  expiresAt: number;
  user?: QrUser;
}

export interface QrServiceOptions extends Timing {
  /** How long the interaction → current-QR pointer lives (the interaction's own lifetime). */
  interactionTtlMs: number;
  /** How long a finished/expired record is kept so its qrId answers 410 rather than 404. */
  retentionMs: number;
  now?: () => number;
}

const qrKey = (qrId: string) => `qr:${qrId}`;
const pointerKey = (uid: string) => `qr-of:${uid}`;
export const qrChannel = (uid: string) => `qr-events:${uid}`;

export function snapshotOf(s: QrSession, now: number): QrSnapshot {
  const status = machine.statusOf(s, now);
  return { qrId: s.qrId, status, expiresAt: s.expiresAt, ...(s.user && status !== 'pending' ? { user: s.user } : {}) };
}

export type QrService = ReturnType<typeof createQrService>;

export function createQrService(store: EphemeralStore, opts: QrServiceOptions) {
  const now = opts.now ?? Date.now;

  async function load(qrId: string): Promise<{ raw: string; s: QrSession } | null> {
    const raw = await store.get(qrKey(qrId));
    return raw ? { raw, s: JSON.parse(raw) as QrSession } : null;
  }

  const keepMs = (s: QrSession, at: number) => Math.max(s.expiresAt - at, 0) + opts.retentionMs;

  async function publish(s: QrSession) {
    await store.publish(qrChannel(s.uid), JSON.stringify(snapshotOf(s, now())));
  }

  /**
   * Apply a transition with compare-and-set: re-read and retry when another writer got in
   * first, so the machine judges the state that is really there (the loser of a race gets
   * `already_scanned`, `already_completed`...). Never a blind write.
   */
  async function mutate(qrId: string, step: (s: QrSession, at: number) => Transition): Promise<QrSession> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const cur = await load(qrId);
      if (!cur) throw qrError('qr_not_found');
      const at = now();
      const result = step(cur.s, at);
      if (!result.ok) throw qrError(result.error);
      if (result.next === cur.s) return cur.s; // idempotent repeat, nothing to write
      if (await store.compareAndSet(qrKey(qrId), cur.raw, JSON.stringify(result.next), keepMs(result.next, at))) {
        await publish(result.next);
        return result.next;
      }
    }
    throw new AppError('conflict', 409, 'The QR code is changing too fast; try again.');
  }

  return {
    get: async (qrId: string) => (await load(qrId))?.s ?? null,

    /**
     * The QR an interaction currently shows: the same one until it expires, then a fresh one
     * (the old qrId keeps answering `expired`). A finished QR is never replaced.
     */
    async current(init: { uid: string; clientId: string; scopes: string[]; requester: Requester }): Promise<QrSession> {
      for (let attempt = 0; attempt < 10; attempt++) {
        const pointer = await store.get(pointerKey(init.uid));
        const existing = pointer ? await load(pointer) : null;
        if (existing && (existing.s.claimedAt !== undefined || machine.statusOf(existing.s, now()) !== 'expired')) {
          return existing.s;
        }
        const at = now();
        const fresh = machine.create({ ...init, qrId: newQrId() }, at, opts);
        await store.set(qrKey(fresh.qrId), JSON.stringify(fresh), keepMs(fresh, at));
        // Two tabs rotating at once: only one pointer swap lands; the other adopts the winner's QR.
        if (await store.compareAndSet(pointerKey(init.uid), pointer, fresh.qrId, opts.interactionTtlMs)) {
          await publish(fresh);
          return fresh;
        }
        await store.del(qrKey(fresh.qrId));
      }
      throw new AppError('conflict', 409, 'The QR code is changing too fast; try again.');
    },

    /** The interaction's QR if it has one (no rotation). */
    async ofInteraction(uid: string): Promise<QrSession | null> {
      const pointer = await store.get(pointerKey(uid));
      return pointer ? ((await load(pointer))?.s ?? null) : null;
    },

    scan: (qrId: string, userId: string, user: QrUser) =>
      mutate(qrId, (s, at) => machine.scan(s, userId, user, at, opts)),
    confirm: (qrId: string, userId: string) => mutate(qrId, (s, at) => machine.confirm(s, userId, at, opts)),
    deny: (qrId: string, userId: string) => mutate(qrId, (s, at) => machine.deny(s, userId, at, opts)),
    /** Single-use: of any number of concurrent completions, exactly one gets the session. */
    claim: (qrId: string) => mutate(qrId, (s, at) => machine.claim(s, at)),

    snapshot: (s: QrSession) => snapshotOf(s, now()),
    now,
  };
}
