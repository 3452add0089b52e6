import { z } from 'zod';
import type { Authorizations } from '../accounts/authorizations.js';
import type { SignInMethods } from '../accounts/sign-in-methods.js';
import { nicknameSchema, passwordSchema, publicUser, usernameSchema, type Users } from '../accounts/users.js';
import { AppError, notFound } from '../errors.js';
import { parseWith } from '../http/guard.js';
import type { IdentityLinks } from '../identity/links.js';
import { sourceIdSchema } from '../identity/source-input.js';
import type { IdentitySources } from '../identity/sources.js';
import type { DeviceTokens } from '../mobile/device-tokens.js';
import type { PrismaClient } from '../storage/generated/client.ts';

export const userSearchQuery = z.object({
  q: z.string().trim().max(100, 'q is at most 100 characters').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const userCreateSchema = z.strictObject({
  username: usernameSchema,
  nickname: nicknameSchema.optional(),
  /** Optional: without one the person signs in with a linked identity or a passkey. */
  password: passwordSchema.optional(),
  picture: z
    .url()
    .max(2048)
    .refine((v) => /^https?:/.test(v), 'must be an http(s) URL')
    .optional(),
});

export const identityLinkSchema = z.strictObject({
  sourceId: sourceIdSchema,
  subject: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .regex(/^\P{Cc}*$/u, 'subject must not contain control characters'),
});

/** What people management needs besides the database: who signs in, and what to end when someone goes. */
export interface PeopleDeps {
  users: Users;
  devices: DeviceTokens;
  /** Ends everything issued to a person at every site (oidc/payloads.ts). */
  payloads: { revokePerson(accountId: string): Promise<number> };
  links: IdentityLinks;
  sources: IdentitySources;
  methods: SignInMethods;
}

export type AdminUsers = ReturnType<typeof createAdminUsers>;

type Row = Parameters<typeof publicUser>[0] & { disabledAt: Date | null };
const withStatus = (u: Row) => ({
  ...publicUser(u),
  status: u.disabledAt ? ('disabled' as const) : ('active' as const),
  disabledAt: u.disabledAt?.toISOString() ?? null,
});

/**
 * People (phone-app users) as admins manage them: search, provision, disable, delete, their
 * linked identities and sign-in methods, their authorizations. Disabling or deleting someone
 * ends their device sessions on every instance at once and everything sites hold for them.
 */
export function createAdminUsers(prisma: PrismaClient, authorizations: Authorizations, people: PeopleDeps) {
  const activeCount = { _count: { select: { authorizations: { where: { revokedAt: null } } } } } as const;

  /** By id or username. */
  async function mustFind(ref: string) {
    const row = await prisma.user.findFirst({ where: { OR: [{ id: ref }, { username: ref.toLowerCase() }] }, include: activeCount });
    if (!row) throw notFound(`No user "${ref}".`);
    return row;
  }

  /** A person's sessions and site tokens end: on every instance, at once. */
  async function endEverything(userId: string) {
    const devicesSignedOut = await people.devices.revokeAllOf(userId);
    const grantsRevoked = await people.payloads.revokePerson(userId);
    people.users.forget(userId);
    return { devicesSignedOut, grantsRevoked };
  }

  async function get(ref: string) {
    const u = await mustFind(ref);
    const [auths, signInMethods, devices] = await Promise.all([authorizations.listForUser(u.id), people.methods.of(u.id), people.devices.listOf(u.id)]);
    return { ...withStatus(u), signInMethods, authorizations: auths, devices };
  }

  return {
    /** Username, nickname or id contains `q` (case-insensitive); newest first. */
    async search(rawQuery: unknown = {}) {
      const { q, limit } = parseWith(userSearchQuery, rawQuery ?? {});
      const where = q
        ? { OR: [{ username: { contains: q, mode: 'insensitive' as const } }, { nickname: { contains: q, mode: 'insensitive' as const } }, { id: q }] }
        : {};
      const rows = await prisma.user.findMany({ where, orderBy: { createdAt: 'desc' }, take: limit, include: activeCount });
      return rows.map((u) => ({ ...withStatus(u), authorizations: u._count.authorizations }));
    },

    get,

    /** A new person (the organisation provisions them before their first sign-in). */
    async create(raw: unknown) {
      const input = parseWith(userCreateSchema, raw ?? {});
      const user = await people.users.register(input);
      return get(user.id);
    },

    /** Disabled: no sign-in by any method, device sessions and site tokens end at once; enabled again: they sign in anew. */
    async setDisabled(ref: string, disabled: boolean) {
      const u = await mustFind(ref);
      await prisma.user.update({ where: { id: u.id }, data: { disabledAt: disabled ? (u.disabledAt ?? new Date()) : null } });
      const ended = disabled ? await endEverything(u.id) : { devicesSignedOut: 0, grantsRevoked: 0 };
      people.users.forget(u.id);
      return { ...(await get(u.id)), ...ended };
    },

    /** Deleted: sessions and tokens end first, then the person and everything of theirs (links, passkeys, authorizations). */
    async remove(ref: string) {
      const u = await mustFind(ref);
      const ended = await endEverything(u.id);
      await prisma.user.deleteMany({ where: { id: u.id } });
      return { id: u.id, username: u.username, deleted: true as const, ...ended };
    },

    async link(ref: string, raw: unknown) {
      const u = await mustFind(ref);
      const input = parseWith(identityLinkSchema, raw ?? {});
      const source = await people.sources.show(input.sourceId); // 404 unknown_source
      return { userId: u.id, username: u.username, identity: await people.links.link(u.id, source, input.subject) };
    },

    async unlink(ref: string, linkId: string) {
      const u = await mustFind(ref);
      await people.links.unlink(u.id, linkId);
      return { userId: u.id, username: u.username, linkId, unlinked: true as const };
    },

    /** Who has authorized an app (active authorizations), most recent first. */
    async ofApp(appId: string, limit = 100) {
      const rows = await prisma.authorization.findMany({
        where: { appId, revokedAt: null },
        include: { user: true },
        orderBy: { lastUsedAt: 'desc' },
        take: limit,
      });
      return rows.map((r) => ({ user: publicUser(r.user), scopes: r.scopes, createdAt: r.createdAt.toISOString(), lastUsedAt: r.lastUsedAt.toISOString() }));
    },

    /** Signs out one of a person's devices (a phone they lost), on every instance at once. */
    async signOutDevice(ref: string, deviceId: string) {
      const u = await mustFind(ref);
      if (!(await people.devices.revokeOwn(u.id, deviceId))) throw notFound(`${u.username} has no device "${deviceId}" signed in.`);
      return { userId: u.id, username: u.username, deviceId, signedOut: true as const };
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
