/**
 * The operator entry points the container files run (provider/src/ops/): the HEALTHCHECK probe,
 * key generation for shared secrets, and "migrations first" for upgrades.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../provider/src/config.js';
import { keysEnv } from '../../provider/src/ops/generate-keys.js';
import { probe } from '../../provider/src/ops/healthcheck.js';
import { runMigrations } from '../../provider/src/ops/migrate.js';
import { readMigrations } from '../../provider/src/storage/migrate.js';
import { cleanupsAfterEach, startTestProvider } from '../support/harness.js';
import { createTestDatabase, freePort, skipUnlessPostgres } from '../support/services.js';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');
const cleanups = cleanupsAfterEach();

describe('healthcheck (the Dockerfile HEALTHCHECK)', () => {
  it('exits 0 against a serving provider (PORT/HOST as the provider reads them, 0.0.0.0 → loopback), 1 with nothing listening', async () => {
    const p = await startTestProvider('embedded');
    cleanups.push(() => p.close());
    const port = new URL(p.url).port;
    expect(await probe({ PORT: port, HOST: '0.0.0.0' })).toBe(200);
    expect(await probe({ PORT: port }, '/readyz')).toBe(200);
    expect(await probe({ PORT: port }, '/no-such-path')).toBe(404);

    const ok = await run(TSX, ['provider/src/ops/healthcheck.ts', '/healthz'], { env: { ...process.env, PORT: port, HOST: '127.0.0.1' } });
    expect(ok.stderr).toBe('');
    const dead = String(await freePort());
    await expect(run(TSX, ['provider/src/ops/healthcheck.ts'], { env: { ...process.env, PORT: dead, HOST: '127.0.0.1' } })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('healthcheck: no answer'),
    });
  }, 90_000); // two tsx processes and a provider: slow on a loaded 2-core box
});

describe('generate-keys', () => {
  it('prints KEY=value lines compose and kubectl read literally, which a provider accepts and signs with', async () => {
    const text = await keysEnv();
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(Object.keys(env).sort()).toEqual(['COOKIE_KEYS', 'IDENTIFIER_SECRET', 'JWKS']);
    for (const value of Object.values(env)) expect(value).toMatch(/^[^\s'$#]+$/); // nothing to quote or interpolate
    expect(() => loadConfig(env)).not.toThrow();

    const p = await startTestProvider('embedded', env);
    cleanups.push(() => p.close());
    const published = (await (await fetch(`${p.issuer}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
    const kids = (JSON.parse(env.JWKS) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(published.keys.map((k) => k.kid).sort()).toEqual(kids.sort());
    expect(published.keys.every((k) => k.d === undefined)).toBe(true); // public halves only
    expect((await keysEnv()) === text, 'fresh material each time').toBe(false);
  }, 60_000);
});

describe.skipIf(await skipUnlessPostgres())('migrate (migrations first)', () => {
  it('applies every shipped migration to an empty PostgreSQL database, then finds none pending', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const config = loadConfig({ DATABASE_URL: db.url, DATA_DIR: '/nonexistent' });
    const shipped = readMigrations().map((m) => m.name);
    expect(await runMigrations(config)).toEqual({ applied: shipped, total: shipped.length });
    expect(await runMigrations(config)).toEqual({ applied: [], total: shipped.length });
  });

  it('says why and exits 1 when the database cannot be reached', async () => {
    const url = `postgresql://postgres@127.0.0.1:${await freePort()}/nothing`;
    await expect(run(TSX, ['provider/src/ops/migrate.ts'], { env: { ...process.env, DATABASE_URL: url } })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^migrations failed: .*ECONNREFUSED/),
    });
  }, 60_000);
});
