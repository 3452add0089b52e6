import { nanoid } from 'nanoid';
import { z } from 'zod';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '../accounts/passwords.js';
import { usernameSchema } from '../accounts/users.js';
import { AppError, notFound } from '../errors.js';
import { adminError } from './error-codes.js';
import { parseWith } from '../http/guard.js';
import type { Logger } from '../log.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/** Admins guard every app's secrets: longer passwords than phone users'. */
const adminPasswordSchema = z.string().min(12, 'password must be at least 12 characters').max(256, 'password must be at most 256 characters');
export const adminCreateSchema = z.strictObject({ username: usernameSchema, password: adminPasswordSchema });
export const adminPasswordBody = z.strictObject({ password: adminPasswordSchema });

type Row = { id: string; username: string; createdAt: Date; disabledAt: Date | null };
const publicAdmin = (a: Row) => ({
  id: a.id,
  username: a.username,
  status: a.disabledAt ? ('disabled' as const) : ('active' as const),
  createdAt: a.createdAt.toISOString(),
  disabledAt: a.disabledAt?.toISOString() ?? null,
});
export type PublicAdmin = ReturnType<typeof publicAdmin>;

export type AdminAccounts = ReturnType<typeof createAdminAccounts>;

/** Admin accounts: who may sign in to the console. Passwords are scrypt hashes (accounts/passwords.ts). */
export function createAdminAccounts(prisma: PrismaClient) {
  /** By id or username (the CLI names admins by username). */
  async function mustFind(ref: string) {
    const row = await prisma.adminAccount.findFirst({ where: { OR: [{ id: ref }, { username: ref.toLowerCase() }] } });
    if (!row) throw notFound(`No admin "${ref}".`);
    return row;
  }

  return {
    async create(raw: unknown) {
      const input = parseWith(adminCreateSchema, raw ?? {});
      try {
        const row = await prisma.adminAccount.create({
          data: { id: `adm_${nanoid(16)}`, username: input.username.toLowerCase(), passwordHash: await hashPassword(input.password) },
        });
        return publicAdmin(row);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw adminError('admin_exists', `An admin "${input.username.toLowerCase()}" already exists.`);
        throw err;
      }
    },

    async list() {
      return (await prisma.adminAccount.findMany({ orderBy: { createdAt: 'asc' } })).map(publicAdmin);
    },

    async get(ref: string) {
      return publicAdmin(await mustFind(ref));
    },

    /**
     * The admin behind a console session started at `since`, or null once disabled or deleted,
     * or when their password changed after the session began (the change signs out the others).
     */
    async active(id: string, since?: number) {
      const row = await prisma.adminAccount.findUnique({ where: { id } });
      if (!row || row.disabledAt) return null;
      if (since !== undefined && row.passwordChangedAt && row.passwordChangedAt.getTime() > since) return null;
      return publicAdmin(row);
    },

    /** Checks a password; unknown and disabled admins cost the same scrypt work, so timing reveals nothing. */
    async authenticate(username: string, password: string) {
      const row = await prisma.adminAccount.findUnique({ where: { username: username.trim().toLowerCase() } });
      const ok = await verifyPassword(password, row?.passwordHash ?? DUMMY_PASSWORD_HASH);
      return row && ok && !row.disabledAt ? publicAdmin(row) : null;
    },

    /**
     * Disabling ends that admin's console sessions at their next request (sessions re-read the
     * account). The last active admin cannot be disabled from here: nobody could sign in after.
     */
    async setDisabled(ref: string, disabled: boolean) {
      const row = await mustFind(ref);
      if (disabled && !row.disabledAt) {
        const others = await prisma.adminAccount.count({ where: { disabledAt: null, id: { not: row.id } } });
        if (others === 0) throw adminError('last_admin', `"${row.username}" is the only active admin; create another admin before disabling this one.`);
      }
      const updated = await prisma.adminAccount.update({ where: { id: row.id }, data: { disabledAt: disabled ? (row.disabledAt ?? new Date()) : null } });
      return publicAdmin(updated);
    },

    /** A new password; every console session that admin had ends (sessions re-read the account). */
    async setPassword(ref: string, raw: unknown) {
      const { password } = parseWith(adminPasswordBody, raw ?? {});
      const row = await mustFind(ref);
      await prisma.adminAccount.update({ where: { id: row.id }, data: { passwordHash: await hashPassword(password), passwordChangedAt: new Date() } });
      return publicAdmin(row);
    },

    /**
     * Deletes an admin: their console sessions end and the admin tokens they own are deleted
     * with them (foreign key, ON DELETE CASCADE). Never the last active admin.
     */
    async remove(ref: string) {
      const row = await mustFind(ref);
      const others = await prisma.adminAccount.count({ where: { disabledAt: null, id: { not: row.id } } });
      if (others === 0) throw adminError('last_admin', `"${row.username}" is the only active admin; create another admin before deleting this one.`);
      await prisma.adminAccount.delete({ where: { id: row.id } });
      return publicAdmin(row);
    },
  };
}

export interface BootstrapEnv {
  ADMIN_BOOTSTRAP_USERNAME?: string;
  ADMIN_BOOTSTRAP_PASSWORD?: string;
}

/**
 * First start: when ADMIN_BOOTSTRAP_USERNAME and ADMIN_BOOTSTRAP_PASSWORD are set and no admin
 * exists yet, create that admin. Never touches an existing admin (changing the variables later
 * does nothing), so the variables can stay in a deployment's environment. Instances starting
 * together race on the unique username; the loser sees "exists".
 */
export async function bootstrapAdmin(prisma: PrismaClient, env: BootstrapEnv, log?: Logger): Promise<'created' | 'exists' | 'skipped'> {
  const username = env.ADMIN_BOOTSTRAP_USERNAME?.trim();
  const password = env.ADMIN_BOOTSTRAP_PASSWORD;
  if (!username && !password) return 'skipped';
  if (!username || !password) throw new Error('ADMIN_BOOTSTRAP_USERNAME and ADMIN_BOOTSTRAP_PASSWORD go together: set both or neither.');
  if ((await prisma.adminAccount.count()) > 0) return 'exists';
  try {
    const admin = await createAdminAccounts(prisma).create({ username, password });
    log?.info({ username: admin.username }, 'created the first admin from ADMIN_BOOTSTRAP_USERNAME');
    return 'created';
  } catch (err) {
    if (err instanceof AppError && err.code === 'admin_exists') return 'exists';
    // A bad bootstrap password must stop the start, saying why (not print a stack of zod).
    if (err instanceof AppError) throw new Error(`ADMIN_BOOTSTRAP_*: ${err.description}`, { cause: err });
    throw err;
  }
}
