/**
 * The Redis store through Sentinel (REDIS_SENTINELS), on a master and sentinel of this test's
 * own (real redis-server processes on spare ports): the whole ephemeral-store contract, where
 * the connections land, credentials from REDIS_URL, and a failover.
 */
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../provider/src/config.js';
import { createRedisStore } from '../../provider/src/storage/ephemeral.redis.js';
import type { RedisConnectionSettings } from '../../provider/src/storage/redis-connection.js';
import { ephemeralContract } from '../contract/ephemeral.contract.js';
import { ask, clientList, skipUnlessRedisBinaries, startSentinel, type OwnSentinel } from './redis-topology.js';
import { closeStarted } from '../support/harness.js';

const runPrefix = `saoma-test:${nanoid(8)}:`;
let storeCount = 0;
const freshPrefix = () => `${runPrefix}${storeCount++}:`;

describe.skipIf(skipUnlessRedisBinaries('Redis Sentinel'))('redis store through Sentinel', () => {
  let sentinel: OwnSentinel;

  beforeAll(async () => {
    sentinel = await startSentinel();
  });

  afterAll(async () => {
    await closeStarted(sentinel);
  });

  /** As config.ts builds it; the master's password comes from REDIS_URL, whose host is not used. */
  const settings = (): RedisConnectionSettings & { mode: 'sentinel' } => ({
    mode: 'sentinel',
    sentinels: [{ host: '127.0.0.1', port: sentinel.sentinelPort }],
    name: sentinel.name,
    sentinelPassword: sentinel.sentinelPassword,
    url: `redis://:${sentinel.password}@not-used.invalid:1`,
  });

  ephemeralContract('redis via Sentinel', () => createRedisStore({ connection: settings(), prefix: freshPrefix() }), {
    makePair: () => {
      const prefix = freshPrefix();
      return [createRedisStore({ connection: settings(), prefix }), createRedisStore({ connection: settings(), prefix })];
    },
  });

  it('connects to the master the sentinel names: one command and one subscriber connection', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ connection: settings(), prefix });
    try {
      await store.set('k', 'v', 10_000);
      await Promise.all([store.subscribe('a', () => {}), store.subscribe('b', () => {})]);
      const mine = (await clientList(sentinel.masterPort, sentinel.password)).filter((c) => c.name.startsWith(prefix));
      expect(mine.map((c) => c.name).sort()).toEqual([`${prefix}cmd`, `${prefix}sub`]);
      expect(mine.find((c) => c.name === `${prefix}sub`)!.sub).toBe('2');
      expect(await ask(sentinel.masterPort, (r) => r.get(`${prefix}k`), sentinel.password)).toBe('v');
    } finally {
      await store.close();
    }
  });

  it('from the environment: REDIS_SENTINELS, REDIS_SENTINEL_NAME and _PASSWORD, and REDIS_URL for password and db', async () => {
    const prefix = freshPrefix();
    const config = loadConfig({
      REDIS_SENTINELS: ` 127.0.0.1:${sentinel.sentinelPort} ,`,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_SENTINEL_PASSWORD: sentinel.sentinelPassword,
      REDIS_URL: `redis://:${sentinel.password}@not-used.invalid/3`,
      REDIS_PREFIX: prefix,
    });
    const store = createRedisStore({ connection: config.redis!, prefix: config.REDIS_PREFIX });
    try {
      expect(await store.ping()).toBe(true);
      await store.set('in-db-3', 'v', 10_000);
      expect(await ask(sentinel.masterPort, async (r) => (await r.select(3), r.get(`${prefix}in-db-3`)), sentinel.password)).toBe('v');
      expect(await ask(sentinel.masterPort, (r) => r.get(`${prefix}in-db-3`), sentinel.password)).toBeNull(); // not db 0
    } finally {
      await store.close();
    }
  });

  it('a master name the sentinels do not know is reported through onConnectionError', async () => {
    const errors: string[] = [];
    const store = createRedisStore({
      connection: { ...settings(), name: 'no-such-master' },
      prefix: freshPrefix(),
      onConnectionError: (error, connection) => errors.push(`${connection}: ${error.message}`),
    });
    try {
      expect(await store.ping()).toBe(false);
      await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(0);
      expect(errors[0]).toMatch(/^cmd: .*sentinel/i);
    } finally {
      await store.close();
    }
  });

  // Last: it moves the master.
  it('follows a failover: commands and subscriptions continue on the new master', async () => {
    const replicaPort = await sentinel.addReplica();
    const prefix = freshPrefix();
    const store = createRedisStore({ connection: settings(), prefix, onConnectionError: () => {} });
    try {
      await store.set('before', 'v', 60_000);
      const heard: string[] = [];
      await store.subscribe('ch', (m) => heard.push(m));
      let resubscribed = 0;
      store.onResubscribed(() => resubscribed++);
      // The replica must have the key before it is promoted (replication is asynchronous).
      await expect.poll(() => ask(replicaPort, (r) => r.get(`${prefix}before`), sentinel.password)).toBe('v');

      await sentinel.failover();
      await expect
        .poll(() => ask(sentinel.sentinelPort, (r) => r.call('SENTINEL', 'get-master-addr-by-name', sentinel.name), sentinel.sentinelPassword), {
          timeout: 20_000,
          interval: 200,
        })
        .toEqual(['127.0.0.1', String(replicaPort)]);

      // The old master became a replica and dropped its clients; ioredis asks the sentinel again.
      await expect
        .poll(
          async () =>
            (await clientList(replicaPort, sentinel.password))
              .map((c) => c.name)
              .filter((n) => n.startsWith(prefix))
              .sort(),
          {
            timeout: 20_000,
            interval: 200,
          },
        )
        .toEqual([`${prefix}cmd`, `${prefix}sub`]);
      expect(await store.get('before')).toBe('v');
      await store.set('after', 'w', 60_000);
      expect(await ask(replicaPort, (r) => r.get(`${prefix}after`), sentinel.password)).toBe('w');
      // The subscriber re-subscribes on its new connection shortly after connecting.
      await expect.poll(async () => (await store.publish('ch', 'after-failover'), heard.length > 0), { timeout: 10_000, interval: 100 }).toBe(true);
      expect(new Set(heard)).toEqual(new Set(['after-failover']));
      await expect.poll(() => resubscribed).toBeGreaterThanOrEqual(1); // so listeners re-read what they missed
    } finally {
      await store.close();
    }
  }, 90_000);
});
