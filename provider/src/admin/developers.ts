import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { notFound } from '../errors.js';
import { adminError } from './error-codes.js';
import { parseWith } from '../http/guard.js';
import type { PrismaClient } from '../storage/generated/client.ts';

/**
 * Developer accounts own apps and scope `unionid`: one person has one unionid across all apps
 * of one developer account and a different one under every other account
 * (accounts/identifiers.ts derives it from the account id, so ids never change).
 */
const developerId = z.string().regex(/^[A-Za-z0-9_-]{3,64}$/, 'developer id: 3–64 letters, digits, "_" or "-"');
export const developerCreateSchema = z.strictObject({ id: developerId.optional(), name: z.string().trim().min(1, 'name is required').max(100) });
export const developerUpdateSchema = z.strictObject({ name: z.string().trim().min(1, 'name is required').max(100) });

type Row = { id: string; name: string; createdAt: Date; _count?: { apps: number } };
const publicDeveloper = (d: Row) => ({ id: d.id, name: d.name, createdAt: d.createdAt.toISOString(), apps: d._count?.apps ?? 0 });
export type PublicDeveloper = ReturnType<typeof publicDeveloper>;

export type Developers = ReturnType<typeof createDevelopers>;

export function createDevelopers(prisma: PrismaClient) {
  const withCount = { _count: { select: { apps: true } } } as const;

  async function mustFind(id: string) {
    const row = await prisma.developerAccount.findUnique({ where: { id }, include: withCount });
    if (!row) throw notFound(`No developer account "${id}".`);
    return row;
  }

  return {
    async create(raw: unknown) {
      const input = parseWith(developerCreateSchema, raw ?? {});
      try {
        const row = await prisma.developerAccount.create({
          data: { id: input.id ?? `dev_${randomBytes(6).toString('hex')}`, name: input.name },
          include: withCount,
        });
        return publicDeveloper(row);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw adminError('developer_exists', `A developer account "${input.id}" already exists.`);
        throw err;
      }
    },

    async list() {
      return (await prisma.developerAccount.findMany({ orderBy: { createdAt: 'asc' }, include: withCount })).map(publicDeveloper);
    },

    async get(id: string) {
      return publicDeveloper(await mustFind(id));
    },

    async update(id: string, raw: unknown) {
      const input = parseWith(developerUpdateSchema, raw ?? {});
      await mustFind(id);
      return publicDeveloper(await prisma.developerAccount.update({ where: { id }, data: { name: input.name }, include: withCount }));
    },

    /** Only an account without apps: deleting one would orphan its apps' unionids. */
    async delete(id: string) {
      const row = await mustFind(id);
      if (row._count.apps > 0) {
        throw adminError(
          'developer_has_apps',
          `Developer account "${id}" still owns ${row._count.apps} app(s); delete them or move them to another account first.`,
        );
      }
      try {
        // The foreign key makes this conditional: an app created meanwhile fails it instead of being orphaned.
        await prisma.developerAccount.delete({ where: { id } });
      } catch (err) {
        if ((err as { code?: string }).code === 'P2003') throw adminError('developer_has_apps', `Developer account "${id}" now owns an app.`);
        throw err;
      }
      return { id, deleted: true as const };
    },
  };
}
