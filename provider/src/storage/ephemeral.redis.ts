/**
 * Redis-backed ephemeral store (ioredis): shared by every provider instance using the same
 * Redis and prefix. Contract: provider/src/storage/ephemeral.ts. Works on one server, on a
 * master found through Sentinel, and on a Redis Cluster (redis-connection.ts).
 */
import type { Cluster, Redis } from 'ioredis';
import type { EphemeralStore } from './ephemeral.js';
import { createClusterSubscriber } from './cluster-subscriber.js';
import { createRedisConnection, type ConnectionOptions, type RedisConnectionSettings } from './redis-connection.js';

export { redisOptionsFromUrl } from './redis-connection.js';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL; defaults to redis://127.0.0.1:6379. Ignored when `connection` or `client` is given. */
  url?: string;
  /** One server, Sentinel or Cluster (config.ts builds it from the environment). Ignored when `client` is given. */
  connection?: RedisConnectionSettings;
  /** An existing connection (one server) to use for commands. Its options apply as they are, and close() leaves it open. */
  client?: Redis;
  /** Namespace for keys and channels; default "saoma:". */
  prefix?: string;
  /** Where a throwing listener's error goes (it must not stop delivery to the others). */
  onListenerError?: (error: unknown, channel: string) => void;
  /**
   * Errors of the connections this store creates (ioredis would print each reconnect failure).
   * Called once per outage per connection: the first error since it was last ready.
   */
  onConnectionError?: (error: Error, connection: 'cmd' | 'sub') => void;
}

/**
 * Connection settings for connections this module creates. The point is that a request during
 * an outage fails within seconds instead of waiting forever, while startup and short blips
 * (failover, restart) still work because commands queue until the connection is back.
 */
const CONNECTION_DEFAULTS = {
  // Queued commands are rejected after this many failed reconnects (~1-3 s when refused).
  maxRetriesPerRequest: 2,
  // Keep queueing while (re)connecting: without it, commands issued right after start fail.
  enableOfflineQueue: true,
  connectTimeout: 2_000,
  // Bound for connections that die silently (no close event): nothing waits longer than this.
  commandTimeout: 5_000,
  // Reconnect forever, at most 1 s apart, so recovery is quick once Redis is back.
  retryStrategy: (times: number) => Math.min(times * 100, 1_000),
  // Commands issued in the same tick (a login touches several keys at once) share one write.
  enableAutoPipelining: true,
} satisfies ConnectionOptions;

/**
 * compareAndSet in one script, so no other client can write between the compare and the set.
 * ARGV: [1] "1" when the key must be missing, [2] expected, [3] next, [4] ttl ms or "" to keep it.
 */
const COMPARE_AND_SET_LUA = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
if ARGV[4] == '' then
  redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
