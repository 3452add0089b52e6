import { describe, expect, it } from 'vitest';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { createMemoryStore } from '../storage/ephemeral.memory.js';
import { createTestClock, type TestClock } from './clock.js';
import { createLogins } from './login.js';
import type { Approval } from './ports.js';
import type { QrSnapshot } from './store.js';

/**
 * The login core on the in-memory store with a clock that moves only when told: every rule of
 * "a request approved on a phone", races included, in milliseconds and without a server.
 */
const QR_TTL = 120_000;
const COMPLETE_TTL = 60_000;
const alice = { id: 'usr_alice', nickname: 'Alice', picture: null };
const bob = { id: 'usr_bob', nickname: 'Bob', picture: null };
const who = { ip: '198.51.100.9', userAgent: 'phone' };
const browser = { ip: '203.0.113.7', userAgent: 'Firefox on the victim’s laptop', createdAt: '2026-12-07T00:00:00Z' };
const request = { clientId: 'app1', scopes: ['openid', 'profile'] };

function setup(opts: { failIssue?: () => Error | null; store?: EphemeralStore; clock?: TestClock; waiting?: { perLogin: number; perAddress: number } } = {}) {
  const clock = opts.clock ?? createTestClock({ frozen: true, start: 1_000_000 });
  const store = opts.store ?? createMemoryStore({ now: () => clock.now() });
  const issued: Array<Approval & { grantId: string }> = [];
  const revoked: string[] = [];
  const approvals: string[] = [];
  const audit: string[] = [];
  const disabled = new Set<string>();
  let n = 0;
  const logins = createLogins({
    store,
    clock,
    timing: { qrTtlMs: QR_TTL, completeTtlMs: COMPLETE_TTL, retentionMs: 600_000 },
    waiting: opts.waiting ?? { perLogin: 4, perAddress: 100 },
    grants: {
      issue(approval) {
        const failure = opts.failIssue?.();
        if (failure) return Promise.reject(failure);
        const grantId = `grant_${++n}`;
        issued.push({ ...approval, grantId });
        return Promise.resolve(grantId);
      },
      revoke(grantId) {
        revoked.push(grantId);
        return Promise.resolve();
      },
    },
    people: {
      canSignIn: (userId) => Promise.resolve(!disabled.has(userId)),
    },
    approvals: {
      recordApproval(userId, appId) {
        approvals.push(`${userId}@${appId}`);
        return Promise.resolve();
      },
    },
    audit: {
      record(type) {
        audit.push(type);
        return Promise.resolve();
      },
    },
  });
  const begin = (id = 'login1', requester = browser) => logins.currentQr(id, { request, requester, ttlMs: 3_600_000 });
  return { clock, store, logins, issued, revoked, approvals, audit, disabled, begin };
}

const settled = () => new Promise((r) => setImmediate(r));

describe('the login core: a QR, its rotation and who asks', () => {
  it('shows one QR until it expires, then a fresh one; the old qrId answers qr_expired', async () => {
    const { logins, clock, begin } = setup();
    const first = await begin();
    expect((await logins.currentQr('login1')).qrId).toBe(first.qrId);
    clock.advance(QR_TTL);
    const second = await logins.currentQr('login1');
    expect(second.qrId).not.toBe(first.qrId);
    await expect(logins.scan(first.qrId, alice, who)).rejects.toMatchObject({ code: 'qr_expired', status: 410 });
    await expect(logins.scan(second.qrId, alice, who)).resolves.toMatchObject({ status: 'scanned' });
  });

  it('binds the requester when the login starts: a rotation asked from another browser and address keeps showing the first', async () => {
    const { logins, clock, begin } = setup();
    await begin();
    clock.advance(QR_TTL);
    // Someone else's browser asks for the next QR (say, the victim's, made to send the request).
    const rotated = await logins.currentQr('login1', { request, requester: { ip: '192.0.2.66', userAgent: 'attacker', createdAt: 'later' }, ttlMs: 3_600_000 });
    expect(rotated.requester).toEqual(browser);
    const scanned = await logins.scan(rotated.qrId, alice, who);
    expect(scanned.requester).toEqual(browser);
  });

  it('rotates once: two tabs asking for a fresh QR after expiry at the same moment get the same one', async () => {
    const { logins, clock, begin } = setup();
    await begin();
    clock.advance(QR_TTL);
    const qrs = await Promise.all(Array.from({ length: 20 }, () => logins.currentQr('login1')));
    expect(new Set(qrs.map((q) => q.qrId)).size).toBe(1);
  });

  it('refuses an unknown login instead of starting one without a request', async () => {
    const { logins } = setup();
    await expect(logins.currentQr('never-started')).rejects.toMatchObject({ code: 'login_not_found', status: 404 });
  });
});

