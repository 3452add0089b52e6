import { nanoid } from 'nanoid';
import { accountError } from '../accounts/error-codes.js';
import { publicUser, type PublicUser } from '../accounts/users.js';
import type { PrismaClient } from '../storage/generated/client.ts';
import { identityError } from './error-codes.js';
import type { SourceRecord } from './sources.js';

/** What a source says about the person, beyond who they are; kept only when well-formed. */
export type ClaimedProfile = { nickname?: unknown; name?: unknown; preferred_username?: unknown; picture?: unknown } & Record<string, unknown>;

const clean = (v: unknown, max: number) =>
  typeof v === 'string'
    ? v
        .replace(/\p{Cc}/gu, '')
        .trim()
        .slice(0, max)
    : '';
const nicknameOf = (c: ClaimedProfile) => clean(c.nickname, 64) || clean(c.name, 64) || clean(c.preferred_username, 64) || null;
function pictureOf(c: ClaimedProfile): string | null {
  if (typeof c.picture !== 'string' || c.picture.length > 2048) return null;
  try {
    return ['https:', 'http:'].includes(new URL(c.picture).protocol) ? c.picture : null;
  } catch {
    return null;
  }
}

/** A username for someone who never chose one: the source's id and random letters (3–32 of [a-z0-9._-]). */
const generatedUsername = (sourceId: string) =>
  `${sourceId}.${nanoid(10)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')}`;

export type IdentityLinks = ReturnType<typeof createIdentityLinks>;

/**
 * People ↔ (source, subject). Signing in with a source finds the person linked to that
 * subject, or provisions one (no password: they sign in through the source, or later with a
 * passkey), and refreshes their nickname and picture from what the source says.
 */
export function createIdentityLinks(prisma: PrismaClient) {
  async function linked(sourceId: string, subject: string) {
    return prisma.identityLink.findUnique({ where: { sourceId_subject: { sourceId, subject } }, include: { user: true } });
  }

  return {
    /** The person this (source, subject) signs in as; provisioned on first sign-in. Disabled people are refused. */
    async signInAs(source: SourceRecord, subject: string, claims: ClaimedProfile): Promise<PublicUser> {
      const nickname = nicknameOf(claims);
      const picture = pictureOf(claims);
      let link = await linked(source.id, subject);
      if (!link) {
        try {
          const now = new Date();
          link = await prisma.identityLink.create({
            data: {
              id: `idl_${nanoid(16)}`,
              subject,
              createdAt: now,
              lastUsedAt: now,
              source: { connect: { id: source.id } },
              user: {
                create: {
                  id: `usr_${nanoid(16)}`,
                  username: generatedUsername(source.id),
                  passwordHash: null,
                  nickname: nickname ?? `${source.name} user`.slice(0, 64),
                  picture,
                },
              },
            },
            include: { user: true },
          });
          return publicUser(link.user);
        } catch (err) {
          // A concurrent first sign-in of the same subject provisioned them: use that person.
          if ((err as { code?: string }).code !== 'P2002') throw err;
          link = await linked(source.id, subject);
          if (!link) throw err;
        }
      }
      if (link.user.disabledAt) throw accountError('account_disabled');
      const profile = {
        ...(nickname && nickname !== link.user.nickname ? { nickname } : {}),
        ...(picture && picture !== link.user.picture ? { picture } : {}),
      };
      const [user] = await Promise.all([
        Object.keys(profile).length ? prisma.user.update({ where: { id: link.userId }, data: profile }) : link.user,
        prisma.identityLink.update({ where: { id: link.id }, data: { lastUsedAt: new Date() } }),
      ]);
      return publicUser(user);
    },

    /** An admin links an existing person to (source, subject). */
    async link(userId: string, source: { id: string }, subject: string) {
      try {
        const row = await prisma.identityLink.create({ data: { id: `idl_${nanoid(16)}`, userId, sourceId: source.id, subject }, include: { source: true } });
        return linkView(row);
      } catch (err) {
        if ((err as { code?: string }).code === 'P2002') throw identityError('identity_taken');
        throw err;
      }
    },

    async unlink(userId: string, linkId: string) {
      const { count } = await prisma.identityLink.deleteMany({ where: { id: linkId, userId } });
      if (!count) throw identityError('link_not_found');
    },

    async ofUser(userId: string) {
      const rows = await prisma.identityLink.findMany({ where: { userId }, include: { source: true }, orderBy: { createdAt: 'asc' } });
      return rows.map(linkView);
    },
  };
}

type LinkRow = { id: string; subject: string; createdAt: Date; lastUsedAt: Date | null; source: { id: string; name: string; kind: string } };
const linkView = (r: LinkRow) => ({
  id: r.id,
  sourceId: r.source.id,
  sourceName: r.source.name,
  kind: r.source.kind,
  subject: r.subject,
  linkedAt: r.createdAt.toISOString(),
  lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
});
export type LinkView = ReturnType<typeof linkView>;
