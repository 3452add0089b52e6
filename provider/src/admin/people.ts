import { z } from 'zod';
import type { Authorizations } from '../accounts/authorizations.js';
import { publicUser } from '../accounts/users.js';
import { AppError, notFound } from '../errors.js';
import { parseWith } from '../http/guard.js';
import type { PrismaClient } from '../storage/generated/client.ts';

export const userSearchQuery = z.object({
  q: z.string().trim().max(100, 'q is at most 100 characters').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export type AdminUsers = ReturnType<typeof createAdminUsers>;

/** People (phone-app users) as admins see them: search, their authorizations, revocation. */
export function createAdminUsers(prisma: PrismaClient, authorizations: Authorizations) {
  const activeCount = { _count: { select: { authorizations: { where: { revokedAt: null } } } } } as const;

  /** By id or username. */
  async function mustFind(ref: string) {
    const row = await prisma.user.findFirst({ where: { OR: [{ id: ref }, { username: ref.toLowerCase() }] }, include: activeCount });
    if (!row) throw notFound(`No user "${ref}".`);
    return row;
  }

  return {
    /** Username, nickname or id contains `q` (case-insensitive); newest first. */
    async search(rawQuery: unknown = {}) {
      const { q, limit } = parseWith(userSearchQuery, rawQuery ?? {});
      const where = q
        ? { OR: [{ username: { contains: q, mode: 'insensitive' as const } }, { nickname: { contains: q, mode: 'insensitive' as const } }, { id: q }] }
        : {};
      const rows = await prisma.user.findMany({ where, orderBy: { createdAt: 'desc' }, take: limit, include: activeCount });
      return rows.map((u) => ({ ...publicUser(u), authorizations: u._count.authorizations }));
    },

    async get(ref: string) {
      const u = await mustFind(ref);
      return { ...publicUser(u), authorizations: await authorizations.listForUser(u.id) };
    },

    /** Who has authorized an app (active authorizations), most recent first. */
    async ofApp(appId: string, limit = 100) {
      const rows = await prisma.authorization.findMany({ where: { appId, revokedAt: null }, include: { user: true }, orderBy: { lastUsedAt: 'desc' }, take: limit });
      return rows.map((r) => ({ user: publicUser(r.user), scopes: r.scopes, createdAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt.toISOString() }));
    },

    /** Ends a person's authorization for an app: its grants and tokens stop working at once. */
    async revoke(ref: string, appId: string) {
      const user = await mustFind(ref);
      try {
        await authorizations.revoke(user.id, appId);
      } catch (err) {
        if (err instanceof AppError && err.status === 404) throw notFound(`${user.username} has no active authorization for app "${appId}".`);
        throw err;
      }
      return { userId: user.id, username: user.username, appId, revoked: true as const };
    },
  };
}