describe('the login core: the phone decides, once', () => {
  it('lets exactly one of two phones scanning at once have the QR; the other gets already_scanned', async () => {
    const { logins, begin } = setup();
    const qr = await begin();
    const results = await Promise.allSettled([logins.scan(qr.qrId, alice, who), logins.scan(qr.qrId, bob, who)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'already_scanned' } });
  });

  it('makes a decision final: of a confirm and a deny at once, one lands and the other is refused', async () => {
    const { logins, begin } = setup();
    const qr = await begin();
    await logins.scan(qr.qrId, alice, who);
    const results = await Promise.allSettled([logins.decide(qr.qrId, alice.id, 'confirm', who), logins.decide(qr.qrId, alice.id, 'deny', who)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'already_decided' } });
  });

  it('lets only the scanner decide', async () => {
    const { logins, begin } = setup();
    const qr = await begin();
    await expect(logins.decide(qr.qrId, alice.id, 'confirm', who)).rejects.toMatchObject({ code: 'not_scanned' });
    await logins.scan(qr.qrId, alice, who);
    await expect(logins.decide(qr.qrId, bob.id, 'confirm', who)).rejects.toMatchObject({ code: 'not_yours', status: 403 });
  });
});

describe('the login core: completion', () => {
  async function confirmed(s: ReturnType<typeof setup>) {
    const qr = await s.begin();
    await s.logins.scan(qr.qrId, alice, who);
    await s.logins.decide(qr.qrId, alice.id, 'confirm', who);
    return qr;
  }

  it('completes once: of 10 concurrent completions one gets the approval, the others already_completed, and each loser revokes its grant', async () => {
    const s = setup();
    await confirmed(s);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => s.logins.complete('login1', who)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 'already_completed')).toBe(true);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof s.logins.complete>>>).value;
    expect(winner).toMatchObject({ denied: false, approval: { accountId: alice.id, clientId: 'app1', scopes: ['openid', 'profile'] } });
    // Every grant issued but the winner's was revoked: exactly one survives.
    const kept = s.issued.map((g) => g.grantId).filter((id) => !s.revoked.includes(id));
    expect(kept).toEqual([(winner as { approval: { grantId: string } }).approval.grantId]);
  });

  it('writes every fallible record before the single-use claim: an outage while issuing leaves the login completable', async () => {
    let down = true;
    const s = setup({ failIssue: () => (down ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) : null) });
    await confirmed(s);
    await expect(s.logins.complete('login1', who)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    down = false;
    await expect(s.logins.complete('login1', who)).resolves.toMatchObject({ denied: false });
  });

  it("runs the surface's own preparation before the claim, and undoes the grant when it fails", async () => {
    const s = setup();
    await confirmed(s);
    await expect(s.logins.complete('login1', who, { prepare: async () => Promise.reject(new Error('store down')) })).rejects.toThrow('store down');
    expect(s.revoked).toEqual(['grant_1']);
    const done = await s.logins.complete('login1', who, { prepare: (a) => Promise.resolve(`code-for-${a.grantId}`) });
    expect(done).toMatchObject({ denied: false, prepared: 'code-for-grant_2' });
  });

  it('reports a denial once, with no grant', async () => {
    const s = setup();
    const qr = await s.begin();
    await s.logins.scan(qr.qrId, alice, who);
    await s.logins.decide(qr.qrId, alice.id, 'deny', who);
    await expect(s.logins.complete('login1', who)).resolves.toEqual({ denied: true, reason: 'denied', userId: alice.id, clientId: 'app1' });
    await expect(s.logins.complete('login1', who)).rejects.toMatchObject({ code: 'already_completed' });
    expect(s.issued).toEqual([]);
    expect(s.audit).toContain('login.denied');
  });

  it('gives no grant to a person disabled between their Confirm and the completion: denied once, for that reason', async () => {
    const s = setup();
    const qr = await s.begin();
    await s.logins.scan(qr.qrId, alice, who);
    await s.logins.decide(qr.qrId, alice.id, 'confirm', who);
    s.disabled.add(alice.id);
    await expect(s.logins.complete('login1', who)).resolves.toEqual({ denied: true, reason: 'account_disabled', userId: alice.id, clientId: 'app1' });
    await expect(s.logins.complete('login1', who)).rejects.toMatchObject({ code: 'already_completed' });
    expect(s.issued).toEqual([]);
    expect(s.approvals).toEqual([]);
  });

  it('refuses to complete before the phone decided, and after QR_COMPLETE_TTL', async () => {
    const s = setup();
    const qr = await s.begin();
    await expect(s.logins.complete('login1', who)).rejects.toMatchObject({ code: 'not_decided' });
    await s.logins.scan(qr.qrId, alice, who);
    await s.logins.decide(qr.qrId, alice.id, 'confirm', who);
    s.clock.advance(COMPLETE_TTL);
    await expect(s.logins.complete('login1', who)).rejects.toMatchObject({ code: 'qr_expired' });
  });
});

