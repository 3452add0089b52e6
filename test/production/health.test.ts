/**
 * Liveness and readiness (provider/src/http/health.ts): /healthz is 200 whenever the process
 * serves; /readyz is 200 only while PostgreSQL/PGlite and Redis/memory answer and every shipped
 * migration is applied, 503 naming what is wrong otherwise. Outages here are real: a database
 * dropped under the provider, Redis reached through a TCP relay that the test cuts.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../provider/src/storage/database.js';
import { readMigrations } from '../../provider/src/storage/migrate.js';
import { cleanupsAfterEach, startTestProvider, type TestProvider } from '../support/harness.js';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL, skipUnlessPostgres, skipUnlessRedis, until } from '../support/services.js';

const SHIPPED = readMigrations().map((m) => m.name);
const skipServices = (await skipUnlessPostgres()) || (await skipUnlessRedis());

async function probe(p: TestProvider, path: '/healthz' | '/readyz') {
  const res = await fetch(`${p.issuer}${path}`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Record<string, any> };
}

/** A TCP relay to Redis that can be cut (listener closed, connections reset) and restored on the same port. */
async function redisRelay() {
  const target = new URL(REDIS_URL);
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 6379), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject).listen(port, '127.0.0.1', () => resolve());
    });
  await open();
  return {
    url: `redis://127.0.0.1:${port}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: open,
    async close() {
      await this.cut().catch(() => {});
    },
  };
}

const cleanups = cleanupsAfterEach();

describe('embedded default (PGlite + memory store)', () => {
  it('/healthz is 200 with the store kinds; /readyz is 200 with every check and all shipped migrations applied', async () => {
    const p = await startTestProvider('embedded');
    cleanups.push(() => p.close());
    const live = await probe(p, '/healthz');
    expect(live).toMatchObject({ status: 200, cache: 'no-store', body: { status: 'ok', database: 'pglite', store: 'memory' } });
    const ready = await probe(p, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: {
        database: { ok: true, kind: 'pglite' },
        store: { ok: true, kind: 'memory' },
        migrations: { ok: true, applied: SHIPPED.length, expected: SHIPPED.length },
      },
    });
    expect(SHIPPED.length).toBeGreaterThan(0);
  });
});

describe.skipIf(skipServices)('PostgreSQL + Redis', () => {
  it('a dropped database: /readyz 503 naming the database, /healthz still 200', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const prefix = `saoma-test:readyz-db-${Date.now()}:`;
    cleanups.push(() => deleteRedisPrefix(prefix));
    const p = await startTestProvider('embedded', { DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix });
    cleanups.push(() => p.close());
    expect((await probe(p, '/readyz')).body).toMatchObject({ status: 'ready', checks: { database: { kind: 'postgres' }, store: { kind: 'redis' } } });

    await db.drop(); // WITH (FORCE): the provider's connections are ended too
    let ready = await probe(p, '/readyz');
    await until('readyz to notice', async () => (ready = await probe(p, '/readyz')).status === 503, 10_000);
    expect(ready.body).toMatchObject({
      status: 'not_ready',
      reason: expect.stringContaining('database unreachable'),
      checks: { database: { ok: false, kind: 'postgres' }, store: { ok: true }, migrations: { ok: false } },
    });
    expect(JSON.stringify(ready.body)).not.toMatch(/saoma_test_|ECONN|postgresql:\/\//); // no internals in a public answer
    expect((await probe(p, '/healthz')).status).toBe(200);
  });

  it('Redis unreachable: /readyz 503 naming the store, and 200 again once it is back', async () => {
    const relay = await redisRelay();
    cleanups.push(() => relay.close());
    const prefix = `saoma-test:readyz-redis-${Date.now()}:`;
    cleanups.push(() => deleteRedisPrefix(prefix));
    const p = await startTestProvider('embedded', { REDIS_URL: relay.url, REDIS_PREFIX: prefix });
    cleanups.push(() => p.close());
    expect((await probe(p, '/readyz')).status).toBe(200);

    await relay.cut();
    let ready = await probe(p, '/readyz');
    await until('readyz to notice', async () => (ready = await probe(p, '/readyz')).status === 503, 10_000);
    expect(ready.body).toMatchObject({
      status: 'not_ready',
      reason: 'store unreachable',
      checks: { store: { ok: false, kind: 'redis' }, database: { ok: true } },
    });
    const started = Date.now();
    await probe(p, '/readyz');
    expect(Date.now() - started, 'a probe answers within its own timeout, not Redis reconnect delays').toBeLessThan(3_000);
    expect((await probe(p, '/healthz')).status).toBe(200);

    await relay.restore();
    await until('readyz to recover', async () => (await probe(p, '/readyz')).status === 200, 20_000);
  });

  it("migrations not applied (MIGRATE_ON_START=0): 503 listing them; 200 once applied; a newer release's extra migration keeps it ready", async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const p = await startTestProvider('embedded', { DATABASE_URL: db.url, MIGRATE_ON_START: '0' });
    cleanups.push(() => p.close());
    const pending = await probe(p, '/readyz');
    expect(pending.status).toBe(503);
    expect(pending.body).toMatchObject({
      status: 'not_ready',
      reason: `migrations pending: ${SHIPPED.join(', ')}`,
      checks: { database: { ok: true }, migrations: { ok: false, applied: 0, expected: SHIPPED.length } },
    });

    // What an operator does before a rolling upgrade: migrate first (here, the same migrator in-process).
    const migrator = await openDatabase({ databaseUrl: db.url, dataDir: p.dataDir, migrate: true });
    try {
      await until('readyz after migrating', async () => (await probe(p, '/readyz')).status === 200, 5_000);
      await migrator.prisma.$executeRawUnsafe(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count) VALUES ('x', 'x', '99991231000000_from_a_newer_release', now(), 1)`,
      );
    } finally {
      await migrator.close();
    }
    expect(await probe(p, '/readyz')).toMatchObject({ status: 200, body: { checks: { migrations: { ok: true, applied: SHIPPED.length } } } });
  });
});
