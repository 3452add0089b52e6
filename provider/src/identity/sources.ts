import { nanoid } from 'nanoid';
import { parseWith } from '../http/guard.js';
import type { EphemeralStore } from '../storage/ephemeral.js';
import { Prisma, type IdentitySource as Row, type PrismaClient } from '../storage/generated/client.ts';
import { createLocalCache } from '../storage/local-cache.js';
import { identityError } from './error-codes.js';
import type { SecretBox } from './secret-box.js';
import { sourceInputSchema, sourcePatchSchema, type AssertionAlg, type SourceKind } from './source-input.js';

/** Pub/sub channel: an identity source changed (every instance drops its cached copy). */
const IDENTITY_SOURCES_CHANGED = 'identity-sources-changed';
/** How long an instance reuses a source between changes (a change reaches every instance at once anyway). */
const CACHE_MS = 60_000;

/** A source as verification uses it (the client secret stays sealed until it is sent). */
export interface SourceRecord {
  id: string;
  name: string;
  kind: SourceKind;
  issuer: string;
  audience: string | null;
  jwksUrl: string | null;
  jwks: { keys: Record<string, unknown>[] } | null;
  algorithms: AssertionAlg[];
  clientId: string | null;
  sealedSecret: string | null;
  scopes: string[];
  active: boolean;
  /** Changes on every edit: caches of keys and discovery are keyed by it. */
  version: string;
}

const recordOf = (r: Row): SourceRecord => ({
  id: r.id,
  name: r.name,
  kind: r.kind as SourceKind,
  issuer: r.issuer,
  audience: r.audience,
  jwksUrl: r.jwksUrl,
  jwks: (r.jwks as SourceRecord['jwks']) ?? null,
  algorithms: r.algorithms as AssertionAlg[],
  clientId: r.clientId,
  sealedSecret: r.clientSecretEnc,
  scopes: r.scopes,
  active: r.status === 'active',
  version: `${r.id}:${r.updatedAt.getTime()}`,
});

