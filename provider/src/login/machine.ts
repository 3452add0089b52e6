/**
 * The QR session state machine, pure (no I/O, time passed in), so every rule is unit-tested.
 *
 *   pending ──scan(user)──> scanned ──confirm(same user)──> confirmed ──claim──> (claimed)
 *      │                       └──────deny(same user)────> denied ─────claim──> (claimed)
 *      └── any unfinished state past `expiresAt` ──> expired
 *
 * The store applies a transition with compare-and-set on the serialized record, so of two
 * racing phones (or tabs) exactly one transition lands; the loser re-reads and gets the
 * error this module returns for the new state.
 */
export type QrStatus = 'pending' | 'scanned' | 'confirmed' | 'denied' | 'expired';

export interface Requester {
  ip: string;
  userAgent: string;
  createdAt: string;
}

export interface QrUser {
  nickname: string;
  picture: string | null;
}

export interface QrSession {
  qrId: string;
  /** The login this QR belongs to (login.ts): never put into the QR itself. */
  loginId: string;
  clientId: string;
  scopes: string[];
  requester: Requester;
  status: Exclude<QrStatus, 'expired'>;
  userId?: string;
  user?: QrUser;
  createdAt: number;
  /** Epoch ms after which an unclaimed session counts as expired. */
  expiresAt: number;
  /** Set once the browser has completed the login (or the denial): the single-use claim. */
  claimedAt?: number;
}

export interface Timing {
  /** How long an unscanned or scanned QR lives (QR_TTL). */
  qrTtlMs: number;
  /** How long a confirmed/denied QR waits for its browser (QR_COMPLETE_TTL). */
  completeTtlMs: number;
}

export type QrErrorCode = 'qr_expired' | 'already_scanned' | 'not_scanned' | 'not_yours' | 'already_decided' | 'not_decided' | 'already_completed';

export type Transition = { ok: true; next: QrSession } | { ok: false; error: QrErrorCode };

export function statusOf(s: QrSession, now: number): QrStatus {
  if (s.claimedAt !== undefined) return s.status;
  return now >= s.expiresAt ? 'expired' : s.status;
}

export function create(init: Pick<QrSession, 'qrId' | 'loginId' | 'clientId' | 'scopes' | 'requester'>, now: number, t: Timing): QrSession {
  return { ...init, status: 'pending', createdAt: now, expiresAt: now + t.qrTtlMs };
}

/** A phone scans: binds the QR to its user. Re-scanning by the same user is idempotent. */
export function scan(s: QrSession, userId: string, user: QrUser, now: number, t: Timing): Transition {
  const status = statusOf(s, now);
  if (status === 'expired') return fail('qr_expired');
  if (status !== 'pending') {
    if (s.userId !== userId) return fail('already_scanned');
    return status === 'scanned' ? { ok: true, next: s } : fail('already_decided');
  }
  // The person gets a full QR_TTL to read the confirm screen, counted from the scan.
  return { ok: true, next: { ...s, status: 'scanned', userId, user, expiresAt: now + t.qrTtlMs } };
}

export function confirm(s: QrSession, userId: string, now: number, t: Timing): Transition {
  return decide(s, userId, 'confirmed', now, t);
}

export function deny(s: QrSession, userId: string, now: number, t: Timing): Transition {
  return decide(s, userId, 'denied', now, t);
}

function decide(s: QrSession, userId: string, to: 'confirmed' | 'denied', now: number, t: Timing): Transition {
  const status = statusOf(s, now);
  if (status === 'expired') return fail('qr_expired');
  if (status === 'pending') return fail('not_scanned');
  if (s.userId !== userId) return fail('not_yours');
  if (status !== 'scanned') return status === to ? { ok: true, next: s } : fail('already_decided');
  return { ok: true, next: { ...s, status: to, expiresAt: now + t.completeTtlMs } };
}

/** The browser completes: claims a decided QR exactly once. */
export function claim(s: QrSession, now: number): Transition {
  if (s.claimedAt !== undefined) return fail('already_completed');
  const status = statusOf(s, now);
  if (status === 'expired') return fail('qr_expired');
  if (status !== 'confirmed' && status !== 'denied') return fail('not_decided');
  return { ok: true, next: { ...s, claimedAt: now } };
}

const fail = (error: QrErrorCode): Transition => ({ ok: false, error });
