/**
 * How the provider reaches Redis: one server (REDIS_URL), a master found through Sentinel
 * (REDIS_SENTINELS) or a Redis Cluster (REDIS_CLUSTER_NODES). config.ts parses the settings with
 * these helpers and the store opens its connections with `createRedisConnection`, so both agree.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

export interface HostPort {
  host: string;
  port: number;
}

export type RedisConnectionSettings =
  /** One server (or a proxy in front of several): everything comes from the URL. */
  | { mode: 'single'; url: string }
  /**
   * The master of Sentinel group `name`. `url`, when given, supplies username, password, db and
   * TLS (rediss:// = TLS to the sentinels and the data nodes); its host is not used.
   */
  | { mode: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string; url?: string }
  /** A Redis Cluster found from these seed nodes. `url` as for Sentinel (its db must be 0). */
  | { mode: 'cluster'; nodes: HostPort[]; url?: string };

export const DEFAULT_SENTINEL_PORT = 26379;
export const DEFAULT_REDIS_PORT = 6379;

/**
 * "host:port,host:port" → list. The port may be left out (→ `defaultPort`); IPv6 addresses are
 * bracketed ("[::1]:26379"). Empty entries (a trailing comma) are ignored; anything else that
 * is not host[:port] throws, naming the entry.
 */
export function parseHostPortList(list: string, defaultPort: number): HostPort[] {
  const entries = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('expected a comma-separated list of host:port');
  return entries.map((entry) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+))(?::(\d{1,5}))?$/.exec(entry);
    const port = m?.[3] === undefined ? defaultPort : Number(m[3]);
    if (!m || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port (e.g. 10.0.0.5:${defaultPort})`);
    return { host: m[1] || m[2], port }; // the group that did not take part is undefined (the types say string)
  });
}

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

/** What a URL says about the data nodes besides where they are: credentials, db, TLS. */
function credentialsFromUrl(url: string | undefined): { username?: string; password?: string; db?: number; tls: boolean } {
  if (!url) return { tls: false };
  const { username, password, db, tls } = redisOptionsFromUrl(url);
  return { username, password, db, tls: !!tls };
}

/**
 * Options that only apply to the connections the store creates (CONNECTION_DEFAULTS in
 * ephemeral.redis.ts plus a connection name).
 */
export type ConnectionOptions = Pick<
  RedisOptions,
  'maxRetriesPerRequest' | 'enableOfflineQueue' | 'connectTimeout' | 'commandTimeout' | 'retryStrategy' | 'enableAutoPipelining' | 'connectionName'
>;

/** Opens a command connection: `Redis` for one server or Sentinel, `Cluster` for a cluster. */
export function createRedisConnection(settings: RedisConnectionSettings, options: ConnectionOptions): Redis | Cluster {
  if (settings.mode === 'single') return new Redis({ ...redisOptionsFromUrl(settings.url), ...options });

  const { username, password, db, tls } = credentialsFromUrl(settings.url);
  const auth = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  if (settings.mode === 'sentinel') {
    return new Redis({
      sentinels: settings.sentinels,
      name: settings.name,
      ...(settings.sentinelPassword ? { sentinelPassword: settings.sentinelPassword } : {}),
      ...auth,
      ...(db ? { db } : {}),
      // The master's address comes from the sentinels, so Node names the TLS server after it.
      ...(tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      ...options,
    });
  }

  if (db) throw new Error('Redis Cluster has only database 0 (remove the /db from REDIS_URL)');
  // Cluster-wide settings and per-node ones are separate; the node connections must not retry
  // on their own (the cluster reroutes and reconnects), so retryStrategy moves up a level.
  const { retryStrategy, enableOfflineQueue, enableAutoPipelining, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    clusterRetryStrategy: retryStrategy,
    enableOfflineQueue,
    enableAutoPipelining,
    redisOptions: { ...auth, ...perNode, ...(tls ? { tls: {} } : {}) },
    // With TLS, connect by the name the node announces so the certificate check matches it
    // (ioredis' advice for managed clusters such as ElastiCache).
    ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
  };
  return new Cluster(settings.nodes, clusterOptions);
}
