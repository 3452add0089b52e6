import { describe, expect, it } from 'vitest';
import * as m from './machine.js';

const t: m.Timing = { qrTtlMs: 120_000, completeTtlMs: 60_000 };
const fresh = (now = 0) =>
  m.create(
    { qrId: 'q'.repeat(24), loginId: 'login1', clientId: 'app1', scopes: ['openid'], requester: { ip: '1.2.3.4', userAgent: 'UA', createdAt: 'x' } },
    now,
    t,
  );
const alice = { nickname: 'Alice', picture: null };
const ok = (r: m.Transition) => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error}`);
  return r.next;
};

describe('QR state machine', () => {
  it('starts pending and expires after QR_TTL', () => {
    const s = fresh(1000);
    expect(m.statusOf(s, 1000)).toBe('pending');
    expect(m.statusOf(s, 1000 + t.qrTtlMs - 1)).toBe('pending');
    expect(m.statusOf(s, 1000 + t.qrTtlMs)).toBe('expired');
  });

  it('binds the QR to the first scanner; a second user gets already_scanned; the same user may rescan', () => {
    const scanned = ok(m.scan(fresh(), 'alice', alice, 10, t));
    expect(scanned.status).toBe('scanned');
    expect(scanned.userId).toBe('alice');
    expect(m.scan(scanned, 'bob', alice, 20, t)).toEqual({ ok: false, error: 'already_scanned' });
    expect(ok(m.scan(scanned, 'alice', alice, 20, t))).toBe(scanned);
  });

  it('gives the scanner a full QR_TTL from the scan to decide', () => {
    const scanned = ok(m.scan(fresh(0), 'alice', alice, 100_000, t));
    expect(m.statusOf(scanned, 100_000 + t.qrTtlMs - 1)).toBe('scanned');
    expect(m.statusOf(scanned, 100_000 + t.qrTtlMs)).toBe('expired');
  });

  it('refuses to scan an expired QR', () => {
    expect(m.scan(fresh(0), 'alice', alice, t.qrTtlMs, t)).toEqual({ ok: false, error: 'qr_expired' });
  });

  it('lets only the scanner confirm or deny, and only after scanning', () => {
    const s = fresh();
    expect(m.confirm(s, 'alice', 1, t)).toEqual({ ok: false, error: 'not_scanned' });
    const scanned = ok(m.scan(s, 'alice', alice, 1, t));
    expect(m.confirm(scanned, 'bob', 2, t)).toEqual({ ok: false, error: 'not_yours' });
    expect(m.deny(scanned, 'bob', 2, t)).toEqual({ ok: false, error: 'not_yours' });
    const confirmed = ok(m.confirm(scanned, 'alice', 2, t));
    expect(confirmed.status).toBe('confirmed');
    expect(confirmed.expiresAt).toBe(2 + t.completeTtlMs);
  });

  it('makes a decision final: denial cannot become confirmation and vice versa', () => {
    const scanned = ok(m.scan(fresh(), 'alice', alice, 1, t));
    const denied = ok(m.deny(scanned, 'alice', 2, t));
    expect(m.confirm(denied, 'alice', 3, t)).toEqual({ ok: false, error: 'already_decided' });
    expect(ok(m.deny(denied, 'alice', 3, t))).toBe(denied);
    const confirmed = ok(m.confirm(scanned, 'alice', 2, t));
    expect(m.deny(confirmed, 'alice', 3, t)).toEqual({ ok: false, error: 'already_decided' });
    expect(m.scan(confirmed, 'alice', alice, 3, t)).toEqual({ ok: false, error: 'already_decided' });
  });

  it('claims a decided QR exactly once and never an undecided or expired one', () => {
    const s = fresh();
    expect(m.claim(s, 1)).toEqual({ ok: false, error: 'not_decided' });
    const confirmed = ok(m.confirm(ok(m.scan(s, 'alice', alice, 1, t)), 'alice', 2, t));
    const claimed = ok(m.claim(confirmed, 3));
    expect(claimed.claimedAt).toBe(3);
    expect(m.claim(claimed, 4)).toEqual({ ok: false, error: 'already_completed' });
    expect(m.claim(confirmed, 2 + t.completeTtlMs)).toEqual({ ok: false, error: 'qr_expired' });
    // A claimed session keeps its status for the record even after its deadline.
    expect(m.statusOf(claimed, 10 ** 12)).toBe('confirmed');
  });
});