/** A source as admins see it: never the secret, but whether there is one; where to register Saoma. */
function publicSource(r: Row & { _count?: { links: number } }, saomaIssuer: string) {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as SourceKind,
    status: r.status,
    issuer: r.issuer,
    ...(r.kind === 'assertion'
      ? { audience: r.audience, jwksUrl: r.jwksUrl, jwks: r.jwks ?? null, algorithms: r.algorithms }
      : { clientId: r.clientId, hasClientSecret: !!r.clientSecretEnc, scopes: r.scopes, redirectUri: ssoCallbackUrl(saomaIssuer, r.id) }),
    ...(r._count ? { links: r._count.links } : {}),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
export type PublicSource = ReturnType<typeof publicSource>;

/** Where the organisation's OpenID provider sends people back (register it there). */
export const ssoCallbackUrl = (saomaIssuer: string, sourceId: string) => `${saomaIssuer}/app/sso/${sourceId}/callback`;

export type IdentitySources = Awaited<ReturnType<typeof createIdentitySources>>;

/**
 * The identity source registry: admins' writes, and the cached lookup every sign-in reads.
 * A change on any instance (or from the CLI) is published, and every instance drops its copy
 * at once, so disabling a source stops its sign-ins everywhere at the next request.
 */
export async function createIdentitySources(deps: { prisma: PrismaClient; store: EphemeralStore | null; secrets: SecretBox; issuer: string }) {
  const { prisma, store, secrets } = deps;
  const cache = createLocalCache<SourceRecord | null>({ ttlMs: CACHE_MS, max: 1_000 });
  const changed = async (id: string) => {
    cache.delete(id);
    await store?.publish(IDENTITY_SOURCES_CHANGED, id);
  };
  const stopListening = store ? await store.subscribe(IDENTITY_SOURCES_CHANGED, (id) => cache.delete(id)) : async () => {};
  const stopResubscribed = store?.onResubscribed(() => cache.clear()) ?? (() => {});
  const withLinks = { _count: { select: { links: true } } } as const;
  const shown = (r: Row & { _count?: { links: number } }) => publicSource(r, deps.issuer);

  async function mustFind(id: string) {
    const row = /^[a-z0-9_-]{1,64}$/.test(id) ? await prisma.identitySource.findUnique({ where: { id }, include: withLinks }) : null;
    if (!row) throw identityError('unknown_source', `No identity source "${id}".`);
    return row;
  }

  /** The columns of a validated input; the secret sealed, or kept when not given. */
  function columns(input: ReturnType<typeof parse>, keepSecret: string | null = null) {
    if (input.kind === 'assertion') {
      return {
        name: input.name,
        issuer: input.issuer,
        audience: input.audience,
        jwksUrl: input.jwksUrl ?? null,
        jwks: input.jwks ? (input.jwks as Prisma.InputJsonValue) : Prisma.DbNull,
        algorithms: input.algorithms,
        clientId: null,
        clientSecretEnc: null,
        scopes: [],
      };
    }
    const secret = input.clientSecret === undefined ? keepSecret : input.clientSecret === null ? null : secrets.seal(input.clientSecret);
    return {
      name: input.name,
      issuer: input.issuer.replace(/\/+$/, ''),
      audience: null,
      jwksUrl: null,
      jwks: Prisma.DbNull,
      algorithms: [],
      clientId: input.clientId,
      clientSecretEnc: secret,
      scopes: input.scopes,
    };
  }
  const parse = (raw: unknown) => parseWith(sourceInputSchema, raw);
  const taken = (err: unknown) => (err as { code?: string }).code === 'P2002';

  return {
    // ── reads on the sign-in path ──────────────────────────────────────────────────────────
    /** The source, cached; null when unknown. Disabled sources are returned (the caller says so). */
    async get(id: string): Promise<SourceRecord | null> {
      if (!/^[a-z0-9_-]{1,64}$/.test(id)) return null;
      return cache.getOrLoad(id, async () => {
        const row = await prisma.identitySource.findUnique({ where: { id } });
        return row ? recordOf(row) : null;
      });
    },
    /** Active sources of a kind, for the phone app's sign-in screen. */
    async active(kind: SourceKind) {
      const rows = await prisma.identitySource.findMany({ where: { kind, status: 'active' }, orderBy: { name: 'asc' }, select: { id: true, name: true } });
      return rows;
    },
    clientSecret: (s: SourceRecord) => (s.sealedSecret ? secrets.open(s.sealedSecret) : null),

    // ── administration ─────────────────────────────────────────────────────────────────────
    async create(raw: unknown) {
      const input = parse(raw);
      const id =
        input.id ??
        `${input.kind === 'oidc' ? 'sso' : 'app'}-${nanoid(10)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, 'x')}`;
      try {
        const row = await prisma.identitySource.create({ data: { id, kind: input.kind, ...columns(input) }, include: withLinks });
        return shown(row);
      } catch (err) {
        if (taken(err)) throw identityError('source_exists');
        throw err;
      }
    },
    async list() {
      return (await prisma.identitySource.findMany({ orderBy: { createdAt: 'asc' }, include: withLinks })).map(shown);
    },
    async show(id: string) {
      return shown(await mustFind(id));
    },
    /** Only the fields given change; the result is validated whole, as on creation. */
    async update(id: string, raw: unknown) {
      const patch = parseWith(sourcePatchSchema, raw ?? {});
      const row = await mustFind(id);
      const current = publicSource(row, deps.issuer) as Record<string, unknown>;
      const { id: _id, status: _s, links: _l, createdAt: _c, updatedAt: _u, hasClientSecret: _h, redirectUri: _r, ...base } = current;
      // Switching between a key URL and inline keys replaces the other.
      const swap = patch.jwksUrl && patch.jwks === undefined ? { jwks: null } : patch.jwks && patch.jwksUrl === undefined ? { jwksUrl: null } : {};
      const merged = Object.fromEntries(Object.entries({ ...base, ...swap, ...patch }).filter(([, v]) => v !== undefined));
      const input = parse(merged);
      try {
        const updated = await prisma.identitySource.update({ where: { id }, data: columns(input, row.clientSecretEnc), include: withLinks });
        await changed(id);
        return shown(updated);
      } catch (err) {
        if (taken(err)) throw identityError('source_exists');
        throw err;
      }
    },
    async setStatus(id: string, status: 'active' | 'disabled') {
      await mustFind(id);
      const row = await prisma.identitySource.update({ where: { id }, data: { status }, include: withLinks });
      await changed(id);
      return shown(row);
    },
    /** Deleting a source deletes its links: the people stay, without that way to sign in. */
    async delete(id: string) {
      const row = await mustFind(id);
      await prisma.identitySource.delete({ where: { id } });
      await changed(id);
      return { id, name: row.name, links: row._count.links, deleted: true as const };
    },

    async close() {
      stopResubscribed();
      await stopListening().catch(() => {});
    },
  };
}
