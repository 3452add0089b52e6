import type { NextFunction, Request, Response } from 'express';
import { nanoid } from 'nanoid';
import { hashSecret, newSecret } from '../accounts/secrets.js';
import { publicUser, type PublicUser } from '../accounts/users.js';
import { unauthorized } from '../errors.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { createLocalCache } from '../storage/local-cache.js';

/** How often lastUsedAt is refreshed: often enough for "last seen", rarely enough to stay off the hot path. */
const TOUCH_EVERY_MS = 5 * 60_000;
/**
 * A phone sends its token on every scan and confirm; the session behind it is kept this long
 * per process. Revocation reaches every instance at once through `DEVICE_REVOKED` (app.ts);
 * the TTL only bounds how stale a nickname or picture shown to the phone can be.
 */
const SESSION_CACHE_MS = 30_000;

/**
 * Pub/sub channel: a device session id was revoked, or `user:<userId>` for every session of a
 * person (disabled or deleted); every instance drops them from its cache.
 */
export const DEVICE_REVOKED = 'device-revoked';

interface CachedSession {
  sessionId: string;
  user: PublicUser;
  revoked: boolean;
  lastUsedAt: number;
  signedInAt: number;
}

export type DeviceTokens = ReturnType<typeof createDeviceTokens>;

/**
 * Phone sign-ins: a random bearer token per device, stored only as its SHA-256 hash. A session
 * unused for `idleMs` (DEVICE_SESSION_IDLE_DAYS) is over: a lost phone does not approve logins
 * forever.
 */
export function createDeviceTokens(prisma: PrismaClient, onRevoked: (sessionId: string) => Promise<void> = async () => {}, opts: { idleMs?: number } = {}) {
  const idleMs = opts.idleMs ?? 30 * 24 * 3600_000;
  // By token hash; null = no such token (so a stream of bad tokens does not reach the database).
  const sessions = createLocalCache<CachedSession | null>({ ttlMs: SESSION_CACHE_MS, max: 50_000 });
  const forget = (message: string) =>
    message.startsWith('user:') ? sessions.deleteWhere((s) => s?.user.id === message.slice(5)) : sessions.deleteWhere((s) => s?.sessionId === message);
  return {
    async issue(userId: string, deviceName?: string): Promise<string> {
      const token = `sdt_${newSecret()}`;
      await prisma.deviceSession.create({
        data: { id: `dev_${nanoid(16)}`, userId, tokenHash: hashSecret(token), deviceName: deviceName ?? null },
      });
      return token;
    },

    async authenticate(token: string): Promise<{ user: PublicUser; sessionId: string; signedInAt: number } | null> {
      const tokenHash = hashSecret(token);
      const session = await sessions.getOrLoad(tokenHash, async () => {
        const row = await prisma.deviceSession.findUnique({ where: { tokenHash }, include: { user: true } });
        // A disabled person's sessions are revoked when it happens; this also covers a session
        // that was being issued at that very moment.
        return row
          ? {
              sessionId: row.id,
              user: publicUser(row.user),
              revoked: !!row.revokedAt || !!row.user.disabledAt,
              lastUsedAt: row.lastUsedAt.getTime(),
              signedInAt: row.createdAt.getTime(),
            }
          : null;
      });
      if (!session || session.revoked) return null;
      if (Date.now() - session.lastUsedAt > idleMs) return null;
      if (Date.now() - session.lastUsedAt > TOUCH_EVERY_MS) {
        const lastUsedAt = new Date();
        sessions.update(tokenHash, { ...session, lastUsedAt: lastUsedAt.getTime() });
        await prisma.deviceSession.update({ where: { id: session.sessionId }, data: { lastUsedAt } });
      }
      return { user: session.user, sessionId: session.sessionId, signedInAt: session.signedInAt };
    },

    /** The person's phones signed in now (not signed out, not idle past DEVICE_SESSION_IDLE_DAYS), last used first. */
    async listOf(userId: string) {
      const rows = await prisma.deviceSession.findMany({
        where: { userId, revokedAt: null, lastUsedAt: { gt: new Date(Date.now() - idleMs) } },
        orderBy: { lastUsedAt: 'desc' },
        take: 100,
      });
      return rows.map((r) => ({ id: r.id, name: r.deviceName, signedInAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt.toISOString() }));
    },

    /** Signs out one of the person's own sessions (this one: logout), on every instance at once; false when it is not theirs or already over. */
    async revokeOwn(userId: string, sessionId: string): Promise<boolean> {
      const { count } = await prisma.deviceSession.updateMany({ where: { id: sessionId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
      if (!count) return false;
      forget(sessionId);
      await onRevoked(sessionId);
      return true;
    },

    /**
     * Every session of a person ends (disabled or deleted), or every one but `except` (the
     * person signs out everywhere else): the rows are marked, then every instance drops the
     * person's cached sessions at once (the one kept is read again). Returns how many ended.
     */
    async revokeAllOf(userId: string, except?: string): Promise<number> {
      const where = { userId, revokedAt: null, ...(except ? { id: { not: except } } : {}) };
      const { count } = await prisma.deviceSession.updateMany({ where, data: { revokedAt: new Date() } });
      forget(`user:${userId}`);
      await onRevoked(`user:${userId}`);
      return count;
    },

    /** Drop a revoked session (or `user:<id>`: a person's) from this process's cache (called for every instance's revocations). */
    forget,
    /** Drop every cached session (revocations may have been missed while pub/sub was down). */
    forgetAll: () => sessions.clear(),
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      user?: PublicUser;
      deviceSessionId?: string;
      /** When this device session signed in (ms): what proved the person, not the token, is that recent? */
      signedInAt?: number;
    }
  }
}

/** `Authorization: Bearer <device token>` → res.locals.user, or 401. */
export function requireDevice(tokens: DeviceTokens) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer ([A-Za-z0-9_\-.~+/]+=*)$/.exec(req.get('authorization') ?? '');
    if (!match) throw unauthorized('Sign in on the phone first (missing bearer token).');
    const found = await tokens.authenticate(match[1]);
    if (!found) throw unauthorized('This device token is not valid (signed out or revoked). Sign in again.');
    res.locals.user = found.user;
    res.locals.deviceSessionId = found.sessionId;
    res.locals.signedInAt = found.signedInAt;
    next();
  };
}
