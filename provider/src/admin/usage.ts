import { z } from 'zod';
import { notFound } from '../errors.js';
import { parseWith } from '../http/guard.js';
import type { PrismaClient } from '../storage/generated/client.ts';

export interface LoginCounts {
  /** Distinct QR codes a phone scanned. */
  scanned: number;
  /** Approved on the phone (qr.confirmed). */
  confirmed: number;
  /** Refused on the phone (qr.denied). */
  denied: number;
  /** Scanned, then neither approved nor refused before the QR expired. */
  expired: number;
  /** Finished at the site: the browser came back and the site got its code (login.completed). */
  completed: number;
}

const USAGE_WINDOWS = { '24h': 24 * 3600 * 1000, '30d': 30 * 24 * 3600 * 1000 } as const;

export const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** An event id: only older events (paging backwards). */
  // Event ids are PostgreSQL bigints: a larger number is not an id (and would overflow the query).
  before: z
    .string()
    .regex(/^\d{1,19}$/, 'before is an event id')
    .refine((v) => !/^\d+$/.test(v) || BigInt(v) <= 9_223_372_036_854_775_807n, 'before is an event id (at most 9223372036854775807)')
    .optional(),
});

export type Usage = ReturnType<typeof createUsage>;

/**
 * Per-app login counts and the audit trail, read from AuditEvent.
 *
 * "Expired" has no event of its own: nothing runs when a QR code times out. A scanned QR
 * expires exactly QR_TTL after its first scan unless the phone decides (login/machine.ts), so a
 * scan with no qr.confirmed/qr.denied for the same qrId whose first scan is older than QR_TTL
 * is counted as expired at query time. QR codes nobody scanned are not counted: no person
 * was asked, and page loads are not logins.
 */
export function createUsage(prisma: PrismaClient, opts: { qrTtlMs: number }) {
  async function counts(appId: string, since: Date, now: Date): Promise<LoginCounts> {
    const expiredBefore = new Date(now.getTime() - opts.qrTtlMs);
    const [row] = await prisma.$queryRaw<Array<Record<keyof LoginCounts, number>>>`
      WITH events AS (
        SELECT type, at, detail->>'qrId' AS "qrId" FROM "AuditEvent"
        WHERE "appId" = ${appId} AND at >= ${since}
          AND type IN ('qr.scanned', 'qr.confirmed', 'qr.denied', 'login.completed')
      ), scans AS (
        SELECT "qrId", min(at) AS first FROM events WHERE type = 'qr.scanned' AND "qrId" IS NOT NULL GROUP BY "qrId"
      )
      SELECT
        (SELECT count(*) FROM scans)::int AS scanned,
        (SELECT count(*) FROM events WHERE type = 'qr.confirmed')::int AS confirmed,
        (SELECT count(*) FROM events WHERE type = 'qr.denied')::int AS denied,
        (SELECT count(*) FROM events WHERE type = 'login.completed')::int AS completed,
        (SELECT count(*) FROM scans s WHERE s.first < ${expiredBefore} AND NOT EXISTS (
           SELECT 1 FROM "AuditEvent" d
           WHERE d."appId" = ${appId} AND d.type IN ('qr.confirmed', 'qr.denied') AND d.detail->>'qrId' = s."qrId"
        ))::int AS expired`;
    return { scanned: row.scanned, confirmed: row.confirmed, denied: row.denied, expired: row.expired, completed: row.completed };
  }

  async function mustExist(appId: string) {
    if (!(await prisma.app.findUnique({ where: { appId }, select: { appId: true } }))) throw notFound(`No app with AppID "${appId}".`);
  }

  return {
    async forApp(appId: string, now = new Date()) {
      await mustExist(appId);
      const [last24h, last30d] = await Promise.all([
        counts(appId, new Date(now.getTime() - USAGE_WINDOWS['24h']), now),
        counts(appId, new Date(now.getTime() - USAGE_WINDOWS['30d']), now),
      ]);
      return { appId, at: now.toISOString(), last24h, last30d };
    },

    /** The app's audit trail, newest first. */
    async auditForApp(appId: string, rawQuery: unknown = {}) {
      await mustExist(appId);
      return trail(prisma, { appId }, parseWith(auditQuery, rawQuery ?? {}));
    },

    /** A person's trail (their scans, decisions, logins, revocations), newest first. */
    async auditForUser(userId: string, rawQuery: unknown = {}) {
      return trail(prisma, { userId }, parseWith(auditQuery, rawQuery ?? {}));
    },
  };
}

async function trail(prisma: PrismaClient, where: { appId?: string; userId?: string }, q: z.infer<typeof auditQuery>) {
  const rows = await prisma.auditEvent.findMany({
    where: { ...where, ...(q.before ? { id: { lt: BigInt(q.before) } } : {}) },
    orderBy: { id: 'desc' },
    take: q.limit,
  });
  const events = rows.map((r) => ({
    id: r.id.toString(),
    at: r.at.toISOString(),
    type: r.type,
    userId: r.userId,
    appId: r.appId,
    ip: r.ip,
    userAgent: r.userAgent,
    detail: r.detail,
  }));
  return { events, next: rows.length === q.limit ? events.at(-1)!.id : null };
}
