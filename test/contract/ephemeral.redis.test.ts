import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore, redisOptionsFromUrl } from '../../provider/src/storage/ephemeral.redis.js';
import { REDIS_URL, skipUnlessRedis } from '../support/services.js';
import { ephemeralContract } from './ephemeral.contract.js';

// Every key and channel of this run lives under one random prefix, cleaned up afterwards.
const runPrefix = `saoma-test:${nanoid()}:`;
let storeCount = 0;
const freshPrefix = () => `${runPrefix}${storeCount++}:`;

describe.skipIf(await skipUnlessRedis())('redis store', () => {
  let admin: Redis; // a separate connection for inspecting Redis and cleaning up

  beforeAll(() => {
    admin = new Redis(redisOptionsFromUrl(REDIS_URL));
  });

  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 500);
      if (keys.length) await admin.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await admin.quit();
  });

  ephemeralContract('redis', () => createRedisStore({ url: REDIS_URL, prefix: freshPrefix() }), {
    makePair: () => {
      const prefix = freshPrefix();
      return [createRedisStore({ url: REDIS_URL, prefix }), createRedisStore({ url: REDIS_URL, prefix })];
    },
  });

  /** This store's connections as CLIENT LIST reports them, found by connection name. */
  async function connectionsOf(prefix: string) {
    const list = (await admin.client('LIST')) as string;
    return list
      .split('\n')
      .filter(Boolean)
      .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2))))
      .filter((c) => c.name?.startsWith(prefix));
  }

  it('uses exactly two connections (commands + one subscriber) for 50 channels, and ref-counts channels', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      const unsubscribes = await Promise.all(Array.from({ length: 50 }, (_, i) => store.subscribe(`ch${i}`, () => {})));
      const second = await store.subscribe('ch0', () => {}); // shares ch0's SUBSCRIBE
      await store.ping();
      const connections = await connectionsOf(prefix);
      expect(connections.map((c) => c.name).sort()).toEqual([`${prefix}cmd`, `${prefix}sub`]);
      const sub = () => connectionsOf(prefix).then((cs) => Number(cs.find((c) => c.name === `${prefix}sub`)!.sub));
      expect(await sub()).toBe(50);

      await unsubscribes[0](); // ch0 still has `second`
      expect(await sub()).toBe(50);
      await second();
      expect(await sub()).toBe(49);
      await Promise.all(unsubscribes.slice(1).map((u) => u()));
      expect(await sub()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('keys and channels carry the prefix in Redis', async () => {
    const prefix = freshPrefix();
    const store = createRedisStore({ url: REDIS_URL, prefix });
    try {
      await store.set('k', 'v', 10_000);
      expect(await admin.get(`${prefix}k`)).toBe('v');
      const heard: string[] = [];
      await store.subscribe('ch', (m) => heard.push(m));
      await admin.publish(`${prefix}ch`, 'raw');
      await expect.poll(() => heard).toEqual(['raw']);
    } finally {
      await store.close();
    }
  });

  it('close() leaves a client passed in open, and closes the subscriber it created', async () => {
    const prefix = freshPrefix();
    const client = new Redis({ ...redisOptionsFromUrl(REDIS_URL), connectionName: `${prefix}mine` });
    const store = createRedisStore({ client, prefix });
    await store.subscribe('ch', () => {});
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await expect.poll(async () => (await connectionsOf(prefix)).map((c) => c.name)).toEqual([`${prefix}mine`]);
    await client.quit();
  });

  it('when Redis is unreachable, ping() is false within ~1 s and requests fail fast instead of hanging', async () => {
    const errors: string[] = [];
    const store = createRedisStore({
      url: 'redis://127.0.0.1:1',
      prefix: freshPrefix(),
      onConnectionError: (error, connection) => errors.push(`${connection}: ${error.message}`),
    });
    try {
      let started = Date.now();
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_500);
      started = Date.now();
      await expect(store.get('k')).rejects.toThrow();
      await expect(store.subscribe('ch', () => {})).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(8_000);
      // Reported once per connection and outage, not once per reconnect attempt.
      expect(errors.sort()).toEqual(['cmd: connect ECONNREFUSED 127.0.0.1:1', 'sub: connect ECONNREFUSED 127.0.0.1:1']);
    } finally {
      await store.close();
    }
  });
});

describe('redisOptionsFromUrl', () => {
  it('reads host, port, credentials and db; rediss:// turns on TLS', () => {
    expect(redisOptionsFromUrl('redis://127.0.0.1:6380/2')).toEqual({ host: '127.0.0.1', port: 6380, db: 2 });
    expect(redisOptionsFromUrl('rediss://user:p%40ss@cache.example:6390')).toEqual({
      host: 'cache.example',
      port: 6390,
      username: 'user',
      password: 'p@ss',
      tls: { servername: 'cache.example' },
    });
    expect(redisOptionsFromUrl('redis://:secret@[::1]')).toMatchObject({ host: '::1', port: 6379, password: 'secret' });
  });

  it('rejects other schemes and a non-numeric db', () => {
    expect(() => redisOptionsFromUrl('http://localhost')).toThrow(/scheme/);
    expect(() => redisOptionsFromUrl('redis://localhost/abc')).toThrow(/database/);
  });
});
