/**
 * Two provider instances as an operator runs them behind a load balancer: one PostgreSQL
 * database, one Redis with one prefix, the same keys (JWKS, cookie keys, identifier secret)
 * from configuration, the same public issuer URL, and each its own port and DATA_DIR (its own
 * admin socket). Nothing else is shared: each has its own connections, caches and timers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nanoid } from 'nanoid';
import { loadConfig } from '../../provider/src/config.js';
import { createLogger } from '../../provider/src/log.js';
import { startProvider, type RunningProvider } from '../../provider/src/main.js';
import { generateKeyMaterial } from '../../provider/src/oidc/keys.js';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL } from '../support/services.js';

/** The one public URL both instances claim; nothing listens there, the tests route each request. */
export const ISSUER = 'http://login.saoma.test';

export interface Instance {
  name: 'A' | 'B';
  port: number;
  dataDir: string;
  running: RunningProvider;
}

export interface Pair {
  issuer: URL;
  a: Instance;
  b: Instance;
  close(): Promise<void>;
}

export async function startTwoInstances(): Promise<Pair> {
  const db = await createTestDatabase();
  const redisPrefix = `saoma-test:${nanoid(8)}:`;
  const keys = await generateKeyMaterial();
  const shared = {
    HOST: '127.0.0.1',
    PUBLIC_URL: ISSUER,
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redisPrefix,
    JWKS: JSON.stringify(keys.jwks),
    COOKIE_KEYS: keys.cookieKeys.join(','),
    IDENTIFIER_SECRET: keys.identifierSecret,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  };
  const started: Instance[] = [];
  const start = async (name: 'A' | 'B') => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `saoma-scale-${name}-`));
    const port = await freePort();
    const config = loadConfig({ ...shared, PORT: String(port), DATA_DIR: dataDir });
    const instance = { name, port, dataDir, running: await startProvider(config, createLogger(config.LOG_LEVEL)) };
    started.push(instance);
    return instance;
  };
  const close = async () => {
    await Promise.all(started.map((i) => i.running.close()));
    await db.drop();
    await deleteRedisPrefix(redisPrefix);
    for (const i of started) fs.rmSync(i.dataDir, { recursive: true, force: true });
  };
  try {
    // One after the other: A migrates the fresh database, B finds it migrated.
    const a = await start('A');
    const b = await start('B');
    return { issuer: new URL(ISSUER), a, b, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
