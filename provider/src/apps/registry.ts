import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hashSecret, newSecret } from '../accounts/secrets.js';
import { commonError, notFound } from '../errors.js';
import { parseWith } from '../http/guard.js';
import { defaultIdTokenAlg, ID_TOKEN_ALGS, type IdTokenAlg } from '../oidc/keys.js';
import type { PrismaClient } from '../storage/generated/client.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Redirect URIs: absolute, https (http only for loopback development), no fragment. */
const redirectUriSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `redirect URI "${value}" is not an absolute URL` });
    return;
  }
  if (url.hash || value.includes('#')) ctx.addIssue({ code: 'custom', message: `redirect URI "${value}" must not contain a fragment` });
  const local = LOCAL_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    ctx.addIssue({ code: 'custom', message: `redirect URI "${value}" must use https (http is allowed for localhost only)` });
  }
});

const optionalUrl = z
  .url()
  .max(2048)
  .refine((v) => /^https?:/.test(v), 'must be an http(s) URL');

/** How an app authenticates at the token endpoint (one per app, enforced: oidc/client-auth.ts). */
const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/**
 * What an admin may set on an app. Unknown fields are refused (a misspelt `redirect_uris` must
 * not be silently dropped); optional fields take null to clear them on update.
 */
/** A yes/no setting: JSON booleans, or the words a CLI flag or a form sends. */
const flagSchema = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false']).transform((v) => v === 'yes' || v === 'true')]);

export const appInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  redirectUris: z.array(redirectUriSchema).min(1, 'at least one redirect URI is required').max(20),
  /** Where RP-initiated logout may return the browser (exact match); same rules as redirect URIs. */
  postLogoutRedirectUris: z.array(redirectUriSchema).max(20).optional(),
  callbackDomain: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9.-]+(:\d+)?$/, 'callback domain is a host name, optionally with a port')
    .nullish(),
  logoUrl: optionalUrl.nullish(),
  homepage: optionalUrl.nullish(),
  description: z.string().max(1000).nullish(),
  developerId: z.string().min(1).max(64).optional(),
  tokenEndpointAuthMethod: z.enum(CLIENT_AUTH_METHODS).optional(),
  idTokenSignedResponseAlg: z.enum(ID_TOKEN_ALGS).optional(),
  /** PKCE (S256) required at /auth: yes for new apps; off for sites that cannot send it (WeChat-style requests are exempt anyway). */
  requirePkce: flagSchema.optional(),
  /** The Confirm tap on the phone needs the person's passkey (user verification), not only their signed-in phone. */
  requireUserVerification: flagSchema.optional(),
});
type AppInput = z.infer<typeof appInputSchema>;

const DEFAULT_DEVELOPER_ID = 'dev_default';

/** Longest grace period a rotated-out AppSecret may keep working: a week. */
const MAX_SECRET_GRACE_SECONDS = 7 * 24 * 3600;
export const secretRotationSchema = z.object({
  /**
   * Keep the tokens issued so far. By default a rotation without a grace period revokes them
   * (a leaked secret is the usual reason to rotate); with a grace period they are kept.
   */
  keepTokens: flagSchema.optional(),
  graceSeconds: z.coerce
    .number()
    .int('graceSeconds is a whole number of seconds')
    .min(0, 'graceSeconds cannot be negative')
    .max(MAX_SECRET_GRACE_SECONDS, `graceSeconds is at most ${MAX_SECRET_GRACE_SECONDS} (7 days)`)
    .default(0),
});

/** Pub/sub channel on which every instance hears that an app changed (drop its cached client). */
export const APPS_CHANGED = 'apps-changed';

/** WeChat AppIDs look like wx + 16 hex digits; ours are sm + 16 hex digits (64 random bits). */
const newAppId = () => `sm${randomBytes(8).toString('hex')}`;

type AppRow = Awaited<ReturnType<PrismaClient['app']['findUnique']>> & {};

