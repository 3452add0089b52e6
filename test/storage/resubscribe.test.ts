import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, redisOptionsFromUrl } from '../../provider/src/storage/ephemeral.redis.js';
import { deleteRedisPrefix, REDIS_URL, skipUnlessRedis } from '../support/services.js';

/**
 * Pub/sub is at-most-once: what is published while the subscriber connection is down is lost.
 * The store says when its subscriptions are back, so the QR page and the caches re-read.
 */
describe.skipIf(await skipUnlessRedis())('redis store: resubscription after a lost connection', () => {
  const prefix = `saoma-test:${nanoid()}:`;
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(redisOptionsFromUrl(REDIS_URL));
  });
  afterAll(async () => {
    await admin.quit();
    await deleteRedisPrefix(prefix);
  });

  /** Server-side kill of this store's subscriber connection (found by its name), as a restart would. */
  async function killSubscriber(): Promise<void> {
    const list = (await admin.client('LIST')) as string;
    const line = list.split('\n').find((l) => l.includes(` name=${prefix}sub `));
    expect(line, 'the store names its subscriber connection').toBeTruthy();
    await admin.client('KILL', 'ID', /\bid=(\d+)/.exec(line!)![1]);
  }

  it('calls onResubscribed once the subscriber is back (not before), and delivery resumes', async () => {
    const store = createRedisStore({ url: REDIS_URL, prefix, onConnectionError: () => {} });
    const publisher = createRedisStore({ url: REDIS_URL, prefix });
    try {
      const heard: string[] = [];
      await store.subscribe('ch', (m) => heard.push(m));
      let resubscribed = 0;
      const stop = store.onResubscribed(() => resubscribed++);
      await publisher.publish('ch', 'before');
      await expect.poll(() => heard).toEqual(['before']);
      expect(resubscribed).toBe(0);

      await killSubscriber();
      await expect.poll(() => resubscribed, { timeout: 5_000 }).toBe(1);
      await publisher.publish('ch', 'after');
      await expect.poll(() => heard).toEqual(['before', 'after']);

      stop();
      await killSubscriber();
      // Delivery resumes by itself; publish until it does (what is sent in the gap is lost).
      await expect.poll(async () => (await publisher.publish('ch', 'probe'), heard.includes('probe')), { timeout: 5_000 }).toBe(true);
      expect(resubscribed).toBe(1); // removed callbacks are not called
    } finally {
      await Promise.all([store.close(), publisher.close()]);
    }
  });
});
