import { describe, expect, it } from 'vitest';
import { inUse, nextChange, planRemoval, planRotation, stateOf, type ScheduledKey } from './schedule.js';

const H = 3600_000;
const key = (id: string, over: Partial<ScheduledKey> = {}): ScheduledKey => ({
  id,
  kind: 'signing',
  slot: 'RSA::RS256',
  publishAt: 0,
  activeAt: 0,
  retireAt: null,
  ...over,
});

describe('key schedule', () => {
  it('publishes a rotated key before it signs, then signs with it and keeps the old one until it retires', () => {
    const old = key('old');
    const plan = planRotation([old], 10 * H, { kinds: ['signing'], leadMs: { signing: 24 * H, cookie: 0 }, retireAfterMs: { signing: H, cookie: H } })[0];
    expect(plan.slots).toEqual([{ slot: 'RSA::RS256', like: 'old', kind: 'signing' }]);
    expect(plan.activeAt).toBe(34 * H);
    expect(plan.retire).toEqual([{ id: 'old', retireAt: 35 * H }]);

    const fresh = key('new', { publishAt: 10 * H, activeAt: 34 * H });
    const keys = [{ ...old, retireAt: 35 * H }, fresh];
    // During the lead time: both published, the old one first (it signs).
    expect(inUse(keys, 20 * H).map((k) => k.id)).toEqual(['old', 'new']);
    expect(keys.map((k) => stateOf(k, keys, 20 * H))).toEqual(['active', 'pending']);
    // Activated: the new one first; the old one still published for what it signed.
    expect(inUse(keys, 34 * H).map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys.map((k) => stateOf(k, keys, 34 * H))).toEqual(['retiring', 'active']);
    // Retired: gone.
    expect(inUse(keys, 35 * H).map((k) => k.id)).toEqual(['new']);
    expect(stateOf(keys[0], keys, 35 * H)).toBe('retired');
    expect([nextChange(keys, 20 * H), nextChange(keys, 34 * H), nextChange(keys, 35 * H)]).toEqual([34 * H, 35 * H, null]);
  });

  it('keeps one signer per slot, and orders signers, then pending, then retiring keys', () => {
    const keys = [
      key('es-retiring', { slot: 'EC:P-256:ES256', activeAt: 1, retireAt: 50 * H }),
      key('rs-pending', { activeAt: 20 * H }),
      key('es', { slot: 'EC:P-256:ES256', activeAt: 2 }),
      key('rs', { activeAt: 1 }),
    ];
    expect(inUse(keys, 10 * H).map((k) => k.id)).toEqual(['es', 'rs', 'rs-pending', 'es-retiring']);
  });

  it('drops a key still pending when the slot is rotated again (it never signed), and limits to chosen slots', () => {
    const keys = [key('rs'), key('rs-pending', { publishAt: H, activeAt: 5 * H }), key('es', { slot: 'EC:P-256:ES256' })];
    const [plan] = planRotation(keys, 2 * H, {
      kinds: ['signing'],
      leadMs: { signing: 0, cookie: 0 },
      retireAfterMs: { signing: H, cookie: H },
      onlySlot: (s) => s.startsWith('RSA'),
    });
    expect(plan.slots.map((s) => s.like)).toEqual(['rs']);
    expect(plan.retire).toEqual([
      { id: 'rs', retireAt: 3 * H },
      { id: 'rs-pending', retireAt: 2 * H },
    ]);
  });

  it('rotates cookie keys on their own lead and lifetime', () => {
    const keys = [key('rs'), key('ck', { kind: 'cookie', slot: 'cookie' })];
    const plans = planRotation(keys, 0, {
      kinds: ['signing', 'cookie'],
      leadMs: { signing: 24 * H, cookie: 5 * 60_000 },
      retireAfterMs: { signing: H, cookie: 2 * H },
    });
    expect(plans.map((p) => [p.activeAt, p.retire])).toEqual([
      [24 * H, [{ id: 'rs', retireAt: 25 * H }]],
      [5 * 60_000, [{ id: 'ck', retireAt: 5 * 60_000 + 2 * H }]],
    ]);
  });

  it('removes a signing key at once by promoting the pending key of its slot, which then signs, not the older key still published', () => {
    const keys = [
      key('older', { activeAt: 0, retireAt: 50 * H }),
      key('leaked', { activeAt: H }),
      key('pending', { publishAt: 2 * H, activeAt: 30 * H }),
      key('es', { slot: 'EC:P-256:ES256' }),
    ];
    const plan = planRemoval(keys, 'leaked', 10 * H);
    expect(plan).toEqual({ id: 'leaked', promote: 'pending', replace: null });
    const after = keys.filter((k) => k.id !== 'leaked').map((k) => (k.id === 'pending' ? { ...k, activeAt: 10 * H } : k));
    expect(inUse(after, 10 * H).map((k) => k.id)).toEqual(['pending', 'es', 'older']);
  });

  it('removes a signing key with no pending successor by asking for a new one like it; a key that does not sign is just dropped', () => {
    const keys = [key('older', { retireAt: 50 * H }), key('leaked', { activeAt: H }), key('ck', { kind: 'cookie', slot: 'cookie' })];
    expect(planRemoval(keys, 'leaked', 10 * H)).toEqual({ id: 'leaked', promote: null, replace: { slot: 'RSA::RS256', like: 'leaked', kind: 'signing' } });
    expect(planRemoval(keys, 'ck', 10 * H)?.replace).toEqual({ slot: 'cookie', like: 'ck', kind: 'cookie' });
    expect(planRemoval(keys, 'older', 10 * H)).toEqual({ id: 'older', promote: null, replace: null });
  });

  it('knows no key that is unknown or already retired', () => {
    const keys = [key('gone', { retireAt: H }), key('rs', { activeAt: 1 })];
    expect(planRemoval(keys, 'gone', 2 * H)).toBeNull();
    expect(planRemoval(keys, 'nope', 2 * H)).toBeNull();
  });
});
