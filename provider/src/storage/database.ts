/**
 * Opens the durable database: real PostgreSQL when a URL is given, otherwise embedded PGlite
 * (zero setup). Both get the same generated Prisma client and the same migrations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { PrismaClient } from './generated/client.ts';
import type { Logger } from '../log.js';
import { ensurePrivateDataDir, tightenDataDir } from './data-dir.js';
import { migrate, pgClientRunner, pgliteRunner } from './migrate.js';

export interface Database {
  prisma: PrismaClient;
  kind: 'postgres' | 'pglite';
  /** true when the database answers `SELECT 1`; never throws (for health checks). */
  ping(): Promise<boolean>;
  /** The migrations recorded as applied; null when the table is not there yet or the database is down. */
  appliedMigrations(): Promise<Set<string> | null>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** postgresql://… — use real PostgreSQL; omitted → embedded PGlite under dataDir. */
  databaseUrl?: string;
  dataDir: string;
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  /** PGlite only: keep everything in memory (tests). */
  inMemory?: boolean;
  /** Where a loosened DATA_DIR is reported (storage/data-dir.ts). */
  log?: Pick<Logger, 'warn'>;
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.migrate ?? true) : openPglite(opts);
}

async function openPostgres(connectionString: string, runMigrations: boolean): Promise<Database> {
  if (runMigrations) {
    // A dedicated connection: the advisory lock and each migration's transaction need one session.
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      await migrate(pgClientRunner(client));
    } finally {
      await client.end();
    }
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString }) });
  return {
    prisma,
    kind: 'postgres',
    ping: () => ping(prisma),
    appliedMigrations: () => appliedMigrations(prisma),
    close: () => prisma.$disconnect(),
  };
}

async function openPglite(opts: OpenDatabaseOptions): Promise<Database> {
  let release = () => {};
  let db: PGlite;
  if (opts.inMemory) {
    db = new PGlite();
  } else {
    ensurePrivateDataDir(opts.dataDir, opts.log);
    release = lockDataDir(opts.dataDir);
    db = new PGlite(path.join(opts.dataDir, 'pglite'));
  }
  try {
    await db.waitReady;
    if (opts.migrate ?? true) await migrate(pgliteRunner(db));
    // PGlite creates its files 0666 (the directory's 0700 is what keeps them private meanwhile).
    if (!opts.inMemory) tightenDataDir(opts.dataDir);
  } catch (err) {
    await db.close().catch(() => {});
    release();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  let closed = false;
  return {
    prisma,
    kind: 'pglite',
    ping: () => ping(prisma),
    appliedMigrations: () => appliedMigrations(prisma),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await prisma.$disconnect();
        await db.close(); // the adapter does not own the PGlite instance
        if (!opts.inMemory) tightenDataDir(opts.dataDir);
      } finally {
        release();
      }
    },
  };
}

async function appliedMigrations(prisma: PrismaClient): Promise<Set<string> | null> {
  try {
    const rows = await prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    return new Set(rows.map((r) => r.migration_name));
  } catch {
    return null;
  }
}

async function ping(prisma: PrismaClient): Promise<boolean> {
  try {
    await prisma.$queryRaw`SELECT 1`;
    return true;
  } catch {
    return false;
  }
}

/** Lock files this process holds, to tell "reused pid == our pid" (stale) from a double open. */
const heldLocks = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * PGlite is one process's private Postgres: two processes on one data directory corrupt it.
 * Take `<dataDir>/pglite.lock` (holding our pid) exclusively; returns the release function.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = path.resolve(dataDir, 'pglite.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
    }
    let pid: number;
    try {
      pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
    } catch {
      continue; // vanished between our attempts: just retry
    }
    // Our own pid in a lock we do not hold is a leftover from a previous container/boot that
    // happened to get the same pid (typical for pid 1 in Docker): stale, like a dead pid.
    const ours = pid === process.pid && !heldLocks.has(lockPath);
    if (Number.isInteger(pid) && pid > 0 && !ours && (pid === process.pid || pidAlive(pid))) {
      throw new Error(
        `the embedded database in ${dataDir} is in use by process ${pid} (is the provider running? ` + 'use `npm run admin` which talks to it, or stop it)',
      );
    }
    // Stale (dead pid or unreadable content): take it over. Two processes doing this at the same
    // instant could both succeed; that narrow race is accepted for a best-effort guard.
    fs.rmSync(lockPath, { force: true });
  }
  heldLocks.add(lockPath);
  const onExit = () => {
    try {
      fs.unlinkSync(lockPath); // 'exit' handlers must be synchronous
    } catch {
      /* best effort */
    }
  };
  process.on('exit', onExit);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    process.off('exit', onExit);
    heldLocks.delete(lockPath);
    onExit();
  };
}