describe('the login core: pages waiting', () => {
  function stream(s: ReturnType<typeof setup>, id = 'login1', address = '203.0.113.7') {
    const seen: QrSnapshot[] = [];
    const closed = new AbortController();
    let ended = false;
    const opened = s.logins.stream(id, { address, closed: closed.signal, open() {}, send: (x) => void seen.push(x), end: () => void (ended = true) });
    return { seen, opened, close: () => closed.abort(), ended: () => ended };
  }

  it('streams every change, then the expiry that time alone brings', async () => {
    const s = setup();
    const qr = await s.begin();
    const st = stream(s);
    await st.opened;
    await s.logins.scan(qr.qrId, alice, who);
    await settled();
    expect(st.seen.map((x) => x.status)).toEqual(['pending', 'scanned']);
    expect(st.seen[1].user).toEqual({ nickname: 'Alice', picture: null });
    s.clock.advance(QR_TTL + 100);
    expect(st.seen.map((x) => x.status)).toEqual(['pending', 'scanned', 'expired']);
    st.close();
  });

  it('answers a long-poll at once when the status differs, else on the change, else when the wait runs out', async () => {
    const s = setup();
    const qr = await s.begin();
    const closed = new AbortController().signal;
    await expect(s.logins.watch('login1', { address: 'a', closed, last: 'scanned', waitMs: 25_000 })).resolves.toMatchObject({ status: 'pending' });
    const waiting = s.logins.watch('login1', { address: 'a', closed, last: 'pending', waitMs: 25_000 });
    await settled();
    await s.logins.scan(qr.qrId, alice, who);
    await expect(waiting).resolves.toMatchObject({ status: 'scanned' });
    const idle = s.logins.watch('login1', { address: 'a', closed, last: 'scanned', waitMs: 5_000 });
    await settled();
    s.clock.advance(5_000);
    await expect(idle).resolves.toMatchObject({ status: 'scanned' });
  });

  it('bounds open waits per login and per address, with a clear 429 for the one refused', async () => {
    const s = setup({ waiting: { perLogin: 2, perAddress: 3 } });
    await s.begin('l1');
    await s.begin('l2');
    const a = stream(s, 'l1');
    const b = stream(s, 'l1');
    await Promise.all([a.opened, b.opened]);
    await expect(stream(s, 'l1', 'elsewhere').opened).rejects.toMatchObject({
      code: 'too_many_waiting',
      status: 429,
      headers: { 'Retry-After': expect.any(String) },
    });
    const c = stream(s, 'l2');
    await c.opened;
    await expect(stream(s, 'l2').opened).rejects.toMatchObject({ code: 'too_many_waiting' }); // 3 from this address
    a.close();
    await expect(stream(s, 'l2').opened).resolves.toBeUndefined(); // a place was given back
    expect(s.logins.waiting()).toBe(3);
  });

  it('re-reads the state for open pages once the store resubscribes (messages in the gap are lost)', async () => {
    const clock = createTestClock({ frozen: true });
    const memory = createMemoryStore({ now: () => clock.now() });
    const callbacks = new Set<() => void>();
    // The memory store never loses its subscriptions; this one can be told it did.
    const store: EphemeralStore = { ...memory, kind: 'memory', onResubscribed: (cb) => (callbacks.add(cb), () => callbacks.delete(cb)) };
    const s = setup({ store, clock });
    const qr = await s.begin();
    const st = stream(s);
    await st.opened;
    // A change whose message never arrives (published while the subscriber was away).
    const silent: EphemeralStore = { ...memory, publish: async () => {} };
    await setup({ store: silent, clock }).logins.scan(qr.qrId, alice, who);
    await settled();
    expect(st.seen.map((x) => x.status)).toEqual(['pending']);
    callbacks.forEach((cb) => cb());
    await settled();
    await settled();
    expect(st.seen.map((x) => x.status)).toEqual(['pending', 'scanned']);
    st.close();
  });

  it('drains at shutdown: streams end, long-polls answer with what they have, new streams are refused', async () => {
    const s = setup();
    await s.begin();
    const st = stream(s);
    await st.opened;
    const poll = s.logins.watch('login1', { address: 'a', closed: new AbortController().signal, last: 'pending', waitMs: 25_000 });
    await settled();
    s.logins.shutdown();
    expect(st.ended()).toBe(true);
    await expect(poll).resolves.toMatchObject({ status: 'pending' });
    await expect(stream(s).opened).rejects.toMatchObject({ status: 503 });
    expect(s.logins.waiting()).toBe(0);
  });
});