/** An app as admins see it: everything but the secret hashes. */
function publicApp(a: AppRow, now = Date.now()) {
  const { secretHash: _hidden, previousSecretHash: _previous, previousSecretExpiresAt, ...rest } = a;
  // Only a grace period still running is worth showing.
  const graceUntil = a.previousSecretHash && previousSecretExpiresAt && previousSecretExpiresAt.getTime() > now ? previousSecretExpiresAt.toISOString() : null;
  return { ...rest, previousSecretExpiresAt: graceUntil, createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString() };
}
export type PublicApp = ReturnType<typeof publicApp>;

export type Apps = ReturnType<typeof createApps>;

/**
 * Registering and managing apps. `changed(appId)` tells every instance to drop its cached
 * client (directory.ts) so an edit, a disable or a secret rotation takes effect at once.
 * `revoke(appId)` ends everything issued to the app (oidc/payloads.ts `revokeApp`).
 */
export interface AppRegistryPorts {
  changed?: (appId: string) => Promise<void>;
  revoke: (appId: string) => Promise<number>;
  /** The ID token algorithms the provider has keys for (oidc/keys.ts signingAlgorithms). */
  signingAlgs?: readonly IdTokenAlg[];
}

export function createApps(prisma: PrismaClient, ports: AppRegistryPorts) {
  const changed = ports.changed ?? (async () => {});
  const signingAlgs = ports.signingAlgs ?? ['RS256', 'ES256'];
  /** An app may only pick an algorithm there is a key for, or none of its ID tokens could be signed. */
  function mustHaveKey(alg: IdTokenAlg | undefined) {
    if (alg && !signingAlgs.includes(alg)) {
      throw commonError(
        'invalid_request',
        `idTokenSignedResponseAlg: no signing key for ${alg}; this provider signs with ${signingAlgs.join(', ')} (add a key to JWKS for another).`,
      );
    }
  }

  /**
   * Create-if-missing as one statement (INSERT … ON CONFLICT DO NOTHING): Prisma's upsert is a
   * read then a write, and concurrent first app creations raced it into a unique violation.
   */
  async function ensureDeveloper(id: string) {
    await prisma.developerAccount.createMany({
      data: [{ id, name: id === DEFAULT_DEVELOPER_ID ? 'Default developer account' : id }],
      skipDuplicates: true,
    });
  }

  /** Admins name an existing developer account (a typo must not mint new unionids). */
  async function mustHaveDeveloper(id: string) {
    if (id === DEFAULT_DEVELOPER_ID) return ensureDeveloper(id);
    const found = await prisma.developerAccount.findUnique({ where: { id }, select: { id: true } });
    if (!found) throw commonError('invalid_request', `developerId: no developer account "${id}"; create it first (developers:create).`);
  }

  async function mustFind(appId: string) {
    const app = await prisma.app.findUnique({ where: { appId } });
    if (!app) throw notFound(`No app with AppID "${appId}".`);
    return app;
  }

  return {
    /** The ID token algorithms an app may pick here (those with a key). */
    signingAlgorithms: (): readonly IdTokenAlg[] => signingAlgs,

    /**
     * Creates an app; the returned appSecret is shown this once and stored only as a hash.
     * `strictDeveloper` (the admin surfaces): an unknown developerId is an error instead of a
     * new developer account.
     */
    async create(raw: unknown, opts: { appId?: string; strictDeveloper?: boolean } = {}) {
      const input = parse(raw);
      mustHaveKey(input.idTokenSignedResponseAlg);
      const developerId = input.developerId ?? DEFAULT_DEVELOPER_ID;
      await (opts.strictDeveloper ? mustHaveDeveloper(developerId) : ensureDeveloper(developerId));
      const appSecret = newSecret();
      const app = await prisma.app.create({
        data: {
          appId: opts.appId ?? newAppId(),
          secretHash: hashSecret(appSecret),
          developerId,
          name: input.name,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
          callbackDomain: input.callbackDomain ?? null,
          logoUrl: input.logoUrl ?? null,
          homepage: input.homepage ?? null,
          description: input.description ?? null,
          // New apps are pinned from the start (only apps from before enforcement are not).
          tokenEndpointAuthMethod: input.tokenEndpointAuthMethod ?? 'client_secret_basic',
          idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? defaultIdTokenAlg(signingAlgs),
          requirePkce: input.requirePkce ?? true,
          requireUserVerification: input.requireUserVerification ?? false,
        },
      });
      return { ...publicApp(app), appSecret };
    },

    async list(filter: { developerId?: string } = {}) {
      const rows = await prisma.app.findMany({ where: filter.developerId ? { developerId: filter.developerId } : {}, orderBy: { createdAt: 'asc' } });
      return rows.map((a) => publicApp(a));
    },

    async get(appId: string) {
      return publicApp(await mustFind(appId));
    },

    /**
     * Issues a new AppSecret. Without a grace period the old one stops working at once (every
     * instance is told); with `graceSeconds` it keeps working until then, so a site can deploy
     * the new one first. Only the secret just replaced gets a grace period: rotating again
     * during one ends the older secret at once.
     */
    async rotateSecret(appId: string, raw: unknown = {}) {
      const { graceSeconds, keepTokens } = parseWith(secretRotationSchema, raw ?? {});
      const current = await mustFind(appId);
      const appSecret = newSecret();
      const previousSecretExpiresAt = graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1000) : null;
      await prisma.app.update({
        where: { appId },
        data: { secretHash: hashSecret(appSecret), previousSecretHash: previousSecretExpiresAt ? current.secretHash : null, previousSecretExpiresAt },
      });
      await changed(appId);
      const revokedGrants = graceSeconds === 0 && !keepTokens ? await ports.revoke(appId) : 0;
      return {
        appId,
        appSecret,
        previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null,
        tokensRevoked: graceSeconds === 0 && !keepTokens,
        revokedGrants,
      };
    },

    /**
     * Deletes an app with everything issued to it: authorizations (cascade), grants with their
     * refresh tokens (PostgreSQL) and access tokens (ephemeral store). The row goes first, so
     * no new login can start for it; grants that raced in are swept after. The audit trail
     * keeps its events (they name the AppID as text).
     */
    async delete(appId: string) {
      const app = await mustFind(appId);
      const authorizations = await prisma.authorization.count({ where: { appId, revokedAt: null } });
      await prisma.app.delete({ where: { appId } });
      await changed(appId);
      const grants = await ports.revoke(appId);
      return { appId, name: app.name, deleted: true as const, authorizations, grants };
    },

    async setStatus(appId: string, status: 'active' | 'disabled') {
      await mustFind(appId);
      const app = await prisma.app.update({ where: { appId }, data: { status } });
      await changed(appId);
      return publicApp(app);
    },

    /**
     * Pins an app that is not yet pinned (from before enforcement) to the method it just used
     * successfully. Conditional: of two first uses at once, one pins; true when this call did.
     */
    async pinAuthMethod(appId: string, method: ClientAuthMethod): Promise<boolean> {
      const { count } = await prisma.app.updateMany({ where: { appId, tokenEndpointAuthMethod: null }, data: { tokenEndpointAuthMethod: method } });
      if (count) await changed(appId);
      return count > 0;
    },

    async update(appId: string, raw: unknown) {
      await mustFind(appId);
      const input = parse(raw, true);
      mustHaveKey(input.idTokenSignedResponseAlg);
      if (input.developerId) await mustHaveDeveloper(input.developerId);
      const app = await prisma.app.update({ where: { appId }, data: input });
      await changed(appId);
      return publicApp(app);
    },
  };
}

function parse(raw: unknown, partial?: false): AppInput;
function parse(raw: unknown, partial: true): Partial<AppInput>;
function parse(raw: unknown, partial = false) {
  return parseWith(partial ? appInputSchema.partial() : appInputSchema, raw);
}
