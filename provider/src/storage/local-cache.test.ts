import { describe, expect, it } from 'vitest';
import { createLocalCache } from './local-cache.js';

describe('local cache', () => {
  it('loads once within the TTL and again after it', async () => {
    let t = 0;
    let loads = 0;
    const cache = createLocalCache<number>({ ttlMs: 100, max: 10, now: () => t });
    const load = async () => ++loads;
    expect(await cache.getOrLoad('a', load)).toBe(1);
    t = 99;
    expect(await cache.getOrLoad('a', load)).toBe(1);
    t = 100;
    expect(await cache.getOrLoad('a', load)).toBe(2);
  });

  it('evicts the oldest entry beyond max', async () => {
    const cache = createLocalCache<string>({ ttlMs: 1000, max: 2 });
    await cache.getOrLoad('a', async () => 'a');
    await cache.getOrLoad('b', async () => 'b');
    await cache.getOrLoad('c', async () => 'c');
    expect(cache.size).toBe(2);
    expect(await cache.getOrLoad('a', async () => 'a2')).toBe('a2');
    expect(await cache.getOrLoad('c', async () => 'c2')).toBe('c');
  });

  it('does not keep a load that raced an invalidation', async () => {
    const cache = createLocalCache<string>({ ttlMs: 1000, max: 10 });
    let release!: () => void;
    const slow = cache.getOrLoad('k', () => new Promise<string>((resolve) => (release = () => resolve('stale'))));
    cache.deleteWhere((v) => v === 'anything');
    release();
    expect(await slow).toBe('stale');
    expect(await cache.getOrLoad('k', async () => 'fresh')).toBe('fresh');
  });

  it('deletes by key and by predicate', async () => {
    const cache = createLocalCache<{ owner: string }>({ ttlMs: 1000, max: 10 });
    await cache.getOrLoad('1', async () => ({ owner: 'x' }));
    await cache.getOrLoad('2', async () => ({ owner: 'y' }));
    cache.deleteWhere((v) => v.owner === 'x');
    cache.delete('2');
    expect(cache.size).toBe(0);
  });
});
