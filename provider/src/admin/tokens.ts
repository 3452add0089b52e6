import { nanoid } from 'nanoid';
import { z } from 'zod';
import { hashSecret, newSecret } from '../accounts/secrets.js';
import { AppError, notFound } from '../errors.js';
import { parseWith } from '../http/guard.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/** `sat_` + 256 random bits (base64url): recognisable in logs and secret scanners, never stored. */
export const ADMIN_TOKEN_PATTERN = /^sat_[A-Za-z0-9_-]{43}$/;
const createSchema = z.strictObject({ name: z.string().trim().min(1, 'name is required').max(100, 'name is at most 100 characters') });

/** lastUsedAt is written at most this often per token: not one database write per API call. */
const LAST_USED_RESOLUTION_MS = 60_000;

type Row = { id: string; name: string; createdBy: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null };
const publicToken = (t: Row) => ({
  id: t.id,
  name: t.name,
  status: t.revokedAt ? ('revoked' as const) : ('active' as const),
  createdBy: t.createdBy,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});
export type PublicToken = ReturnType<typeof publicToken>;

export type AdminTokens = ReturnType<typeof createAdminTokens>;

/** Bearer tokens for /api/admin over HTTP: named, revocable, stored as SHA-256 hashes (accounts/secrets.ts). */
export function createAdminTokens(prisma: PrismaClient) {
  /** By id, or by name when exactly one active token has it. */
  async function mustFind(ref: string) {
    const byId = await prisma.adminToken.findUnique({ where: { id: ref } });
    if (byId) return byId;
    const byName = await prisma.adminToken.findMany({ where: { name: ref, revokedAt: null }, take: 2 });
    if (byName.length > 1) throw new AppError('ambiguous_token', 409, `Several active tokens are named "${ref}"; use the token id (tokens:list).`);
    if (!byName[0]) throw notFound(`No admin token "${ref}".`);
    return byName[0];
  }

  return {
    /** The token is in the answer this once; only its hash is kept. */
    async create(raw: unknown, createdBy: string) {
      const { name } = parseWith(createSchema, raw ?? {});
      const token = `sat_${newSecret(32)}`;
      const row = await prisma.adminToken.create({ data: { id: `tok_${nanoid(12)}`, name, tokenHash: hashSecret(token), createdBy } });
      return { ...publicToken(row), token };
    },

    async list() {
      return (await prisma.adminToken.findMany({ orderBy: { createdAt: 'asc' } })).map(publicToken);
    },

    async revoke(ref: string) {
      const row = await mustFind(ref);
      // Conditional: revoking twice keeps the first revocation time.
      await prisma.adminToken.updateMany({ where: { id: row.id, revokedAt: null }, data: { revokedAt: new Date() } });
      return publicToken(await prisma.adminToken.findUniqueOrThrow({ where: { id: row.id } }));
    },

    /** The active token presented, or null. Looks up by hash (a unique index), so no timing oracle on the value. */
    async verify(token: string) {
      if (!ADMIN_TOKEN_PATTERN.test(token)) return null;
      const row = await prisma.adminToken.findUnique({ where: { tokenHash: hashSecret(token) } });
      if (!row || row.revokedAt) return null;
      const now = new Date();
      if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await prisma.adminToken.updateMany({ where: { id: row.id, revokedAt: null }, data: { lastUsedAt: now } });
      }
      return publicToken(row);
    },
  };
}
