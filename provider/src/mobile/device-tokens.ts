import type { NextFunction, Request, Response } from 'express';
import { nanoid } from 'nanoid';
import { hashSecret, newSecret } from '../accounts/secrets.js';
import { publicUser, type PublicUser } from '../accounts/users.js';
import { unauthorized } from '../errors.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/** How often lastUsedAt is refreshed: often enough for "last seen", rarely enough to stay off the hot path. */
const TOUCH_EVERY_MS = 5 * 60_000;

export type DeviceTokens = ReturnType<typeof createDeviceTokens>;

/** Phone sign-ins: a random bearer token per device, stored only as its SHA-256 hash. */
export function createDeviceTokens(prisma: PrismaClient) {
  return {
    async issue(userId: string, deviceName?: string): Promise<string> {
      const token = `sdt_${newSecret()}`;
      await prisma.deviceSession.create({
        data: { id: `dev_${nanoid(16)}`, userId, tokenHash: hashSecret(token), deviceName: deviceName ?? null },
      });
      return token;
    },

    async authenticate(token: string): Promise<{ user: PublicUser; sessionId: string } | null> {
      const session = await prisma.deviceSession.findUnique({ where: { tokenHash: hashSecret(token) }, include: { user: true } });
      if (!session || session.revokedAt) return null;
      if (Date.now() - session.lastUsedAt.getTime() > TOUCH_EVERY_MS) {
        await prisma.deviceSession.update({ where: { id: session.id }, data: { lastUsedAt: new Date() } });
      }
      return { user: publicUser(session.user), sessionId: session.id };
    },

    async revoke(sessionId: string): Promise<void> {
      await prisma.deviceSession.update({ where: { id: sessionId }, data: { revokedAt: new Date() } });
    },
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      user?: PublicUser;
      deviceSessionId?: string;
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
    next();
  };
}
