import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../provider/src/storage/ephemeral.memory.js';
import { ephemeralContract } from './ephemeral.contract.js';

ephemeralContract('memory', () => createMemoryStore());

describe('memory store specifics', () => {
  it('expiry follows the injected clock: present until ttlMs has passed, gone at ttlMs', async () => {
    let t = 1_000;
    const store = createMemoryStore({ now: () => t });
    await store.set('k', 'v', 100);
    t += 99;
    expect(await store.get('k')).toBe('v');
    expect(await store.ttl('k')).toBe(1);
    t += 1;
    expect(await store.get('k')).toBeNull();
    await store.close();
  });

  it('the periodic sweep drops expired keys nobody reads again, so memory does not grow', async () => {
    let t = 0;
    const store = createMemoryStore({ now: () => t, sweepIntervalMs: 10 });
    for (let i = 0; i < 100; i++) await store.set(`k${i}`, 'v', 50);
    await store.set('live', 'v', 10_000);
    expect(store.size()).toBe(101);
    t += 100;
    await expect.poll(() => store.size()).toBe(1);
    await store.close();
  });

  it('close empties the store and stops the sweep timer', async () => {
    const store = createMemoryStore({ sweepIntervalMs: 10 });
    await store.set('k', 'v', 10_000);
    await store.close();
    expect(store.size()).toBe(0);
  });
});
