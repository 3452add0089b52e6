import { Prisma } from '../storage/generated/client.ts';

/**
 * Is this error a backing service not answering (Redis, PostgreSQL) rather than a bug? Then it
 * is retryable and answered 503. Recognised by the drivers' classes and codes where they have
 * them; ioredis reports a closed or timed-out connection only in the message.
 */

/** Node socket errors (ioredis, pg). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'ENOTFOUND', 'EAI_AGAIN']);
/** Prisma: can't reach / timed out / closed / pool exhausted. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
/** Prisma driver adapters (DriverAdapterError.cause.kind). */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
/** ioredis errors by class name (not all are exported). */
const REDIS_CLASSES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);
/** What ioredis says without a code (a closed or timed-out connection, Sentinel, Cluster). */
const REDIS_MESSAGES =
  /Connection is closed|Stream isn't writeable|Command timed out|All sentinels are unreachable|None of startup nodes|CLUSTERDOWN|TRYAGAIN/i;
/** What pg (on a dying socket) and Prisma say without a code. */
const DATABASE_MESSAGES = /Connection terminated|terminating connection|server closed the connection|Can't reach database server/i;

interface ErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown; code?: unknown };
}

/** Which backing service an outage is of: the database, the ephemeral store, or a bare socket error that does not say. */
export type OutageSource = 'database' | 'store' | 'unknown';

export const isOutage = (err: unknown): boolean => outageSource(err) !== null;

/** The backing service `err` says is not answering, or null when it is not an outage (metrics count them by source). */
export function outageSource(err: unknown, depth = 0): OutageSource | null {
  if (!err || typeof err !== 'object' || depth > 5) return null;
  const e = err as ErrorLike;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (SOCKET_CODES.has(code)) return 'unknown';
  // PostgreSQL SQLSTATE class 08 (connection exception), 57P01-03 (shutting down, cannot connect now).
  if (/^(08[0-9A-Z]{3}|57P0[123])$/.test(code)) return 'database';
  if (err instanceof Prisma.PrismaClientInitializationError) return 'database';
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    if (PRISMA_CODES.has(err.code)) return 'database';
    // P2010 "raw query failed": the driver's own error is in meta.
    if (err.code === 'P2010') {
      const driver =
        outageSource(e.meta?.driverAdapterError, depth + 1) ?? (typeof e.meta?.code === 'string' ? outageSource({ code: e.meta.code }, depth + 1) : null);
      if (driver || DATABASE_MESSAGES.test(message) || REDIS_MESSAGES.test(message)) return 'database';
    }
  }
  const kind = (e.cause as { kind?: unknown } | undefined)?.kind;
  if (e.name === 'DriverAdapterError' && typeof kind === 'string') {
    if (ADAPTER_KINDS.has(kind)) return 'database';
    if (kind === 'postgres') return outageSource({ code: (e.cause as { code?: unknown }).code }, depth + 1) && 'database';
  }
  if (typeof e.name === 'string' && REDIS_CLASSES.has(e.name)) return 'store';
  if (REDIS_MESSAGES.test(message)) return 'store';
  if (DATABASE_MESSAGES.test(message)) return 'database';
  return outageSource(e.cause, depth + 1);
}
