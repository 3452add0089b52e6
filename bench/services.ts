/**
 * The bench's own PostgreSQL database and Redis namespace (created fresh, removed at the end),
 * and the Redis-side numbers: commands processed, the provider's connections and subscriptions.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { redisOptionsFromUrl } from '../provider/src/storage/ephemeral.redis.js';

export const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function withPg<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh empty database `saoma_bench_<random>`; `drop()` removes it (and ends its sessions). */
export async function createBenchDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `saoma_bench_${randomBytes(5).toString('hex')}`;
  await withPg((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => withPg((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) };
}

export interface RedisProbe {
  prefix: string;
  /** INFO stats total_commands_processed (every client's, this one's included). */
  totalCommands(): Promise<number>;
  /** redis-server's pid (INFO server), to read its CPU from /proc. */
  pid(): Promise<number>;
  /** The provider's connections by name, and how many channels its subscriber holds. */
  connections(): Promise<{ cmd: number; sub: number; subscriptions: number; channels: number }>;
  /** Deletes every key under the prefix. */
  clean(): Promise<void>;
  close(): void;
}

export function redisProbe(prefix = `saoma-bench:${randomBytes(4).toString('hex')}:`): RedisProbe {
  const redis = new Redis({ ...redisOptionsFromUrl(REDIS_URL), maxRetriesPerRequest: 2 });
  return {
    prefix,
    async totalCommands() {
      const info = await redis.info('stats');
      return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
    },
    async pid() {
      return Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1] ?? 0);
    },
    async connections() {
      const list = (await redis.client('LIST')) as string;
      let cmd = 0;
      let sub = 0;
      let subscriptions = 0;
      for (const line of list.split('\n')) {
        const name = / name=(\S*)/.exec(line)?.[1];
        if (name === `${prefix}cmd`) cmd++;
        if (name === `${prefix}sub`) {
          sub++;
          subscriptions += Number(/ sub=(\d+)/.exec(line)?.[1] ?? 0);
        }
      }
      const channels = ((await redis.pubsub('CHANNELS', `${prefix}*`)) as string[]).length;
      return { cmd, sub, subscriptions, channels };
    },
    async clean() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
    close: () => redis.disconnect(),
  };
}
