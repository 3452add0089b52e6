import { z } from 'zod';
import type { PublicUser } from '../../accounts/users.js';
import type { PublicApp } from '../../apps/registry.js';
import type { IdentitySources } from '../../identity/sources.js';
import { deviceSchema } from '../../mobile/schemas.js';
import type { Keyring } from '../../keys/keyring.js';
import type { PublicAdmin } from '../admins.js';
import type { PublicDeveloper } from '../developers.js';
import type { AdminUsers } from '../people.js';
import type { PublicToken } from '../tokens.js';
import type { Usage } from '../usage.js';

/**
 * What the admin API answers, as zod schemas for its OpenAPI document (openapi.ts). The
 * services shape their answers in plain functions (publicApp, publicToken...); the checks at
 * the bottom fail to compile when a schema and the service's type disagree, and
 * test/admin/openapi.test.ts validates real answers against the document.
 */
const time = z.iso.datetime({ offset: true });
const nullable = <T extends z.ZodType>(s: T) => s.nullable();

export const errorSchema = z.object({
  error: z.string().describe('A code from a closed list, e.g. invalid_request, invalid_token, not_found'),
  error_description: z.string(),
  request_id: z.string().optional().describe('The X-Request-Id of the request (its log lines carry it)'),
});

export const appSchema = z.object({
  appId: z.string(),
  developerId: z.string(),
  name: z.string(),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()).describe('Where RP-initiated logout (/session/end) may send the browser back'),
  callbackDomain: nullable(z.string()),
  logoUrl: nullable(z.string()),
  homepage: nullable(z.string()),
  description: nullable(z.string()),
  status: z.string().describe('active | disabled'),
  tokenEndpointAuthMethod: nullable(z.string()).describe('client_secret_basic | client_secret_post; null: not yet pinned'),
  idTokenSignedResponseAlg: z.string(),
  requirePkce: z.boolean(),
  requireUserVerification: z.boolean().describe("Confirming needs the person's passkey (user verification)"),
  previousSecretExpiresAt: nullable(time).describe('Until when the AppSecret replaced last still works (a grace period), if it does'),
  createdAt: time,
  updatedAt: time,
});
export const createdAppSchema = appSchema.extend({ appSecret: z.string().describe('Shown this once; only its hash is kept') });
export const deletedAppSchema = z.object({
  appId: z.string(),
  name: z.string(),
  deleted: z.literal(true),
  authorizations: z.number().int(),
  grants: z.number().int(),
});
export const rotatedSecretSchema = z.object({
  appId: z.string(),
  appSecret: z.string(),
  previousSecretExpiresAt: nullable(time),
  tokensRevoked: z.boolean(),
  revokedGrants: z.number().int(),
});
const counts = z.object({
  scanned: z.number().int(),
  confirmed: z.number().int(),
  denied: z.number().int(),
  expired: z.number().int(),
  completed: z.number().int(),
});
export const usageSchema = z.object({ appId: z.string(), at: time, last24h: counts, last30d: counts });
export const auditTrailSchema = z.object({
  events: z.array(
    z.object({
      id: z.string(),
      at: time,
      type: z.string(),
      userId: nullable(z.string()),
      appId: nullable(z.string()),
      ip: nullable(z.string()),
      userAgent: nullable(z.string()),
      detail: z.unknown(),
    }),
  ),
  next: nullable(z.string()).describe('Pass as `before` for older events'),
});

const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  nickname: z.string(),
  picture: nullable(z.string()),
  locale: nullable(z.string()),
  createdAt: time,
});
export const appAuthorizationsSchema = z.object({
  authorizations: z.array(z.object({ user: userSchema, scopes: z.array(z.string()), createdAt: time, lastUsedAt: time })),
});
const userAuthorization = z.object({
  appId: z.string(),
  name: z.string(),
  logoUrl: nullable(z.string()),
  homepage: nullable(z.string()),
  scopes: z.array(z.string()),
  createdAt: time,
  lastUsedAt: time,
});
/** A person as admins see them: the profile, whether they may sign in, and (in detail) how. */
const personSchema = userSchema.extend({ status: z.enum(['active', 'disabled']), disabledAt: nullable(time) });
const identitySchema = z.object({
  id: z.string().describe('The link id (to unlink it)'),
  sourceId: z.string(),
  sourceName: z.string(),
  kind: z.string().describe('assertion | oidc'),
  subject: z.string(),
  linkedAt: time,
  lastUsedAt: nullable(time),
});
const signInMethodsSchema = z.object({
  password: z.boolean(),
  passkeys: z.array(z.object({ id: z.string(), name: z.string(), createdAt: time, lastUsedAt: nullable(time), backedUp: z.boolean() })),
  identities: z.array(identitySchema),
});
export const userDetailSchema = personSchema.extend({
  signInMethods: signInMethodsSchema,
  authorizations: z.array(userAuthorization),
  devices: z.array(deviceSchema.omit({ current: true })).describe('Devices signed in now, last used first'),
});
export const signedOutDeviceSchema = z.object({ userId: z.string(), username: z.string(), deviceId: z.string(), signedOut: z.literal(true) });
export const userListSchema = z.object({ users: z.array(personSchema.extend({ authorizations: z.number().int().describe('Active authorizations') })) });
export const userStatusSchema = userDetailSchema.extend({
  devicesSignedOut: z.number().int().describe('Device sessions ended (disable)'),
  grantsRevoked: z.number().int().describe("Sites' grants revoked (disable)"),
});
export const deletedUserSchema = z.object({
  id: z.string(),
  username: z.string(),
  deleted: z.literal(true),
  devicesSignedOut: z.number().int(),
  grantsRevoked: z.number().int(),
});
export const identityListSchema = z.object({ identities: z.array(identitySchema) });
export const linkedSchema = z.object({ userId: z.string(), username: z.string(), identity: identitySchema });
export const unlinkedSchema = z.object({ userId: z.string(), username: z.string(), linkId: z.string(), unlinked: z.literal(true) });

