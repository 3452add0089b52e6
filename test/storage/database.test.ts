import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from '../../provider/src/storage/generated/client.ts';
import { openDatabase, type Database } from '../../provider/src/storage/database.js';
import { MIGRATIONS_DIR, migrate, pgClientRunner, pgliteRunner, readMigrations } from '../../provider/src/storage/migrate.js';
import { createTestDatabase, skipUnlessPostgres } from '../support/services.js';

const INIT = '20261123000000_init';
/** Every migration in the repo, in order (init first). */
const ALL = readMigrations().map((m) => m.name);
const initChecksum = createHash('sha256')
  .update(fs.readFileSync(path.join(MIGRATIONS_DIR, INIT, 'migration.sql')))
  .digest('hex');

const user = (id: string, username = id) => ({ id, username, passwordHash: 'x', nickname: `Nick ${id}` });

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-db-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('migrate() on PGlite', () => {
  it('applies init once; a second run applies nothing', async () => {
    const db = new PGlite();
    try {
      expect(await migrate(pgliteRunner(db))).toEqual(ALL);
      expect(await migrate(pgliteRunner(db))).toEqual([]);
      const rows = (
        await db.query<{ checksum: string; finished_at: Date | null; applied_steps_count: number }>(
          'SELECT checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
        )
      ).rows;
      expect(rows).toHaveLength(ALL.length);
      expect(rows[0].checksum).toBe(initChecksum);
      expect(rows[0].finished_at).toBeInstanceOf(Date);
      expect(rows[0].applied_steps_count).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('applies only new migrations; a failing one is rolled back and not recorded', async () => {
    const dir = tmpDir();
    fs.cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const db = new PGlite();
    try {
      expect(await migrate(pgliteRunner(db), { migrationsDir: dir })).toEqual(ALL);
      fs.mkdirSync(path.join(dir, '20261124000000_extra'));
      fs.writeFileSync(path.join(dir, '20261124000000_extra', 'migration.sql'), 'CREATE TABLE "Extra" (id TEXT PRIMARY KEY);\n');
      expect(await migrate(pgliteRunner(db), { migrationsDir: dir })).toEqual(['20261124000000_extra']);

      fs.mkdirSync(path.join(dir, '20261125000000_broken'));
      fs.writeFileSync(path.join(dir, '20261125000000_broken', 'migration.sql'), 'CREATE TABLE "Half" (id TEXT);\nSELECT * FROM "NoSuchTable";\n');
      await expect(migrate(pgliteRunner(db), { migrationsDir: dir })).rejects.toThrow(/20261125000000_broken failed.*rolled back/);
      expect((await db.query(`SELECT to_regclass('"Half"') AS t`)).rows).toEqual([{ t: null }]);
      expect((await db.query('SELECT 1 FROM _prisma_migrations')).rows).toHaveLength(ALL.length + 1);
    } finally {
      await db.close();
    }
  });

  it('refuses to run after a recorded failure; a rolled-back row counts as not applied', async () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, '0001_a'));
    fs.writeFileSync(path.join(dir, '0001_a', 'migration.sql'), 'CREATE TABLE "A" (id TEXT PRIMARY KEY);\n');
    const db = new PGlite();
    try {
      expect(await migrate(pgliteRunner(db), { migrationsDir: dir })).toEqual(['0001_a']);
      await db.query('UPDATE _prisma_migrations SET finished_at = NULL'); // as `prisma migrate deploy` leaves a failure
      await expect(migrate(pgliteRunner(db), { migrationsDir: dir })).rejects.toThrow(/0001_a failed earlier and were not rolled back/);
      // what `prisma migrate resolve --rolled-back 0001_a` does, after the operator cleaned up by hand
      await db.exec('UPDATE _prisma_migrations SET rolled_back_at = now(); DROP TABLE "A";');
      expect(await migrate(pgliteRunner(db), { migrationsDir: dir })).toEqual(['0001_a']);
      expect((await db.query('SELECT 1 FROM _prisma_migrations')).rows).toHaveLength(2);
    } finally {
      await db.close();
    }
  });
});