end
return 1
`;

interface WithCompareAndSet {
  saomaCompareAndSet(key: string, mustBeMissing: '1' | '0', expected: string, next: string, ttl: string): Promise<number>;
}

/** One channel on the subscriber connection: its listeners and the SUBSCRIBE acknowledgement. */
interface Channel {
  listeners: Set<{ listener: (message: string) => void }>;
  subscribed: Promise<void>;
}

function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be > 0, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}

/** quit() waits for Redis, which may be down; then just drop the socket. */
async function shutdown(connection: Redis | Cluster): Promise<void> {
  if (connection.status === 'ready') {
    await connection.quit().catch(() => connection.disconnect());
  } else {
    connection.disconnect();
  }
}

/** The Redis store also lends its command connection to others that count in Redis (rate limits). */
export type RedisEphemeralStore = EphemeralStore & { readonly redis: Redis | Cluster };

export function createRedisStore(opts: RedisStoreOptions = {}): RedisEphemeralStore {
  const prefix = opts.prefix ?? 'saoma:';
  const onListenerError = opts.onListenerError ?? ((error: unknown, channel: string) => console.error(`[saoma] listener on "${channel}" threw`, error));
  // Connection names show up in CLIENT LIST; Redis does not allow spaces in them.
  const connectionName = (role: string) => `${prefix}${role}`.replace(/\s/g, '_');
  const onConnectionError =
    opts.onConnectionError ?? ((error: Error, connection: string) => console.error(`[saoma] Redis ${connection} connection: ${error.message}`));
  // Per role, not per connection: a Cluster store's subscriber may be replaced mid-outage.
  const reported = { cmd: false, sub: false };
  function watch<C extends Redis | Cluster>(connection: C, role: 'cmd' | 'sub'): C {
    connection.on('ready', () => (reported[role] = false));
    connection.on('error', (error: Error) => {
      if (!reported[role]) onConnectionError(error, role);
      reported[role] = true;
    });
    return connection;
  }

  const ownsClient = !opts.client;
  const settings: RedisConnectionSettings = opts.connection ?? { mode: 'single', url: opts.url ?? 'redis://127.0.0.1:6379' };
  const client: Redis | Cluster =
    opts.client ?? watch(createRedisConnection(settings, { ...CONNECTION_DEFAULTS, connectionName: connectionName('cmd') }), 'cmd');
  // In a cluster each command may only touch keys of one hash slot, and the store's keys are
  // spread over all slots (no hash tags: that would put everything on one node). The Lua script
  // and sadd's MULTI touch one key; mget and del go key by key (auto-pipelining batches them).
  const cluster = !opts.client && settings.mode === 'cluster' ? (client as Cluster) : null;
  // ioredis' Cluster queues commands without limit while it reconnects (commandTimeout only
  // starts once a node has the command), so a request would hang for the whole outage. Bound
  // the wait as CONNECTION_DEFAULTS does for one server; ETIMEDOUT marks it as "unavailable"
  // for the HTTP error mapping (http/outage.ts → 503).
  function bounded<T>(reply: Promise<T>): Promise<T> {
    if (!cluster) return reply;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`Redis Cluster did not answer within ${CONNECTION_DEFAULTS.commandTimeout} ms`);
        reject(Object.assign(error, { code: 'ETIMEDOUT' }));
      }, CONNECTION_DEFAULTS.commandTimeout);
    });
    return Promise.race([reply, timeout]).finally(() => clearTimeout(timer));
  }
  client.defineCommand('saomaCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET_LUA });
  const scripts = client as unknown as WithCompareAndSet;

  const k = (key: string) => prefix + key;
  let closed = false;
  function live(): void {
    if (closed) throw new Error('ephemeral store is closed');
  }

  // Pub/sub: one subscriber connection for all listeners (a connection per listener would
  // exhaust Redis' connection limit with many browsers waiting on QR codes).
  let subscriber: Redis | undefined;
  const channels = new Map<string, Channel>(); // by prefixed channel name

  function onMessage(channel: string, message: string): void {
    const entry = channels.get(channel);
    if (!entry || closed) return;
    for (const sub of [...entry.listeners]) {
      try {
        sub.listener(message);
      } catch (error) {
        // Thrown inside ioredis' reply parser it would break the connection; isolate it.
        onListenerError(error, channel.slice(prefix.length));
      }
    }
  }

  // onResubscribed: every 'ready' of a subscriber connection after the first one of the store
  // means the subscriptions were lost for a while (a reconnect, or a Cluster subscriber moved).
  const resubscribed = new Set<{ callback: () => void }>();
  let subscriberWasReady = false;
  function setUpSubscriber(connection: Redis): Redis {
    watch(connection, 'sub').on('message', onMessage);
    connection.on('ready', () => {
      if (!subscriberWasReady) {
        subscriberWasReady = true;
        return;
      }
      // ioredis re-subscribes by itself; this SUBSCRIBE (idempotent) says when that is done.
      const names = [...channels.keys()];
      (names.length ? connection.subscribe(...names) : Promise.resolve()).then(
        () => {
          if (closed) return;
          for (const { callback } of [...resubscribed]) {
            try {
              callback();
            } catch (error) {
              onListenerError(error, '(resubscribed)');
            }
          }
        },
        () => undefined, // lost again: the next 'ready' tells
      );
    });
    return connection;
  }

  function subscriberConnection(): Redis {
    if (!subscriber) {
      // duplicate() keeps the command connection's options (auth, TLS, db, sentinels); ioredis
      // re-subscribes every channel after a reconnect (autoResubscribe).
      subscriber = setUpSubscriber((client as Redis).duplicate({ connectionName: connectionName('sub') }));
    }
    return subscriber;
  }

  // Cluster: a connection to one node that moves when that node goes (cluster-subscriber.ts).
  const clusterSubscriber =
    cluster && settings.mode === 'cluster'
      ? createClusterSubscriber({
          cluster,
          seeds: settings.nodes,
          connectionName: connectionName('sub'),
          channels: () => [...channels.keys()],
          setup: setUpSubscriber,
          deadlineMs: CONNECTION_DEFAULTS.commandTimeout,
        })
      : null;
  const subscribeOn = (name: string): Promise<unknown> => (clusterSubscriber ? clusterSubscriber.subscribe(name) : subscriberConnection().subscribe(name));

  return {
    kind: 'redis',
    redis: client,

    async get(key) {
      live();
      return bounded(client.get(k(key)));
    },

    async mget(keys) {
      live();
      if (keys.length === 0) return []; // MGET without keys is a syntax error
      if (cluster) return bounded(Promise.all(keys.map((key) => client.get(k(key)))));
      return client.mget(keys.map(k));
    },

    async set(key, value, ttlMs) {
      live();
      await bounded(client.set(k(key), value, 'PX', checkTtl(ttlMs)));
    },

    async setIfAbsent(key, value, ttlMs) {
      live();
      return (await bounded(client.set(k(key), value, 'PX', checkTtl(ttlMs), 'NX'))) === 'OK';
    },

    async compareAndSet(key, expected, next, ttlMs) {
      live();
      if (expected === null && ttlMs === undefined) {
        throw new TypeError('compareAndSet: creating a key (expected = null) needs a ttlMs');
      }
      const ttl = ttlMs === undefined ? '' : String(checkTtl(ttlMs));
      const mustBeMissing = expected === null ? '1' : '0';
      return (await bounded(scripts.saomaCompareAndSet(k(key), mustBeMissing, expected ?? '', next, ttl))) === 1;
    },

    async del(...keys) {
      live();
      if (keys.length === 0) return 0;
      if (cluster) return (await bounded(Promise.all(keys.map((key) => client.del(k(key)))))).reduce((a, b) => a + b, 0);
      return client.del(...keys.map(k));
    },

    async ttl(key) {
      live();
      const ms = await bounded(client.pttl(k(key)));
      if (ms === -2) return null; // missing
      // -1 = no expiry; this API never creates such keys, but report it honestly if one exists.
      return ms === -1 ? Number.POSITIVE_INFINITY : ms;
    },

    async sadd(key, member, ttlMs) {
      live();
      const ttl = checkTtl(ttlMs);
      // MULTI so the set never exists without a TTL (it would outlive what it indexes).
      const results = await bounded(client.multi().sadd(k(key), member).pexpire(k(key), ttl).exec());
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('sadd transaction aborted');
    },

    async smembers(key) {
      live();
      return bounded(client.smembers(k(key)));
    },

    async publish(channel, message) {
      live();
      await bounded(client.publish(k(channel), message));
    },

    async subscribe(channel, listener) {
      live();
      const name = k(channel);
      let entry = channels.get(name);
      if (!entry) {
        // First listener of this channel: SUBSCRIBE; later ones share the same acknowledgement.
        const created: Channel = {
          listeners: new Set(),
          subscribed: bounded(subscribeOn(name)).then(
            () => undefined,
            (error: unknown) => {
              if (channels.get(name) === created) channels.delete(name);
              throw error;
            },
          ),
        };
        channels.set(name, (entry = created));
      }
      const sub = { listener };
      entry.listeners.add(sub);
      const joined = entry;
      try {
        await joined.subscribed;
      } catch (error) {
        joined.listeners.delete(sub);
        throw error;
      }

      let removed = false;
      return async () => {
        if (removed) return;
        removed = true;
        joined.listeners.delete(sub);
        if (joined.listeners.size > 0 || channels.get(name) !== joined) return;
        // Last listener: UNSUBSCRIBE. A subscribe() racing with this queues its SUBSCRIBE after
        // it on the same connection, so Redis ends up subscribed.
        channels.delete(name);
        if (closed) return;
        // If Redis is unreachable the channel stays subscribed server-side; its messages are
        // dropped here (no listeners), so the cleanup caller need not handle an error.
        if (clusterSubscriber) await bounded(clusterSubscriber.unsubscribe(name)).catch(() => undefined);
        else if (subscriber) await subscriber.unsubscribe(name).catch(() => undefined);
      };
    },

    onResubscribed(callback) {
      const entry = { callback };
      resubscribed.add(entry);
      return () => void resubscribed.delete(entry);
    },

    async ping() {
      if (closed) return false;
      // PING would queue while Redis is down; health checks want an answer within ~1 s.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1_000);
      });
      const pong = client.ping().then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([pong, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      channels.clear();
      await Promise.all([subscriber ? shutdown(subscriber) : undefined, clusterSubscriber?.close(), ownsClient ? shutdown(client) : undefined]);
    },
  };
}