/** Identity sources: trusted sign-in (assertion) or federated sign-in (oidc); never a client secret. */
const sourceCommon = {
  id: z.string(),
  name: z.string(),
  status: z.string().describe('active | disabled'),
  issuer: z.string(),
  links: z.number().int().optional(),
  createdAt: time,
  updatedAt: time,
};
export const identitySourceSchema = z.union([
  z.object({
    ...sourceCommon,
    kind: z.literal('assertion'),
    audience: nullable(z.string()),
    jwksUrl: nullable(z.string()),
    jwks: z.unknown().describe('Inline public keys (a JWK Set), or null'),
    algorithms: z.array(z.string()),
  }),
  z.object({
    ...sourceCommon,
    kind: z.literal('oidc'),
    clientId: nullable(z.string()),
    hasClientSecret: z.boolean(),
    scopes: z.array(z.string()),
    redirectUri: z.string().describe('Register it at the provider'),
  }),
]);
export const deletedSourceSchema = z.object({ id: z.string(), name: z.string(), links: z.number().int(), deleted: z.literal(true) });
export const userAuthorizationsSchema = z.object({ authorizations: z.array(userAuthorization) });
export const revokedSchema = z.object({ userId: z.string(), username: z.string(), appId: z.string(), revoked: z.literal(true) });

export const developerSchema = z.object({ id: z.string(), name: z.string(), createdAt: time, apps: z.number().int() });
export const deletedDeveloperSchema = z.object({ id: z.string(), deleted: z.literal(true) });

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'expired', 'revoked']),
  createdBy: z.string(),
  ownerId: nullable(z.string()),
  createdAt: time,
  expiresAt: nullable(time),
  lastUsedAt: nullable(time),
  revokedAt: nullable(time),
});
export const createdTokenSchema = tokenSchema.extend({ token: z.string().describe('sat_…: shown this once; only its hash is kept') });

export const adminSchema = z.object({
  id: z.string(),
  username: z.string(),
  status: z.enum(['active', 'disabled']),
  createdAt: time,
  disabledAt: nullable(time),
});
export const deletedAdminSchema = adminSchema.extend({ deleted: z.literal(true) });

export const keySchema = z.object({
  id: z.string().describe('The JWK kid (signing) or the cookie key id'),
  kind: z.enum(['signing', 'cookie']),
  alg: nullable(z.string()),
  kty: nullable(z.string()),
  crv: nullable(z.string()),
  state: z.enum(['pending', 'active', 'retiring', 'retired']),
  publishAt: time,
  activeAt: time,
  retireAt: nullable(time),
});
export const rotatedKeysSchema = z.object({ created: z.array(keySchema), replaced: z.array(keySchema) });
export const removedKeySchema = z.object({
  removed: keySchema,
  signing: nullable(keySchema).describe('The key that signs in its place (null: the removed one did not sign)'),
});

// ── Each schema against the service's own type: a change to either without the other fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <A, B>(ok: Same<A, B>) => ok;
type Out<S extends z.ZodType> = z.output<S>;
same<Out<typeof appSchema>, PublicApp>(true);
same<Out<typeof userSchema>, PublicUser>(true);
same<Out<typeof developerSchema>, PublicDeveloper>(true);
same<Out<typeof tokenSchema>, PublicToken>(true);
same<Out<typeof adminSchema>, PublicAdmin>(true);
same<Out<typeof usageSchema>, Awaited<ReturnType<Usage['forApp']>>>(true);
same<Out<typeof userDetailSchema>, Awaited<ReturnType<AdminUsers['get']>>>(true);
same<Out<typeof userListSchema>['users'], Awaited<ReturnType<AdminUsers['search']>>>(true);
same<Out<typeof appAuthorizationsSchema>['authorizations'], Awaited<ReturnType<AdminUsers['ofApp']>>>(true);
same<Out<typeof revokedSchema>, Awaited<ReturnType<AdminUsers['revoke']>>>(true);
same<Out<typeof signedOutDeviceSchema>, Awaited<ReturnType<AdminUsers['signOutDevice']>>>(true);
same<Out<typeof userStatusSchema>, Awaited<ReturnType<AdminUsers['setDisabled']>>>(true);
same<Out<typeof deletedUserSchema>, Awaited<ReturnType<AdminUsers['remove']>>>(true);
same<Out<typeof linkedSchema>, Awaited<ReturnType<AdminUsers['link']>>>(true);
same<Out<typeof unlinkedSchema>, Awaited<ReturnType<AdminUsers['unlink']>>>(true);
same<Out<typeof deletedSourceSchema>, Awaited<ReturnType<IdentitySources['delete']>>>(true);
same<Out<typeof keySchema>[], Awaited<ReturnType<Keyring['list']>>>(true);
same<Out<typeof rotatedKeysSchema>, Awaited<ReturnType<Keyring['rotate']>>>(true);
same<Out<typeof removedKeySchema>, Awaited<ReturnType<Keyring['remove']>>>(true);
