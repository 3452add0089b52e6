import { nanoid } from 'nanoid';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { notFound } from '../errors.js';

export type Authorizations = ReturnType<typeof createAuthorizations>;

/** How stale `lastUsedAt` may get: a person logging in to the same site often writes once per window. */
const TOUCH_EVERY_MS = 10 * 60_000;
/** Marker in the ephemeral store: this pair was approved within the window, with the scopes it holds. */
const touchedKey = (userId: string, appId: string) => `authz:touched:${userId}:${appId}`;

/**
 * What a person has approved (user × app). Revoking deletes every grant of that pair, with
 * their refresh tokens (PostgreSQL) and access tokens (ephemeral store), so the site's tokens
 * fail at once.
 */
export function createAuthorizations(
  prisma: PrismaClient,
  store: EphemeralStore,
  issued: { revokePersonAtApp(accountId: string, clientId: string): Promise<number> },
) {
  return {
    async recordApproval(userId: string, appId: string, scopes: string[]): Promise<void> {
      // Repeat logins with the same scopes skip the write (it is on every login's path); revoke
      // deletes the marker, so an approval after a revocation always writes.
      const marker = touchedKey(userId, appId);
      const approved = [...scopes].sort().join(' ');
      const current = await store.get(marker);
      if (current === approved) return;
      // One writer among concurrent approvals of the pair (the others skip, as for a repeat).
      if (!(await store.compareAndSet(marker, current, approved, TOUCH_EVERY_MS))) return;
      try {
        const now = new Date();
        const upsert = () =>
          prisma.authorization.upsert({
            where: { userId_appId: { userId, appId } },
            create: { id: `az_${nanoid(16)}`, userId, appId, scopes, createdAt: now, lastUsedAt: now },
            update: { scopes, lastUsedAt: now, revokedAt: null },
          });
        // Prisma's upsert reads then writes: a concurrent first approval (another instance whose
        // marker expired) can win the insert; the row then exists, and the retry updates it.
        await upsert().catch((err: unknown) => {
          if ((err as { code?: unknown }).code === 'P2002') return upsert();
          throw err;
        });
      } catch (err) {
        await store.del(marker).catch(() => 0);
        throw err;
      }
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
      await store.del(touchedKey(userId, appId));
      await issued.revokePersonAtApp(userId, appId);
    },
  };
}
