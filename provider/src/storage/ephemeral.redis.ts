/**
 * Redis-backed ephemeral store (ioredis): shared by every provider instance using the same
 * Redis and prefix. Contract: provider/src/storage/ephemeral.ts.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { EphemeralStore } from './ephemeral.js';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL; defaults to redis://127.0.0.1:6379. Ignored when `client` is given. */
  url?: string;
  /** An existing connection to use for commands. Its options apply as they are, and close() leaves it open. */
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
} satisfies RedisOptions;

/** ioredis options from a redis:// or rediss:// URL (ioredis' own parser does not turn on TLS). */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const u = new URL(url);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`unsupported Redis URL scheme "${u.protocol}" (use redis:// or rediss://)`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'; // IPv6 literals come bracketed
  const options: RedisOptions = { host, port: u.port ? Number(u.port) : 6379 };
  if (u.username) options.username = decodeURIComponent(u.username);
  if (u.password) options.password = decodeURIComponent(u.password);
  const db = u.pathname.replace(/^\//, '');
  if (db) {
    if (!/^\d+$/.test(db)) throw new Error(`invalid Redis database "${db}" in URL`);
    options.db = Number(db);
  }
  if (u.protocol === 'rediss:') options.tls = { servername: host };
  return options;
}

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
async function shutdown(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    await connection.quit().catch(() => connection.disconnect());
  } else {
    connection.disconnect();
  }
}

/** The Redis store also lends its command connection to others that count in Redis (rate limits). */
export type RedisEphemeralStore = EphemeralStore & { readonly redis: Redis };

export function createRedisStore(opts: RedisStoreOptions = {}): RedisEphemeralStore {
  const prefix = opts.prefix ?? 'saoma:';
  const onListenerError =
    opts.onListenerError ??
    ((error: unknown, channel: string) => console.error(`[saoma] listener on "${channel}" threw`, error));
  // Connection names show up in CLIENT LIST; Redis does not allow spaces in them.
  const connectionName = (role: string) => `${prefix}${role}`.replace(/\s/g, '_');
  const onConnectionError =
    opts.onConnectionError ??
    ((error: Error, connection: string) => console.error(`[saoma] Redis ${connection} connection: ${error.message}`));
  function watch(connection: Redis, role: 'cmd' | 'sub'): Redis {
    let reported = false;
    connection.on('ready', () => (reported = false));
    connection.on('error', (error: Error) => {
      if (!reported) onConnectionError(error, role);
      reported = true;
    });
    return connection;
  }

  const ownsClient = !opts.client;
  const client =
    opts.client ??
    watch(
      new Redis({
        ...redisOptionsFromUrl(opts.url ?? 'redis://127.0.0.1:6379'),
        ...CONNECTION_DEFAULTS,
        connectionName: connectionName('cmd'),
      }),
      'cmd',
    );
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

  function subscriberConnection(): Redis {
    if (!subscriber) {
      // duplicate() keeps the command connection's options (auth, TLS, db); ioredis
      // re-subscribes every channel after a reconnect (autoResubscribe).
      subscriber = watch(client.duplicate({ connectionName: connectionName('sub') }), 'sub');
      subscriber.on('message', (channel: string, message: string) => {
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
      });
    }
    return subscriber;
  }

  return {
    kind: 'redis',
    redis: client,

    async get(key) {
      live();
      return client.get(k(key));
    },

    async mget(keys) {
      live();
      if (keys.length === 0) return []; // MGET without keys is a syntax error
      return client.mget(keys.map(k));
    },

    async set(key, value, ttlMs) {
      live();
      await client.set(k(key), value, 'PX', checkTtl(ttlMs));
    },

    async setIfAbsent(key, value, ttlMs) {
      live();
      return (await client.set(k(key), value, 'PX', checkTtl(ttlMs), 'NX')) === 'OK';
    },

    async compareAndSet(key, expected, next, ttlMs) {
      live();
      if (expected === null && ttlMs === undefined) {
        throw new TypeError('compareAndSet: creating a key (expected = null) needs a ttlMs');
      }
      const ttl = ttlMs === undefined ? '' : String(checkTtl(ttlMs));
      const mustBeMissing = expected === null ? '1' : '0';
      return (await scripts.saomaCompareAndSet(k(key), mustBeMissing, expected ?? '', next, ttl)) === 1;
    },

    async del(...keys) {
      live();
      if (keys.length === 0) return 0;
      return client.del(...keys.map(k));
    },

    async ttl(key) {
      live();
      const ms = await client.pttl(k(key));
      if (ms === -2) return null; // missing
      // -1 = no expiry; this API never creates such keys, but report it honestly if one exists.
      return ms === -1 ? Number.POSITIVE_INFINITY : ms;
    },

    async sadd(key, member, ttlMs) {
      live();
      const ttl = checkTtl(ttlMs);
      // MULTI so the set never exists without a TTL (it would outlive what it indexes).
      const results = await client.multi().sadd(k(key), member).pexpire(k(key), ttl).exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('sadd transaction aborted');
    },

    async smembers(key) {
      live();
      return client.smembers(k(key));
    },

    async publish(channel, message) {
      live();
      await client.publish(k(channel), message);
    },

    async subscribe(channel, listener) {
      live();
      const name = k(channel);
      let entry = channels.get(name);
      if (!entry) {
        // First listener of this channel: SUBSCRIBE; later ones share the same acknowledgement.
        const created: Channel = {
          listeners: new Set(),
          subscribed: subscriberConnection()
            .subscribe(name)
            .then(
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
        if (closed || !subscriber) return;
        // If Redis is unreachable the channel stays subscribed server-side; its messages are
        // dropped here (no listeners), so the cleanup caller need not handle an error.
        await subscriber.unsubscribe(name).catch(() => undefined);
      };
    },

    async ping() {
      if (closed) return false;
      // PING would queue while Redis is down; health checks want an answer within ~1 s.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1_000);
      });
      const pong = client.ping().then(
        (reply) => reply === 'PONG',
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
      await Promise.all([
        subscriber ? shutdown(subscriber) : undefined,
        ownsClient ? shutdown(client) : undefined,
      ]);
    },
  };
}
