import { describe, expect, it } from 'vitest';
import { createLocalCache } from './local-cache.js';

describe('local cache', () => {
  it('loads once within the TTL and again after it', async () => {
    let t = 0;
    let loads = 0;
    const cache = createLocalCache<number>({ ttlMs: 100, max: 10, now: () => t });
    const load = () => Promise.resolve(++loads);
    expect(await cache.getOrLoad('a', load)).toBe(1);
    t = 99;
    expect(await cache.getOrLoad('a', load)).toBe(1);
    t = 100;
    expect(await cache.getOrLoad('a', load)).toBe(2);
  });

  it('evicts the oldest entry beyond max', async () => {
    const cache = createLocalCache<string>({ ttlMs: 1000, max: 2 });
    await cache.getOrLoad('a', () => Promise.resolve('a'));
    await cache.getOrLoad('b', () => Promise.resolve('b'));
    await cache.getOrLoad('c', () => Promise.resolve('c'));
    expect(cache.size).toBe(2);
    expect(await cache.getOrLoad('a', () => Promise.resolve('a2'))).toBe('a2');
    expect(await cache.getOrLoad('c', () => Promise.resolve('c2'))).toBe('c');
  });

  it('does not keep a load that raced an invalidation', async () => {
    const cache = createLocalCache<string>({ ttlMs: 1000, max: 10 });
    let release!: () => void;
    const slow = cache.getOrLoad('k', () => new Promise<string>((resolve) => (release = () => resolve('stale'))));
    cache.deleteWhere((v) => v === 'anything');
    release();
    expect(await slow).toBe('stale');
    expect(await cache.getOrLoad('k', () => Promise.resolve('fresh'))).toBe('fresh');
  });

  it('deletes by key and by predicate', async () => {
    const cache = createLocalCache<{ owner: string }>({ ttlMs: 1000, max: 10 });
    await cache.getOrLoad('1', () => Promise.resolve({ owner: 'x' }));
    await cache.getOrLoad('2', () => Promise.resolve({ owner: 'y' }));
    cache.deleteWhere((v) => v.owner === 'x');
    cache.delete('2');
    expect(cache.size).toBe(0);
  });
});
