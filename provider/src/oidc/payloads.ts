import { createHash } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import type { EphemeralStore } from '../storage/ephemeral.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/**
 * oidc-provider's durable records (the `OidcPayload` table: Grants and RefreshTokens) and the
 * index of what was issued under each grant. The only module that reads or writes that table;
 * the adapter (adapter.ts), revocation (people, apps) and the WeChat API go through it.
 *
 * A refresh token is a bearer secret that lives 30 days, so its row is keyed by the token's
 * SHA-256 and its payload keeps no copy of it: a stolen database file redeems nothing. The
 * adapter still hands oidc-provider the value it was asked for (`find` puts it back as `jti`).
 */

/** Index of every ephemeral key issued under a grant, so a grant can be revoked in one sweep. */
export const grantIndexKey = (grantId: string) => `oidc:grant:${grantId}`;

/**
 * The ephemeral store's copy of a Grant (adapter.ts): read on every /auth, /token and userinfo
 * instead of PostgreSQL. Whatever deletes a Grant deletes this key by name.
 */
export const grantCacheKey = (grantId: string) => `oidc:Grant:${grantId}`;

const HASHED = new Set(['RefreshToken']);
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('base64url');
/** The row id: `<kind>:<id>`, the id hashed for bearer secrets. */
const rowId = (kind: string, id: string) => `${kind}:${HASHED.has(kind) ? sha256(id) : id}`;

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
async function revokeGrant(deps: { store: EphemeralStore; prisma: PrismaClient }, grantId: string): Promise<void> {
  await withGrantCopyDeleted(deps.store, grantId, () =>
    Promise.all([revokeEphemeral(deps.store, grantId), deps.prisma.oidcPayload.deleteMany({ where: { grantId } })]),
  );
}

export type Payloads = ReturnType<typeof createPayloads>;

export function createPayloads(deps: { store: EphemeralStore; prisma: PrismaClient }) {
  const { prisma } = deps;
  const revoke = (grantId: string) => revokeGrant(deps, grantId);

  async function grantIds(where: { clientId?: string; accountId?: string }): Promise<string[]> {
    const rows = await prisma.oidcPayload.findMany({ where: { kind: 'Grant', ...where }, select: { grantId: true } });
    return rows.map((r) => r.grantId).filter((id): id is string => !!id);
  }

  return {
    revokeGrant: revoke,

    // ── the durable adapter's storage (adapter.ts) ────────────────────────────────────────
    async upsert(kind: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
      // A Grant row carries its own id as grantId, so revoking by grant also removes the Grant.
      const grantId = payload.grantId ?? (kind === 'Grant' ? id : null);
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const stored = HASHED.has(kind) ? { ...payload, jti: undefined } : payload;
      // Raw SQL: two of these per login, and Prisma's upsert costs ~0.15 ms more CPU each.
      await prisma.$executeRaw`
        INSERT INTO "OidcPayload" ("id", "kind", "payload", "grantId", "accountId", "clientId", "expiresAt")
        VALUES (${rowId(kind, id)}, ${kind}, ${JSON.stringify(stored)}::jsonb, ${grantId}, ${payload.accountId ?? null}, ${payload.clientId ?? null}, ${expiresAt})
        ON CONFLICT ("id") DO UPDATE SET "kind" = EXCLUDED."kind", "payload" = EXCLUDED."payload", "grantId" = EXCLUDED."grantId",
          "accountId" = EXCLUDED."accountId", "clientId" = EXCLUDED."clientId", "expiresAt" = EXCLUDED."expiresAt"`;
    },

    /** The live payload (expired rows hide), with `consumed` from the row and `jti` as asked. */
    async find(kind: string, id: string): Promise<AdapterPayload | undefined> {
      if (id.includes('\u0000')) return undefined; // no such row; PostgreSQL text refuses NUL
      const row = await prisma.oidcPayload.findUnique({ where: { id: rowId(kind, id) } });
      if (!row || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
      const payload = { ...(row.payload as AdapterPayload), ...(HASHED.has(kind) ? { jti: id } : {}) };
      return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
    },

    /**
     * Conditional update: only the first of concurrent consumers flips consumedAt. Otherwise
     * says why (already consumed, with the grant to revoke; or gone).
     */
    async consume(kind: string, id: string): Promise<{ ok: true } | { ok: false; grantId: string | null } | null> {
      if (id.includes('\u0000')) return { ok: true };
      const { count } = await prisma.oidcPayload.updateMany({ where: { id: rowId(kind, id), consumedAt: null }, data: { consumedAt: new Date() } });
      if (count === 1) return { ok: true };
      const row = await prisma.oidcPayload.findUnique({ where: { id: rowId(kind, id) }, select: { grantId: true } });
      return row ? { ok: false, grantId: row.grantId } : null;
    },

    async destroy(kind: string, id: string): Promise<void> {
      await prisma.oidcPayload.deleteMany({ where: { id: rowId(kind, id) } });
    },

    /** Only this kind's rows: oidc-provider destroys the Grant itself when its policy says so. */
    async destroyByGrant(kind: string, grantId: string): Promise<void> {
      await prisma.oidcPayload.deleteMany({ where: { grantId, kind } });
    },

    // ── revocation and questions from other capabilities ───────────────────────────────────
    /** Everything issued to one person at one app (the person revoked it). */
    async revokePersonAtApp(accountId: string, clientId: string): Promise<number> {
      const ids = await grantIds({ clientId, accountId });
      for (const grantId of ids) await revoke(grantId);
      return ids.length;
    },

    /**
     * Everything issued to one person at every app (disabled or deleted): their grants with
     * their tokens, then any row left for them (refresh tokens whose Grant is already gone).
     */
    async revokePerson(accountId: string): Promise<number> {
      const ids = await grantIds({ accountId });
      for (const grantId of ids) await revoke(grantId);
      await prisma.oidcPayload.deleteMany({ where: { accountId } });
      return ids.length;
    },

    /**
     * Everything issued to an app: its grants with their tokens, then any row left for it
     * (refresh tokens whose Grant is already gone). Access tokens in a store nobody shares
     * (the CLI on the embedded database) die with their Grant.
     */
    async revokeApp(clientId: string): Promise<number> {
      const ids = await grantIds({ clientId });
      for (const grantId of ids) await revoke(grantId);
      await prisma.oidcPayload.deleteMany({ where: { clientId } });
      return ids.length;
    },

    /** A refresh token's row is kept after expiry until swept, so it can still say "expired". */
    async refreshTokenExpired(value: string): Promise<boolean> {
      if (value.includes('\u0000')) return false;
      const row = await prisma.oidcPayload.findUnique({ where: { id: rowId('RefreshToken', value) }, select: { expiresAt: true } });
      return !!row?.expiresAt && row.expiresAt.getTime() <= Date.now();
    },
  };
}
