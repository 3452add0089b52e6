/**
 * The Redis store on a Redis Cluster (REDIS_CLUSTER_NODES): three masters of this test's own
 * (real redis-server processes on spare ports, joined with redis-cli --cluster create). The
 * whole ephemeral-store contract, keys spread over several nodes, one subscriber connection per
 * store, and the rate limiter sharing the store's Cluster connection.
 */
import { nanoid } from 'nanoid';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../provider/src/config.js';
import { createRedisStore } from '../../provider/src/storage/ephemeral.redis.js';
import type { RedisConnectionSettings } from '../../provider/src/storage/redis-connection.js';
import { ephemeralContract } from '../contract/ephemeral.contract.js';
import { fullLogin, registerSite, signedInPhone } from '../support/flow.js';
import { startTestProvider, closeStarted } from '../support/harness.js';
import { ask, clientList, skipUnlessRedisBinaries, startCluster, type OwnCluster } from './redis-topology.js';

const runPrefix = `saoma-test:${nanoid(8)}:`;
let storeCount = 0;
const freshPrefix = () => `${runPrefix}${storeCount++}:`;

describe.skipIf(skipUnlessRedisBinaries('Redis Cluster'))('redis store on a Redis Cluster', () => {
  let cluster: OwnCluster;

  beforeAll(async () => {
    cluster = await startCluster(3);
  });

  afterAll(async () => {
    await closeStarted(cluster);
  });

  /** One seed node is enough: the client learns the others from it. */
  const settings = (): RedisConnectionSettings => ({ mode: 'cluster', nodes: [{ host: '127.0.0.1', port: cluster.ports[0] }] });

  ephemeralContract('redis on a Cluster', () => createRedisStore({ connection: settings(), prefix: freshPrefix() }), {
    makePair: () => {
      const prefix = freshPrefix();
      return [createRedisStore({ connection: settings(), prefix }), createRedisStore({ connection: settings(), prefix })];
    },
  });

  it('keys land on several nodes, and mget and del across them work', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ connection: settings(), prefix });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `key${i}`);
      await Promise.all(keys.map((key) => store.set(key, `v-${key}`, 60_000)));
      const perNode = await Promise.all(cluster.ports.map((port) => ask(port, async (r) => (await r.keys(`${prefix}*`)).length)));
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThan(1);
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(30);

      expect(await store.mget([...keys, 'missing'])).toEqual([...keys.map((key) => `v-${key}`), null]);
      expect(await store.del(...keys, 'missing')).toBe(30);
      expect(await store.mget(keys)).toEqual(keys.map(() => null));
    } finally {
      await store.close();
    }
  });

  it('subscribes on one connection per store, whatever the number of channels', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ connection: settings(), prefix });
    try {
      const unsubscribes = await Promise.all(Array.from({ length: 20 }, (_, i) => store.subscribe(`ch${i}`, () => {})));
      await store.set('k', 'v', 10_000); // commands keep working alongside the subscriptions
      const subscribers = (await Promise.all(cluster.ports.map((port) => clientList(port)))).flat().filter((c) => c.name === `${prefix}sub`);
      expect(subscribers).toHaveLength(1);
      expect(subscribers[0].sub).toBe('20');
      await Promise.all(unsubscribes.map((u) => u()));
    } finally {
      await store.close();
    }
  });

  it('from the environment: REDIS_CLUSTER_NODES, with REDIS_URL supplying credentials only', async () => {
    const prefix = freshPrefix();
    const config = loadConfig({
      REDIS_CLUSTER_NODES: cluster.ports.map((port) => `127.0.0.1:${port}`).join(','),
      REDIS_URL: 'redis://not-used.invalid:1',
      REDIS_PREFIX: prefix,
    });
    expect(config.redis).toMatchObject({ mode: 'cluster', nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) });
    const store = createRedisStore({ connection: config.redis!, prefix: config.REDIS_PREFIX });
    try {
      expect(await store.ping()).toBe(true);
      expect(await store.compareAndSet('k', null, 'v', 10_000)).toBe(true);
      expect(await store.get('k')).toBe('v');
    } finally {
      await store.close();
    }
  });

  it('a provider configured with REDIS_CLUSTER_NODES runs a whole QR login on the cluster', async () => {
    const prefix = freshPrefix();
    const p = await startTestProvider('embedded', {
      REDIS_CLUSTER_NODES: `127.0.0.1:${cluster.ports[0]}`,
      REDIS_PREFIX: prefix,
      RATE_LIMIT_SCANS: '5/60', // one limit left on, counted on the cluster
    });
    try {
      const ready = (await (await fetch(`${p.issuer}/readyz`)).json()) as { checks: { store: { ok: boolean; kind: string } } };
      expect(ready.checks.store).toEqual({ ok: true, kind: 'redis' });
      const { config } = await registerSite(p);
      const phone = await signedInPhone(p);
      const { claims } = await fullLogin(p, config, phone);
      expect(claims.sub).toBeTruthy();
      const keys = (await Promise.all(cluster.ports.map((port) => ask(port, (r) => r.keys(`${prefix}*`))))).flat();
      expect(keys.length).toBeGreaterThan(0); // the login's state lived on the cluster, under the prefix
    } finally {
      await p.close();
    }
  }, 60_000);

  it('the rate limiter counts on the store’s Cluster connection (RateLimiterRedis)', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ connection: settings(), prefix });
    try {
      expect(await store.ping()).toBe(true); // rejectIfRedisNotReady: the app falls back to memory until then
      const limiter = new RateLimiterRedis({ storeClient: store.redis, keyPrefix: `${prefix}rl`, points: 2, duration: 60, rejectIfRedisNotReady: true });
      await limiter.consume('203.0.113.7');
      await limiter.consume('203.0.113.7');
      await expect(limiter.consume('203.0.113.7')).rejects.toMatchObject({ remainingPoints: 0 });
      expect((await limiter.get('203.0.113.7'))?.consumedPoints).toBe(3);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(skipUnlessRedisBinaries('Redis Cluster'))('redis store on a Redis Cluster whose nodes fail', () => {
  let cluster: OwnCluster;

  beforeAll(async () => {
    cluster = await startCluster(3);
  });

  afterAll(async () => {
    await closeStarted(cluster);
  });

  /** The port of the node holding this store's subscriber connection. */
  async function subscriberNode(prefix: string): Promise<number | undefined> {
    for (const port of cluster.ports) {
      const list = await clientList(port).catch(() => []);
      if (list.some((c) => c.name === `${prefix}sub`)) return port;
    }
    return undefined;
  }

  it('when the subscriber’s node dies, the subscriptions move to another node', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({
      connection: { mode: 'cluster', nodes: cluster.ports.map((port) => ({ host: '127.0.0.1', port })) },
      prefix,
      onConnectionError: () => {},
    });
    try {
      const heard: string[] = [];
      await store.subscribe('ch', (m) => heard.push(m));
      let resubscribed = 0;
      store.onResubscribed(() => resubscribed++);
      const dead = (await subscriberNode(prefix))!;
      expect(dead).toBeDefined();
      await cluster.kill(dead);
      // PUBLISH needs no slot, so the surviving nodes relay it even with the cluster degraded.
      const survivor = cluster.ports.find((port) => port !== dead)!;
      await expect
        .poll(async () => (await ask(survivor, (r) => r.publish(`${prefix}ch`, 'after')), heard.length > 0), { timeout: 20_000, interval: 250 })
        .toBe(true);
      expect(new Set(heard)).toEqual(new Set(['after']));
      expect(await subscriberNode(prefix)).not.toBe(dead);
      await expect.poll(() => resubscribed).toBe(1); // once, when the new node has the channels
    } finally {
      await store.close();
    }
  }, 40_000);

  // Last: it takes the whole cluster down.
  it('with every node down: requests fail within seconds and nothing spins', async () => {
    const prefix = freshPrefix();
    const errors: string[] = [];
    // Seeded with the live nodes only: the port of the one the previous test killed may by now
    // belong to another test file's server, which would take SUBSCRIBE and never answer.
    const store = createRedisStore({
      connection: { mode: 'cluster', nodes: cluster.alive().map((port) => ({ host: '127.0.0.1', port })) },
      prefix,
      onConnectionError: (error, connection) => errors.push(`${connection}: ${error.message}`),
    });
    try {
      await store.subscribe('ch', () => {});
      errors.length = 0;
      await Promise.all(cluster.alive().map((port) => cluster.kill(port)));

      // ioredis' own cluster subscriber reconnects in a tight loop here (a whole core); ours pauses.
      const before = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 3_000));
      const used = process.cpuUsage(before);
      expect((used.user + used.system) / 1000).toBeLessThan(600);

      let started = Date.now();
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_500);
      started = Date.now();
      await expect(store.get('k')).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      expect(Date.now() - started).toBeLessThan(7_000);
      // Once per connection and outage, not once per reconnect attempt or replaced subscriber.
      expect(errors.filter((e) => e.startsWith('sub:'))).toHaveLength(1);
    } finally {
      await store.close();
    }
  }, 40_000);
});
