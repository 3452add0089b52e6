/**
 * When each key is used, decided from its three times alone (pure, so tests move time freely):
 *
 *   publishAt ──── published (JWKS: verifiers can fetch it; cookies: every instance verifies
 *    │             with it) but not signing: the lead time, for caches and instances to learn it
 *   activeAt  ──── signs, if it is the newest active key of its slot
 *    │        ──── (a newer key of the slot became active) still published: what it signed
 *   retireAt  ──── gone      may still be presented
 *
 * A slot is what a key can be replaced by: signing keys of one key type, curve and `alg`
 * (oidc-provider picks a key by alg, kty and crv); all cookie keys are one slot.
 */
export type KeyKind = 'signing' | 'cookie';
export type KeyState = 'pending' | 'active' | 'retiring' | 'retired';

export interface ScheduledKey {
  id: string;
  kind: KeyKind;
  slot: string;
  publishAt: number;
  activeAt: number;
  retireAt: number | null;
}

/** The newest active key of each slot: the one that signs. */
function signers(keys: ScheduledKey[], now: number): Set<string> {
  const newest = new Map<string, ScheduledKey>();
  for (const k of keys) {
    if (k.publishAt > now || k.activeAt > now || (k.retireAt !== null && k.retireAt <= now)) continue;
    const seen = newest.get(k.slot);
    if (!seen || k.activeAt > seen.activeAt) newest.set(k.slot, k);
  }
  return new Set([...newest.values()].map((k) => k.id));
}

export function stateOf(key: ScheduledKey, all: ScheduledKey[], now: number): KeyState {
  if (key.retireAt !== null && key.retireAt <= now) return 'retired';
  if (key.activeAt > now) return 'pending';
  return signers(all, now).has(key.id) ? 'active' : 'retiring';
}

/**
 * The keys in use at `now`, in the order oidc-provider needs: it signs with the first key that
 * fits an algorithm (lib/helpers/keystore.js sorts stably by fit), so the signers come first,
 * then keys published ahead of their activation, then those still published for what they
 * signed. Cookie keys the same way: the first signs, all verify.
 */
export function inUse<K extends ScheduledKey>(keys: K[], now: number): K[] {
  const signing = signers(keys, now);
  const rank = (k: K) => (signing.has(k.id) ? 0 : k.activeAt > now ? 1 : 2);
  return keys.filter((k) => k.publishAt <= now && (k.retireAt === null || k.retireAt > now)).sort((a, b) => rank(a) - rank(b) || b.activeAt - a.activeAt);
}

/** The next moment the keys in use change by time alone (an activation, a retirement), if any. */
export function nextChange(keys: ScheduledKey[], now: number): number | null {
  const times = keys.flatMap((k) => [k.publishAt, k.activeAt, k.retireAt ?? Infinity]).filter((t) => t > now && t !== Infinity);
  return times.length ? Math.min(...times) : null;
}

export interface RotationPlan {
  /** A new key for each of these slots (shaped like the slot's current signer), published now, signing from `activeAt`. */
  slots: Array<{ slot: string; like: string; kind: KeyKind }>;
  activeAt: number;
  /** retireAt for the keys the new ones replace. */
  retire: Array<{ id: string; retireAt: number }>;
}

/**
 * A rotation of `kinds` (optionally only the slots `onlySlot` accepts): one new key per slot,
 * active after `leadMs`. The keys it replaces are dropped once nothing they signed can still be
 * presented: active ones at the new key's activation + `retireAfterMs[kind]` (the longest life
 * of what they sign); pending ones at once (they never signed). Retiring keys keep their date.
 */
export function planRotation(
  keys: ScheduledKey[],
  now: number,
  opts: { kinds: KeyKind[]; leadMs: Record<KeyKind, number>; retireAfterMs: Record<KeyKind, number>; onlySlot?: (slot: string) => boolean },
): RotationPlan[] {
  const current = signers(keys, now);
  return opts.kinds.map((kind) => {
    const activeAt = now + opts.leadMs[kind];
    const chosen = keys.filter((k) => k.kind === kind && current.has(k.id) && (opts.onlySlot?.(k.slot) ?? true));
    const slots = new Set(chosen.map((k) => k.slot));
    const retire = keys
      .filter((k) => k.kind === kind && slots.has(k.slot) && (k.retireAt === null || k.retireAt > now))
      .flatMap((k) => {
        if (k.activeAt > now) return [{ id: k.id, retireAt: now }];
        const at = activeAt + opts.retireAfterMs[kind];
        // A key already leaving sooner keeps its date.
        return k.retireAt !== null && k.retireAt <= at ? [] : [{ id: k.id, retireAt: at }];
      });
    return { activeAt, slots: chosen.map((k) => ({ slot: k.slot, like: k.id, kind })), retire };
  });
}

export interface RemovalPlan {
  /** The key to drop now. */
  id: string;
  /** A pending key of the same slot that signs from now on instead (activeAt ← now). */
  promote: string | null;
  /** No pending key to promote: a new key shaped like the removed one, signing now. */
  replace: { slot: string; like: string; kind: KeyKind } | null;
}

/**
 * Removing a key at once (it leaked), unlike a rotation, which waits for what the key signed to
 * expire. A key that signs now is replaced in the same step, so its slot never goes without a
 * signer, and never falls back to an older key still published for what it signed (that one may
 * be as compromised): the slot's pending key is promoted, else a new one is made. Null when no
 * such key is in use.
 */
export function planRemoval(keys: ScheduledKey[], id: string, now: number): RemovalPlan | null {
  const key = keys.find((k) => k.id === id && (k.retireAt === null || k.retireAt > now));
  if (!key) return null;
  if (!signers(keys, now).has(id)) return { id, promote: null, replace: null };
  const pending = keys
    .filter((k) => k.slot === key.slot && k.id !== id && k.activeAt > now && (k.retireAt === null || k.retireAt > now))
    .sort((a, b) => b.activeAt - a.activeAt)
    .at(0);
  return pending ? { id, promote: pending.id, replace: null } : { id, promote: null, replace: { slot: key.slot, like: id, kind: key.kind } };
}
