import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nanoid } from 'nanoid';
import { loadConfig } from '../../provider/src/config.js';
import { createLogger } from '../../provider/src/log.js';
import type { Clock } from '../../provider/src/login/clock.js';
import { startProvider, type RunningProvider } from '../../provider/src/main.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL } from './services.js';

export type StorageKind = 'services' | 'embedded';

/** Limits all tests trip together (one address, shared apps and phones); per-username and admin sign-in limits keep their defaults, which tests check. */
const HIGH_PER_ADDRESS = [
  'RATE_LIMIT_PHONE_REGISTER',
  'RATE_LIMIT_PHONE_LOGIN_IP',
  'RATE_LIMIT_QR_CREATE',
  'RATE_LIMIT_TOKEN_IP',
  'RATE_LIMIT_SCANS',
  'RATE_LIMIT_CLIENT_AUTH',
  'RATE_LIMIT_CLIENT_AUTH_APP',
  'RATE_LIMIT_WECHAT',
];

export interface TestProvider extends RunningProvider {
  issuer: string;
  kind: StorageKind;
  redisPrefix?: string;
  dataDir: string;
}

/**
 * Starts a real provider on a free port. `services`: a fresh PostgreSQL database and a unique
 * Redis prefix (the real production stores); `embedded`: PGlite on disk and the in-memory
 * store (the zero-setup default). Everything is removed on close.
 */
export async function startTestProvider(kind: StorageKind, env: Record<string, string> = {}, opts: { clock?: Clock } = {}): Promise<TestProvider> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-test-'));
  const db = kind === 'services' ? await createTestDatabase() : null;
  const redisPrefix = kind === 'services' ? `saoma-test:${nanoid(8)}:` : undefined;
  // Port 0 → the OS picks; the issuer must name the real port, so bind first via a probe.
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(db ? { DATABASE_URL: db.url } : {}),
    ...(redisPrefix ? { REDIS_URL, REDIS_PREFIX: redisPrefix } : {}),
    // Every test talks from 127.0.0.1: limits stay on (the code path runs) but out of the way.
    ...Object.fromEntries(HIGH_PER_ADDRESS.map((name) => [name, '100000/60'])),
    ...env,
  });
  const running = await startProvider(config, createLogger(config.LOG_LEVEL), { clock: opts.clock });
  return {
    ...running,
    issuer: config.issuer,
    kind,
    redisPrefix,
    dataDir,
    async close() {
      await running.close();
      await db?.drop();
      if (redisPrefix) await deleteRedisPrefix(redisPrefix);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The provider of a describe block (or a file): started before its tests, closed after them.
 * Returns a stand-in that forwards to the running provider, so tests read `p.issuer`,
 * `p.saoma` as usual; touching it outside tests and hooks is a mistake, and says so.
 */
export function useProvider(kind: StorageKind, env: Record<string, string> = {}, opts: { clock?: Clock } = {}): TestProvider {
  let current: TestProvider | undefined;
  beforeAll(async () => {
    current = await startTestProvider(kind, env, opts);
  });
  afterAll(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as TestProvider, {
    get(_target, prop) {
      if (!current) throw new Error(`the test provider starts in beforeAll: read .${String(prop)} inside a test or a hook`);
      const value: unknown = Reflect.get(current, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/**
 * Undo steps for what a test starts itself (`cleanups.push(() => p.close())`): run after each
 * test, and after the file, last first, passed or failed; a step that fails does not stop the rest.
 */
export function cleanupsAfterEach(): { push(step: () => unknown): void } {
  const steps: (() => unknown)[] = [];
  const run = async () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // already gone
      }
    }
  };
  afterEach(run);
  afterAll(run);
  return { push: (step) => void steps.push(step) };
}

/**
 * For afterAll: closes, in order, what beforeAll started. A beforeAll that failed or returned
 * early (a skipped block) leaves its variables unassigned, whatever their types say.
 */
export async function closeStarted(...started: Array<{ close(): unknown } | undefined>): Promise<void> {
  for (const thing of started) await thing?.close();
}
