/**
 * In-process migrator for embedded PGlite and real PostgreSQL.
 *
 * Applies `prisma/migrations/<name>/migration.sql` in name order and records them in Prisma's own
 * `_prisma_migrations` table, exactly as `prisma migrate deploy` would, so a database migrated here
 * is "up to date" for the Prisma CLI and vice versa (the Prisma 7 CLI cannot migrate on machines
 * without its native engine, and PGlite has no CLI at all).
 *
 * Differences from Prisma, on purpose: each migration runs in one transaction together with its
 * bookkeeping row, so a failure leaves no trace and the next start simply retries (Prisma would
 * record a failed row that needs `prisma migrate resolve`). Statements that cannot run inside a
 * transaction (e.g. CREATE INDEX CONCURRENTLY) are therefore not supported in migrations.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

/** The one connection the migrator talks through (a transaction spans several calls). */
export interface SqlRunner {
  /** Other processes may share this database: serialise with Prisma's advisory lock. */
  readonly shared: boolean;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a multi-statement script (simple query protocol, no parameters). */
  exec(sql: string): Promise<void>;
}

export function pgliteRunner(db: PGlite): SqlRunner {
  return {
    shared: false, // PGlite is single-process; the data directory has its own lock file
    async query<T>(sql: string, params?: unknown[]) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
  };
}

export function pgClientRunner(client: pg.Client): SqlRunner {
  return {
    shared: true,
    async query<T>(sql: string, params?: unknown[]) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(sql: string) {
      await client.query(sql); // no params → simple protocol, multiple statements allowed
    },
  };
}

/** Project root is three levels up from provider/src/storage, wherever the cwd is. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations/', import.meta.url));

/** The key `prisma migrate` itself locks (schema-engine's postgres flavour). */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Same DDL as Prisma's schema engine, so `prisma migrate` sees its own table.
const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}
interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Like Prisma, accept a checksum computed before a checkout changed LF/CRLF line endings. */
function checksumMatches(sql: string, recorded: string): boolean {
  return [sql, sql.replace(/\r\n/g, '\n'), sql.replace(/\r?\n/g, '\r\n')].some((s) => sha256(s) === recorded);
}

export function readMigrations(dir = MIGRATIONS_DIR): LocalMigration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort() // Prisma orders by folder name (timestamp prefix)
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256(sql) };
    });
}

/** Applies pending migrations; returns the names applied (empty when up to date). */
export async function migrate(exec: SqlRunner, opts: { migrationsDir?: string } = {}): Promise<string[]> {
  const local = readMigrations(opts.migrationsDir);
  // Session-level lock: a second instance starting at once (or `prisma migrate deploy`) waits here.
  if (exec.shared) await exec.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
  try {
    await exec.exec(CREATE_TABLE);
    const rows = await exec.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at');
    const live = rows.filter((r) => r.rolled_back_at == null); // rolled-back rows count as never applied
    const failed = live.filter((r) => r.finished_at == null);
    if (failed.length) {
      throw new Error(
        `database migration(s) ${failed.map((r) => r.migration_name).join(', ')} failed earlier and were not rolled back; ` +
          'fix the database by hand, then mark them with `prisma migrate resolve --rolled-back <name>` (or --applied)',
      );
    }
    const applied = new Map(live.map((r) => [r.migration_name, r.checksum]));
    for (const m of local) {
      const recorded = applied.get(m.name);
      if (recorded !== undefined && !checksumMatches(m.sql, recorded)) {
        throw new Error(
          `migration ${m.name} was edited after it was applied to this database (checksum ${recorded} in ` +
            `_prisma_migrations, ${m.checksum} on disk); restore the original file and add a new migration instead`,
        );
      }
    }
    const done: string[] = [];
    for (const m of local) {
      if (applied.has(m.name)) continue;
      await exec.exec('BEGIN');
      try {
        await exec.exec(m.sql);
        await exec.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
          [randomUUID(), m.checksum, m.name],
        );
        await exec.exec('COMMIT');
      } catch (err) {
        await exec.exec('ROLLBACK').catch(() => {});
        throw new Error(`migration ${m.name} failed (rolled back, nothing applied): ${(err as Error).message}`, { cause: err });
      }
      done.push(m.name);
    }
    return done;
  } finally {
    if (exec.shared) await exec.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch(() => {});
  }
}
