import { nanoid } from 'nanoid';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { notFound } from '../errors.js';
import { revokeGrant } from '../oidc/grants.js';

export type Authorizations = ReturnType<typeof createAuthorizations>;

/**
 * What a person has approved (user × app). Revoking deletes every grant of that pair, with
 * their refresh tokens (PostgreSQL) and access tokens (ephemeral store), so the site's tokens
 * fail at once.
 */
export function createAuthorizations(prisma: PrismaClient, store: EphemeralStore) {
  return {
    async recordApproval(userId: string, appId: string, scopes: string[]): Promise<void> {
      const now = new Date();
      await prisma.authorization.upsert({
        where: { userId_appId: { userId, appId } },
        create: { id: `az_${nanoid(16)}`, userId, appId, scopes, createdAt: now, lastUsedAt: now },
        update: { scopes, lastUsedAt: now, revokedAt: null },
      });
    },

    async listForUser(userId: string) {
      const rows = await prisma.authorization.findMany({
        where: { userId, revokedAt: null },
        include: { app: true },
        orderBy: { lastUsedAt: 'desc' },
      });
      return rows.map((r) => ({
        appId: r.appId,
        name: r.app.name,
        logoUrl: r.app.logoUrl,
        homepage: r.app.homepage,
        scopes: r.scopes,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt.toISOString(),
      }));
    },

    async revoke(userId: string, appId: string): Promise<void> {
      const { count } = await prisma.authorization.updateMany({ where: { userId, appId, revokedAt: null }, data: { revokedAt: new Date() } });
      if (count === 0) throw notFound(`You have not authorized app "${appId}".`);
      const grants = await prisma.oidcPayload.findMany({ where: { kind: 'Grant', accountId: userId, clientId: appId }, select: { grantId: true } });
      for (const { grantId } of grants) if (grantId) await revokeGrant({ store, prisma }, grantId);
    },
  };
}