describe('openDatabase: PGlite in memory', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openDatabase({ dataDir: '/nonexistent', inMemory: true });
  });
  afterAll(() => db.close());

  it('is migrated and answers ping', async () => {
    expect(db.kind).toBe('pglite');
    expect(await db.ping()).toBe(true);
  });

  it('writes and reads a User', async () => {
    await db.prisma.user.create({ data: user('u1', 'alice') });
    const got = await db.prisma.user.findUnique({ where: { username: 'alice' } });
    expect(got?.nickname).toBe('Nick u1');
    expect(got?.createdAt).toBeInstanceOf(Date);
  });

  it('reports P2002 on a duplicate username', async () => {
    const err = await db.prisma.user.create({ data: user('u2', 'alice') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect((err as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
  });

  it('ping returns false once closed', async () => {
    const other = await openDatabase({ dataDir: '/nonexistent', inMemory: true, migrate: false });
    await other.close();
    expect(await other.ping()).toBe(false);
  });
});

describe('openDatabase: PGlite on disk', () => {
  it('keeps data across close/reopen', async () => {
    const dir = path.join(tmpDir(), 'data'); // created if missing
    const a = await openDatabase({ dataDir: dir });
    await a.prisma.user.create({ data: user('p1', 'persisted') });
    await a.close();
    expect(fs.existsSync(path.join(dir, 'pglite.lock'))).toBe(false);

    const b = await openDatabase({ dataDir: dir });
    try {
      expect((await b.prisma.user.findUnique({ where: { id: 'p1' } }))?.username).toBe('persisted');
      expect((await b.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM _prisma_migrations`)[0].n).toBe(ALL.length);
    } finally {
      await b.close();
    }
  });

  it('refuses a second concurrent open of the same directory', async () => {
    const dir = tmpDir();
    const a = await openDatabase({ dataDir: dir });
    try {
      expect(fs.readFileSync(path.join(dir, 'pglite.lock'), 'utf8').trim()).toBe(String(process.pid));
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(
        `the embedded database in ${dir} is in use by process ${process.pid} (is the provider running?`,
      );
      expect(await a.ping()).toBe(true); // the failed open did not disturb the holder
    } finally {
      await a.close();
    }
  });

  it('refuses when another live process holds the lock', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'pglite.lock'), `${process.ppid}\n`); // a live process that is not us
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(`in use by process ${process.ppid}`);
  });

  it('takes over a stale lock of a dead process', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'pglite.lock'), '999999\n');
    const db = await openDatabase({ dataDir: dir });
    try {
      expect(fs.readFileSync(path.join(dir, 'pglite.lock'), 'utf8').trim()).toBe(String(process.pid));
      expect(await db.ping()).toBe(true);
    } finally {
      await db.close();
    }
    expect(fs.existsSync(path.join(dir, 'pglite.lock'))).toBe(false);
  });
});

describe.skipIf(await skipUnlessPostgres())('PostgreSQL', () => {
  const drops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const d of drops.splice(0)) await d();
  });
  async function freshDb() {
    const t = await createTestDatabase();
    drops.push(() => t.drop());
    return t.url;
  }
  async function client(url: string) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  }

  it('openDatabase migrates a fresh database and Prisma works', async () => {
    const url = await freshDb();
    const db = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent' });
    try {
      expect(db.kind).toBe('postgres');
      expect(await db.ping()).toBe(true);
      await db.prisma.user.create({ data: user('pg1', 'bob') });
      expect((await db.prisma.user.findUnique({ where: { username: 'bob' } }))?.id).toBe('pg1');
      const dup = await db.prisma.user.create({ data: user('pg2', 'bob') }).catch((e: unknown) => e);
      expect((dup as Prisma.PrismaClientKnownRequestError).code).toBe('P2002');
    } finally {
      await db.close();
    }
    const c = await client(url);
    try {
      const rows = (await c.query('SELECT * FROM _prisma_migrations ORDER BY migration_name')).rows;
      expect(rows).toHaveLength(ALL.length);
      expect(rows[0]).toMatchObject({ migration_name: INIT, checksum: initChecksum, applied_steps_count: 1, logs: null, rolled_back_at: null });
      expect(rows[0].finished_at).toBeInstanceOf(Date);
      expect(rows[0].id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await migrate(pgClientRunner(c))).toEqual([]);
    } finally {
      await c.end();
    }
  });

  it('two concurrent migrate() calls apply the migration exactly once', async () => {
    const url = await freshDb();
    const [a, b] = await Promise.all([client(url), client(url)]);
    try {
      const results = await Promise.all([migrate(pgClientRunner(a)), migrate(pgClientRunner(b))]);
      expect(results.flat()).toEqual(ALL);
      expect((await a.query('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0].n).toBe(ALL.length);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('refuses to run when an applied migration was edited', async () => {
    const url = await freshDb();
    const c = await client(url);
    try {
      await migrate(pgClientRunner(c));
      await c.query(`UPDATE _prisma_migrations SET checksum = repeat('0', 64)`);
      await expect(migrate(pgClientRunner(c))).rejects.toThrow(`migration ${INIT} was edited after it was applied`);
    } finally {
      await c.end();
    }
    await expect(openDatabase({ databaseUrl: url, dataDir: '/nonexistent' })).rejects.toThrow(/was edited/);
  });

  it('readMigrations lists the repo migrations in order', () => {
    const names = readMigrations().map((m) => m.name);
    expect(names[0]).toBe(INIT);
    expect([...names].sort()).toEqual(names);
  });
});
