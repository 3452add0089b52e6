import { nanoid } from 'nanoid';
import { z } from 'zod';
import { hashSecret, newSecret } from '../accounts/secrets.js';
import { notFound } from '../errors.js';
import { adminError } from './error-codes.js';
import { parseWith } from '../http/guard.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/** `sat_` + 256 random bits (base64url): recognisable in logs and secret scanners, never stored. */
const ADMIN_TOKEN_PATTERN = /^sat_[A-Za-z0-9_-]{43}$/;
/** The longest an admin token may be made to last when it is given an expiry: two years. */
const MAX_TOKEN_LIFETIME_SECONDS = 2 * 365 * 24 * 3600;
export const tokenCreateSchema = z.strictObject({
  name: z.string().trim().min(1, 'name is required').max(100, 'name is at most 100 characters'),
  /** Optional: the token stops working this many seconds from now. */
  expiresInSeconds: z.coerce
    .number()
    .int('expiresInSeconds is a whole number of seconds')
    .min(60, 'expiresInSeconds is at least 60')
    .max(MAX_TOKEN_LIFETIME_SECONDS, `expiresInSeconds is at most ${MAX_TOKEN_LIFETIME_SECONDS} (2 years)`)
    .optional(),
});

/** lastUsedAt is written at most this often per token: not one database write per API call. */
const LAST_USED_RESOLUTION_MS = 60_000;

type Row = {
  id: string;
  name: string;
  createdBy: string;
  ownerId: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};
const statusOf = (t: Row, now = Date.now()) =>
  t.revokedAt ? ('revoked' as const) : t.expiresAt && t.expiresAt.getTime() <= now ? ('expired' as const) : ('active' as const);
const publicToken = (t: Row) => ({
  id: t.id,
  name: t.name,
  status: statusOf(t),
  createdBy: t.createdBy,
  /** The admin this token acts for (null: made on the server itself). */
  ownerId: t.ownerId,
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt?.toISOString() ?? null,
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});
export type PublicToken = ReturnType<typeof publicToken>;

export type AdminTokens = ReturnType<typeof createAdminTokens>;

/**
 * Bearer tokens for /api/admin over HTTP: named, revocable, optionally expiring, stored as
 * SHA-256 hashes (accounts/secrets.ts). A token acts for an admin (its owner: whoever made it,
 * or the owner of the token that made it) and works only while that admin is active: disabling
 * an admin stops their tokens at once, deleting one deletes them.
 */
export function createAdminTokens(prisma: PrismaClient) {
  /** By id, or by name when exactly one active token has it. */
  async function mustFind(ref: string) {
    const byId = await prisma.adminToken.findUnique({ where: { id: ref } });
    if (byId) return byId;
    const byName = await prisma.adminToken.findMany({ where: { name: ref, revokedAt: null }, take: 2 });
    if (byName.length > 1) throw adminError('ambiguous_token', `Several active tokens are named "${ref}"; use the token id (tokens:list).`);
    if (!byName[0]) throw notFound(`No admin token "${ref}".`);
    return byName[0];
  }

  return {
    /** The token is in the answer this once; only its hash is kept. */
    async create(raw: unknown, createdBy: string, ownerId: string | null) {
      const { name, expiresInSeconds } = parseWith(tokenCreateSchema, raw ?? {});
      const token = `sat_${newSecret(32)}`;
      const expiresAt = expiresInSeconds ? new Date(Date.now() + expiresInSeconds * 1000) : null;
      const row = await prisma.adminToken.create({ data: { id: `tok_${nanoid(12)}`, name, tokenHash: hashSecret(token), createdBy, ownerId, expiresAt } });
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

    /**
     * The token presented, if it works now: not revoked, not expired, and its owner (if any) an
     * active admin. Looks up by hash (a unique index), so no timing oracle on the value.
     */
    async verify(token: string) {
      if (!ADMIN_TOKEN_PATTERN.test(token)) return null;
      const row = await prisma.adminToken.findUnique({ where: { tokenHash: hashSecret(token) }, include: { owner: { select: { disabledAt: true } } } });
      if (!row || statusOf(row) !== 'active') return null;
      if (row.ownerId && (!row.owner || row.owner.disabledAt)) return null;
      const now = new Date();
      if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
        await prisma.adminToken.updateMany({ where: { id: row.id, revokedAt: null }, data: { lastUsedAt: now } });
      }
      return publicToken(row);
    },
  };
}
