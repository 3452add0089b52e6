import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/** Index of every ephemeral key issued under a grant, so a grant can be revoked in one sweep. */
export const grantIndexKey = (grantId: string) => `oidc:grant:${grantId}`;

/**
 * The ephemeral store's copy of a Grant (adapter.ts): read on every /auth, /token and userinfo
 * instead of PostgreSQL. Whatever deletes a Grant deletes this key by name.
 */
export const grantCacheKey = (grantId: string) => `oidc:Grant:${grantId}`;

/**
 * Runs `remove` (which deletes Grant rows) with the cached copy deleted before it and again after
 * it: an upsert racing the removal writes its copy before its row (adapter.ts), so a copy written
 * meanwhile is gone once the rows are, and no cached Grant outlives the row it mirrors.
 */
export async function withGrantCopyDeleted(store: EphemeralStore, grantId: string, remove: () => Promise<unknown>): Promise<void> {
  await Promise.all([store.del(grantCacheKey(grantId)), remove()]);
  await store.del(grantCacheKey(grantId));
}

export async function revokeEphemeral(store: EphemeralStore, grantId: string): Promise<void> {
  const keys = await store.smembers(grantIndexKey(grantId));
  if (keys.length) await store.del(...keys, grantIndexKey(grantId));
}

/**
 * Revoke a grant everywhere: access tokens and codes (ephemeral store), refresh tokens and the
 * Grant itself (PostgreSQL). oidc-provider refuses any token whose Grant is gone.
 */
export async function revokeGrant(deps: { store: EphemeralStore; prisma: PrismaClient }, grantId: string): Promise<void> {
  await withGrantCopyDeleted(deps.store, grantId, () =>
    Promise.all([revokeEphemeral(deps.store, grantId), deps.prisma.oidcPayload.deleteMany({ where: { grantId } })]),
  );
}
