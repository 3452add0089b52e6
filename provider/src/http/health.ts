/**
 * Probes for process supervisors and load balancers:
 * - `/healthz` (liveness): the process serves HTTP. Always 200 while it does; it touches no
 *   backing service, so an outage of PostgreSQL or Redis never makes a supervisor restart
 *   every instance at once.
 * - `/readyz` (readiness): this instance can serve logins now — the database and the ephemeral
 *   store answer, and every migration this code ships with is applied (read from Prisma's
 *   `_prisma_migrations`, which storage/migrate.ts and `prisma migrate deploy` both write).
 *   503 with the reason otherwise, and from the moment shutdown begins.
 */
import { Router } from 'express';
import type { Logger } from '../log.js';
import type { Database } from '../storage/database.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { readMigrations } from '../storage/migrate.js';

/** Each check answers within this, or counts as down (a blackholed host must not hang probes). */
const CHECK_TIMEOUT_MS = 2_000;

interface Check {
  ok: boolean;
  /** What is wrong, for people: "unreachable", "pending: 2026…_x". */
  detail?: string;
  [field: string]: unknown;
}

export interface Readiness {
  status: 'ready' | 'not_ready' | 'shutting_down';
  /** Present unless ready: one line naming what failed. */
  reason?: string;
  checks: { database?: Check; store?: Check; migrations?: Check };
}

export interface HealthOptions {
  db: Database;
  store: EphemeralStore;
  log: Logger;
  /** Defaults to the prisma/migrations shipped beside this code. */
  migrationsDir?: string;
}

export function createHealth({ db, store, log, migrationsDir }: HealthOptions) {
  const expected = readMigrations(migrationsDir).map((m) => m.name);
  let draining = false;
  let inFlight: Promise<Readiness> | undefined;
  let lastStatus: Readiness['status'] | undefined;

  async function check(): Promise<Readiness> {
    const [dbUp, storeUp, applied] = await Promise.all([
      within(db.ping(), false),
      within(store.ping(), false),
      within(db.appliedMigrations(), null), // null: no table yet, or the database is down
    ]);
    const database: Check = { ok: dbUp, kind: db.kind, ...(dbUp ? {} : { detail: 'unreachable' }) };
    const ephemeral: Check = { ok: storeUp, kind: store.kind, ...(storeUp ? {} : { detail: 'unreachable' }) };
    // Only migrations this code expects count: a newer release may have applied more (rolling upgrade).
    const pending = applied ? expected.filter((name) => !applied.has(name)) : expected;
    const migrations: Check = !dbUp
      ? { ok: false, detail: 'unknown (database unreachable)' }
      : {
          ok: pending.length === 0,
          applied: expected.length - pending.length,
          expected: expected.length,
          ...(pending.length ? { detail: `pending: ${pending.join(', ')}` } : {}),
        };
    const failed = Object.entries({ database, store: ephemeral, migrations }).filter(([, c]) => !c.ok);
    return {
      status: failed.length ? 'not_ready' : 'ready',
      ...(failed.length ? { reason: failed.map(([name, c]) => `${name} ${c.detail}`).join('; ') } : {}),
      checks: { database, store: ephemeral, migrations },
    };
  }

  async function readiness(): Promise<Readiness> {
    if (draining) return { status: 'shutting_down', reason: 'shutting down', checks: {} };
    // Probes arriving together (kubelet, proxies, a flood) share one check: bounded database load.
    inFlight ??= check().finally(() => (inFlight = undefined));
    const result = await inFlight;
    if (result.status !== lastStatus) {
      // Transitions only: probes every few seconds would otherwise flood the log during an outage.
      if (result.status === 'ready') log.info({ checks: result.checks }, 'ready');
      else log.warn({ reason: result.reason }, 'not ready');
      lastStatus = result.status;
    }
    return result;
  }

  const routes = Router();
  routes.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok', database: db.kind, store: store.kind });
  });
  routes.get('/readyz', async (_req, res) => {
    const result = await readiness();
    res
      .status(result.status === 'ready' ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(result);
  });

  return {
    routes,
    readiness,
    /** From now on /readyz answers 503 "shutting down"; everything else keeps serving. */
    beginDraining() {
      draining = true;
    },
  };
}

/** `promise`, or `fallback` once CHECK_TIMEOUT_MS has passed (never rejects). */
async function within<T>(promise: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), CHECK_TIMEOUT_MS)));
  try {
    return await Promise.race([promise.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
