import { nanoid } from 'nanoid';
import { z } from 'zod';
import { accountError } from './error-codes.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { createLocalCache } from '../storage/local-cache.js';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.js';

export const usernameSchema = z
  .string()
  .trim()
  .min(3, 'username must be at least 3 characters')
  .max(32, 'username must be at most 32 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'username may contain letters, digits, "_", "." and "-"');
export const passwordSchema = z.string().min(8, 'password must be at least 8 characters').max(256);
export const nicknameSchema = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'nickname must not contain control characters');

/** The user as the phone app and the QR page see it (never the password hash). */
export interface PublicUser {
  id: string;
  username: string;
  nickname: string;
  picture: string | null;
  locale: string | null;
  createdAt: string;
}

type UserRow = { id: string; username: string; nickname: string; picture: string | null; locale: string | null; createdAt: Date; disabledAt?: Date | null };

export const publicUser = (u: UserRow): PublicUser => ({
  id: u.id,
  username: u.username,
  nickname: u.nickname,
  picture: u.picture,
  locale: u.locale,
  createdAt: u.createdAt.toISOString(),
});

export type Users = ReturnType<typeof createUsers>;

/** How long findAccount may reuse a profile: oidc-provider asks several times per login. */
const PROFILE_CACHE_MS = 10_000;

export function createUsers(prisma: PrismaClient) {
  const profiles = createLocalCache<PublicUser | null>({ ttlMs: PROFILE_CACHE_MS, max: 10_000 });
  return {
    /**
     * The profile for token and userinfo claims, cached briefly per process; a person disabled
     * or deleted is dropped at once on every instance (app.ts relays the revocation).
     */
    async profile(id: string): Promise<PublicUser | null> {
      return profiles.getOrLoad(id, async () => {
        const row = await prisma.user.findUnique({ where: { id } });
        // A disabled person is nobody to oidc-provider: no tokens are issued or refreshed for them.
        return row && !row.disabledAt ? publicUser(row) : null;
      });
    },

    /** May this person sign in now? Read fresh (no cache): the login core asks once per completion. */
    async canSignIn(id: string): Promise<boolean> {
      const row = await prisma.user.findUnique({ where: { id }, select: { disabledAt: true } });
      return !!row && !row.disabledAt;
    },

    /** Drops a cached profile (a person disabled or deleted, on any instance): the next lookup reads the database. */
    forgetProfile(id: string): void {
      profiles.delete(id);
    },
    forgetAllProfiles(): void {
      profiles.deleteWhere(() => true);
    },

    /** A new person; without a password they sign in only with a passkey or a linked identity. */
    async register(input: { username: string; password?: string | null; nickname?: string; picture?: string | null }): Promise<PublicUser> {
      const passwordHash = input.password ? await hashPassword(input.password) : null;
      try {
        const row = await prisma.user.create({
          data: {
            id: `usr_${nanoid(16)}`,
            username: input.username.toLowerCase(),
            passwordHash,
            nickname: input.nickname ?? input.username,
            picture: input.picture ?? null,
          },
        });
        return publicUser(row);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw accountError('username_taken');
        throw err;
      }
    },

    /**
     * Checks a password; the same work is done for unknown users (and people without one) so
     * timing reveals nothing. A disabled account is said so only to whoever knows its password.
     */
    async authenticate(username: string, password: string): Promise<PublicUser | null> {
      const row = await prisma.user.findUnique({ where: { username: username.toLowerCase() } });
      const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_PASSWORD_HASH);
      if (!row?.passwordHash || !ok) return null;
      if (row.disabledAt) throw accountError('account_disabled');
      return publicUser(row);
    },

    /** The person, who may sign in: 404 when gone, 403 when disabled. */
    async active(id: string): Promise<PublicUser> {
      const row = await prisma.user.findUnique({ where: { id } });
      if (!row) throw accountError('account_not_found');
      if (row.disabledAt) throw accountError('account_disabled');
      return publicUser(row);
    },

    /** Forget a cached profile on this instance (after an edit or a disable). */
    forget: (id: string) => profiles.delete(id),

    async byId(id: string): Promise<PublicUser | null> {
      const row = await prisma.user.findUnique({ where: { id } });
      return row ? publicUser(row) : null;
    },

    /** A new password for a person (the demo's seed; people's own changes come through their sessions). */
    async setPassword(id: string, password: string): Promise<void> {
      await prisma.user.update({ where: { id }, data: { passwordHash: await hashPassword(password) } });
    },

    async byUsername(username: string): Promise<PublicUser | null> {
      const row = await prisma.user.findUnique({ where: { username: username.toLowerCase() } });
      return row ? publicUser(row) : null;
    },
  };
}
