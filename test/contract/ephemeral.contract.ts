/**
 * The EphemeralStore contract (provider/src/storage/ephemeral.ts), run against every
 * implementation. Time-based tests use real short TTLs and real waiting, because the point is
 * what the backing service does, not what a fake clock does.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EphemeralStore } from '../../provider/src/storage/ephemeral.js';

export interface ContractOptions {
  /**
   * Two stores sharing one namespace, as two processes would (Redis: same prefix, separate
   * connections). Omitted for stores that only live in one process.
   */
  makePair?: () => [EphemeralStore, EphemeralStore] | Promise<[EphemeralStore, EphemeralStore]>;
}

/** A TTL that is short to wait out, and a wait that outlasts it with margin for a loaded CI box. */
const SHORT = 150;
const PAST_SHORT = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll until `check` holds; messages arrive asynchronously. */
async function eventually(check: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A listener that records what it hears. */
function recorder() {
  const heard: string[] = [];
  return { heard, listener: (message: string) => void heard.push(message) };
}

export function ephemeralContract(name: string, make: () => EphemeralStore | Promise<EphemeralStore>, opts: ContractOptions = {}): void {
  describe(`EphemeralStore contract: ${name}`, () => {
    let opened: EphemeralStore[] = [];
    let store: EphemeralStore;

    async function open(): Promise<EphemeralStore> {
      const s = await make();
      opened.push(s);
      return s;
    }

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await Promise.all(opened.map((s) => s.close()));
      opened = [];
    });

    describe('get / set / mget / del', () => {
      it('get returns null for a key never written', async () => {
        expect(await store.get('nope')).toBeNull();
      });

      it('set then get returns the exact string, including empty and non-ASCII values', async () => {
        for (const value of ['v', '', '{"a":1}', 'ünïcødé 扫码 🔑', 'x'.repeat(10_000)]) {
          await store.set('k', value, 10_000);
          expect(await store.get('k')).toBe(value);
        }
      });

      it('set overwrites an existing value', async () => {
        await store.set('k', 'one', 10_000);
        await store.set('k', 'two', 10_000);
        expect(await store.get('k')).toBe('two');
      });

      it('mget returns values in the order asked, null for missing keys, [] for no keys', async () => {
        await store.set('a', '1', 10_000);
        await store.set('c', '3', 10_000);
        expect(await store.mget(['c', 'b', 'a', 'c'])).toEqual(['3', null, '1', '3']);
        expect(await store.mget([])).toEqual([]);
      });

      it('del removes keys and returns how many of them existed', async () => {
        await store.set('a', '1', 10_000);
        await store.set('b', '2', 10_000);
        expect(await store.del('a', 'b', 'missing')).toBe(2);
        expect(await store.mget(['a', 'b'])).toEqual([null, null]);
        expect(await store.del('a')).toBe(0);
        expect(await store.del()).toBe(0);
      });
    });

    describe('TTL', () => {
      it('an expired key reads as missing for get, mget and ttl', async () => {
        await store.set('short', 'v', SHORT);
        await store.set('long', 'w', 10_000);
        expect(await store.get('short')).toBe('v');
        await sleep(PAST_SHORT);
        expect(await store.get('short')).toBeNull();
        expect(await store.mget(['short', 'long'])).toEqual([null, 'w']);
        expect(await store.ttl('short')).toBeNull();
      });

      it('ttl returns the remaining milliseconds (0 < ttl <= ttlMs), null for a missing key', async () => {
        await store.set('k', 'v', 5_000);
        const remaining = await store.ttl('k');
        expect(remaining).toBeGreaterThan(4_000);
        expect(remaining).toBeLessThanOrEqual(5_000);
        await sleep(100);
        expect(await store.ttl('k')).toBeLessThan(remaining!);
        expect(await store.ttl('missing')).toBeNull();
      });

      it('set replaces the TTL of an existing key (longer keeps it alive, shorter expires it)', async () => {
        await store.set('longer', 'v', SHORT);
        await store.set('longer', 'v', 10_000);
        await store.set('shorter', 'v', 10_000);
        await store.set('shorter', 'v', SHORT);
        await sleep(PAST_SHORT);
        expect(await store.get('longer')).toBe('v');
        expect(await store.get('shorter')).toBeNull();
      });

      it('a TTL that is not > 0 is rejected', async () => {
        await expect(store.set('k', 'v', 0)).rejects.toThrow();
        await expect(store.set('k', 'v', -5)).rejects.toThrow();
        expect(await store.get('k')).toBeNull();
      });
    });

    describe('setIfAbsent', () => {
      it('writes only when the key is missing and says whether it wrote', async () => {
        expect(await store.setIfAbsent('k', 'first', 10_000)).toBe(true);
        expect(await store.setIfAbsent('k', 'second', 10_000)).toBe(false);
        expect(await store.get('k')).toBe('first');
      });

      it('succeeds again once the previous value has expired, with the new TTL', async () => {
        expect(await store.setIfAbsent('k', 'first', SHORT)).toBe(true);
        await sleep(PAST_SHORT);
        expect(await store.setIfAbsent('k', 'second', 10_000)).toBe(true);
        expect(await store.get('k')).toBe('second');
        expect(await store.ttl('k')).toBeGreaterThan(5_000);
      });

      it('is atomic: of 200 concurrent calls exactly one writes', async () => {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.setIfAbsent('race', `v${i}`, 10_000)));
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.get('race')).toBe(`v${winners[0]}`);
      });
    });

    describe('compareAndSet', () => {
      it('replaces the value when the current value equals expected', async () => {
        await store.set('k', 'old', 10_000);
        expect(await store.compareAndSet('k', 'old', 'new', 10_000)).toBe(true);
        expect(await store.get('k')).toBe('new');
      });

      it('on mismatch returns false and leaves value and TTL untouched', async () => {
        await store.set('k', 'actual', 5_000);
        expect(await store.compareAndSet('k', 'other', 'new', 60_000)).toBe(false);
        expect(await store.get('k')).toBe('actual');
        expect(await store.ttl('k')).toBeLessThanOrEqual(5_000);
      });

      it('expected = null succeeds on a missing key and sets the given TTL', async () => {
        expect(await store.compareAndSet('k', null, 'created', 5_000)).toBe(true);
        expect(await store.get('k')).toBe('created');
        const remaining = await store.ttl('k');
        expect(remaining).toBeGreaterThan(4_000);
        expect(remaining).toBeLessThanOrEqual(5_000);
      });

      it('expected = null fails on an existing key, even one holding the empty string', async () => {
        await store.set('k', 'v', 10_000);
        await store.set('empty', '', 10_000);
        expect(await store.compareAndSet('k', null, 'x', 10_000)).toBe(false);
        expect(await store.compareAndSet('empty', null, 'x', 10_000)).toBe(false);
        expect(await store.compareAndSet('empty', '', 'x', 10_000)).toBe(true);
        expect(await store.get('k')).toBe('v');
        expect(await store.get('empty')).toBe('x');
      });

      it('an expired key counts as missing: expected = null succeeds, expected = old value fails', async () => {
        await store.set('a', 'old', SHORT);
        await store.set('b', 'old', SHORT);
        await sleep(PAST_SHORT);
        expect(await store.compareAndSet('a', null, 'new', 10_000)).toBe(true);
        expect(await store.get('a')).toBe('new');
        expect(await store.compareAndSet('b', 'old', 'new', 10_000)).toBe(false);
        expect(await store.get('b')).toBeNull();
      });

      it('a given ttlMs replaces the TTL', async () => {
        await store.set('k', 'v1', 10_000);
        expect(await store.compareAndSet('k', 'v1', 'v2', SHORT)).toBe(true);
        expect(await store.ttl('k')).toBeLessThanOrEqual(SHORT);
        await sleep(PAST_SHORT);
        expect(await store.get('k')).toBeNull();
      });

      it('an omitted ttlMs keeps the current TTL', async () => {
        await store.set('k', 'v1', SHORT);
        expect(await store.compareAndSet('k', 'v1', 'v2')).toBe(true);
        expect(await store.get('k')).toBe('v2');
        expect(await store.ttl('k')).toBeLessThanOrEqual(SHORT);
        await sleep(PAST_SHORT);
        expect(await store.get('k')).toBeNull();
      });

      it('expected = null without a ttlMs is rejected and creates nothing', async () => {
        await expect(store.compareAndSet('k', null, 'v')).rejects.toThrow(/ttl/i);
        expect(await store.get('k')).toBeNull();
      });

      it('is atomic: 200 concurrent calls with the same expected value, exactly one returns true', async () => {
        await store.set('state', 'pending', 10_000);
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.compareAndSet('state', 'pending', `claimed-by-${i}`, 10_000)));
        const winners = results.flatMap((won, i) => (won ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.get('state')).toBe(`claimed-by-${winners[0]}`);
      });

      it('is atomic for creation too: 200 concurrent expected = null calls, exactly one returns true', async () => {
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.compareAndSet('fresh', null, `v${i}`, 10_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('sets', () => {
      it('sadd collects distinct members; smembers of a missing set is []', async () => {
        expect(await store.smembers('set')).toEqual([]);
        await store.sadd('set', 'a', 10_000);
        await store.sadd('set', 'b', 10_000);
        await store.sadd('set', 'a', 10_000);
        expect((await store.smembers('set')).sort()).toEqual(['a', 'b']);
      });

      it('the set expires as a whole after its TTL', async () => {
        await store.sadd('set', 'a', SHORT);
        expect(await store.ttl('set')).toBeLessThanOrEqual(SHORT);
        await sleep(PAST_SHORT);
        expect(await store.smembers('set')).toEqual([]);
        expect(await store.ttl('set')).toBeNull();
      });

      it('each sadd resets the TTL of the whole set', async () => {
        await store.sadd('set', 'a', SHORT);
        await store.sadd('set', 'b', 10_000);
        await sleep(PAST_SHORT);
        expect((await store.smembers('set')).sort()).toEqual(['a', 'b']);
        await store.sadd('set', 'c', SHORT);
        await sleep(PAST_SHORT);
        expect(await store.smembers('set')).toEqual([]);
      });

      it('del removes a set', async () => {
        await store.sadd('set', 'a', 10_000);
        expect(await store.del('set')).toBe(1);
        expect(await store.smembers('set')).toEqual([]);
      });
    });

    describe('pub/sub', () => {
      it('a message published after subscribe() resolves reaches every listener of the channel', async () => {
        const one = recorder();
        const two = recorder();
        await store.subscribe('ch', one.listener);
        await store.subscribe('ch', two.listener);
        await store.publish('ch', 'hello');
        await eventually(() => one.heard.length === 1 && two.heard.length === 1, 'both listeners');
        expect(one.heard).toEqual(['hello']);
        expect(two.heard).toEqual(['hello']);
      });

      it('delivery is asynchronous and in publish order', async () => {
        const r = recorder();
        await store.subscribe('ch', r.listener);
        const published = Promise.all(Array.from({ length: 20 }, (_, i) => store.publish('ch', `m${i}`)));
        expect(r.heard).toEqual([]); // never called from inside publish()
        await published;
        await eventually(() => r.heard.length === 20, '20 messages');
        expect(r.heard).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      });

      it('unsubscribe stops delivery to that listener only, and is idempotent', async () => {
        const leaving = recorder();
        const staying = recorder();
        const unsubscribe = await store.subscribe('ch', leaving.listener);
        await store.subscribe('ch', staying.listener);
        await unsubscribe();
        await unsubscribe();
        await store.publish('ch', 'after');
        // Delivery is ordered, so once `staying` heard it, `leaving` would have too.
        await eventually(() => staying.heard.length === 1, 'the remaining listener');
        expect(leaving.heard).toEqual([]);
      });

      it('the same function subscribed twice is two listeners; removing one keeps the other', async () => {
        const r = recorder();
        const first = await store.subscribe('ch', r.listener);
        await store.subscribe('ch', r.listener);
        await store.publish('ch', 'a');
        await eventually(() => r.heard.length === 2, 'two deliveries');
        await first();
        await store.publish('ch', 'b');
        await eventually(() => r.heard.length === 3, 'one more delivery');
        await sleep(20);
        expect(r.heard).toEqual(['a', 'a', 'b']);
      });

      it('after the last listener left, subscribing to the channel again works', async () => {
        const r = recorder();
        await (
          await store.subscribe('ch', r.listener)
        )();
        await store.subscribe('ch', r.listener);
        await store.publish('ch', 'back');
        await eventually(() => r.heard.length === 1, 'the message after re-subscribing');
      });

      it('channels are isolated: a listener only hears its own channel', async () => {
        const a = recorder();
        const b = recorder();
        await store.subscribe('a', a.listener);
        await store.subscribe('b', b.listener);
        await store.publish('b', 'for-b');
        await store.publish('a', 'for-a');
        await eventually(() => a.heard.length === 1 && b.heard.length === 1, 'one message each');
        expect(a.heard).toEqual(['for-a']);
        expect(b.heard).toEqual(['for-b']);
      });

      it('a throwing listener does not stop delivery to the other listeners', async () => {
        const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
        try {
          const r = recorder();
          await store.subscribe('ch', () => {
            throw new Error('listener bug');
          });
          await store.subscribe('ch', r.listener);
          await store.publish('ch', 'one');
          await store.publish('ch', 'two');
          await eventually(() => r.heard.length === 2, 'both messages');
        } finally {
          quiet.mockRestore();
        }
      });

      it('publishing to a channel nobody listens on succeeds', async () => {
        await expect(store.publish('nobody', 'x')).resolves.toBeUndefined();
      });
    });

    describe('namespaces', () => {
      it('separate stores (distinct prefixes) share neither keys nor channels', async () => {
        const other = await open();
        await store.set('k', 'mine', 10_000);
        expect(await other.get('k')).toBeNull();
        expect(await other.compareAndSet('k', null, 'theirs', 10_000)).toBe(true);
        expect(await store.get('k')).toBe('mine');

        const mine = recorder();
        const theirs = recorder();
        await store.subscribe('ch', mine.listener);
        await other.subscribe('ch', theirs.listener);
        await other.publish('ch', 'from-other');
        await store.publish('ch', 'from-store');
        await eventually(() => mine.heard.length === 1 && theirs.heard.length === 1, 'one message each');
        await sleep(20);
        expect(mine.heard).toEqual(['from-store']);
        expect(theirs.heard).toEqual(['from-other']);
      });

      // Only stores shared between processes have a pair; the in-memory store is one process's own.
      const makePair = opts.makePair;
      if (!makePair) return;

      it('stores sharing a namespace see each other’s writes and publishes', async () => {
        const [a, b] = await makePair();
        opened.push(a, b);
        await a.set('k', 'from-a', 10_000);
        expect(await b.get('k')).toBe('from-a');
        const r = recorder();
        await b.subscribe('ch', r.listener);
        await a.publish('ch', 'hello-b');
        await eventually(() => r.heard.length === 1, 'the cross-instance message');
      });

      it('compareAndSet is atomic across instances: 200 calls split over two, exactly one true', async () => {
        const [a, b] = await makePair();
        opened.push(a, b);
        await a.set('state', 'pending', 10_000);
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).compareAndSet('state', 'pending', `by-${i}`, 10_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('health and lifecycle', () => {
      it('ping is true while the backing service is reachable', async () => {
        expect(await store.ping()).toBe(true);
      });

      it('close is idempotent; afterwards ping is false and operations reject', async () => {
        const s = await open();
        await s.subscribe('ch', () => {});
        await s.close();
        await s.close();
        expect(await s.ping()).toBe(false);
        await expect(s.get('k')).rejects.toThrow(/closed/);
        await expect(s.publish('ch', 'x')).rejects.toThrow(/closed/);
      });

      it('kind names the implementation', () => {
        expect(['redis', 'memory']).toContain(store.kind);
      });
    });
  });
}
