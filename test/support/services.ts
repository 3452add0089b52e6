/**
 * Which external services the integration tests may use, and what to do when one is down.
 * Locally a missing service skips its tests (with a warning); in CI, or with
 * REQUIRE_SERVICES=1, a missing service fails the run so nothing is silently untested.
 */
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '../../provider/src/storage/ephemeral.redis.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export const requireServices: boolean = process.env.REQUIRE_SERVICES === '1' || process.env.CI === 'true';

/**
 * What every `skipUnless…` returns when its `problem` stands: true (skip these tests, with a
 * warning) locally; under REQUIRE_SERVICES=1 or CI=true it throws, so the run fails.
 */
export function skipOrFail(tests: string, problem: string): true {
  if (requireServices) throw new Error(`${problem}; required for the ${tests} tests (REQUIRE_SERVICES=1 or CI=true)`);
  console.warn(`[tests] SKIPPING ${tests} tests: ${problem}. Set REQUIRE_SERVICES=1 to fail instead.`);
  return true;
}

/** True when an executable of this name is in a directory on PATH. */
export const onPath = (bin: string): boolean => !!process.env.PATH?.split(':').some((d) => fs.existsSync(path.join(d, bin)));

/** Polls `check` every 100 ms until it resolves true (a throw counts as not yet); throws after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const REDIS_URL: string = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** True when Redis answers PING within ~1 s. */
export async function redisAvailable(): Promise<boolean> {
  const redis = new Redis({
    ...redisOptionsFromUrl(REDIS_URL),
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one attempt only
  });
  redis.on('error', () => {}); // a down service is an answer here, not noise
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * For `describe.skipIf(await skipUnlessRedis())`: true (skip) when Redis is down and not
 * required; throws when it is required and down, so CI fails loudly.
 */
export async function skipUnlessRedis(): Promise<boolean> {
  if (await redisAvailable()) return false;
  return skipOrFail('Redis', `Redis at ${redact(REDIS_URL)} (TEST_REDIS_URL) is not reachable`);
}

// ---- PostgreSQL ----------------------------------------------------------------------------

/** A database the tests connect to only to CREATE/DROP their own `saoma_test_*` databases. */
export const PG_ADMIN_URL: string = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

async function withPgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  c.on('error', () => {}); // a dropped connection surfaces through the query promise
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** True when PostgreSQL answers `SELECT 1` within ~2 s. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await withPgAdmin((c) => c.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** true to skip when down and not required; THROWS when REQUIRE_SERVICES=1 (or CI=true) and down */
export async function skipUnlessPostgres(): Promise<boolean> {
  if (await postgresAvailable()) return false;
  return skipOrFail('PostgreSQL', `PostgreSQL at ${redact(PG_ADMIN_URL)} (TEST_DATABASE_URL) is not reachable`);
}

/** Creates a fresh empty database, returns its URL and a drop() */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `saoma_test_${randomBytes(6).toString('hex')}`;
  await withPgAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // WITH (FORCE) (PostgreSQL 13+) ends sessions a test left open, so the drop cannot fail on them.
    drop: async () => {
      await withPgAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

// ── Helpers shared by every suite that starts servers ────────────────────────────────────────

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Removes every key under a test's Redis prefix (SCAN, never KEYS: the shared Redis stays responsive). */
export async function deleteRedisPrefix(prefix: string, url: string = REDIS_URL): Promise<void> {
  const redis = new Redis({ ...redisOptionsFromUrl(url), lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
