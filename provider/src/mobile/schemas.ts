import { z } from 'zod';

/**
 * The phone API's shapes, as zod: request schemas parse input at the edge, response schemas
 * are the documented contract (mobile/api.ts → /api/mobile/openapi.json), checked against real
 * responses by the e2e tests.
 */

/** No control characters (PostgreSQL text refuses NUL; none belongs in a name). */
export const printable = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^\P{Cc}*$/u, 'must not contain control characters');
export const deviceNameSchema = printable(100).describe('How this device appears in the account\'s activity, e.g. "Acme Bank on iPhone"');
const isoTime = z.string().describe('ISO 8601 time, UTC');

export const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  nickname: z.string(),
  picture: z.string().nullable(),
  locale: z.string().nullable(),
  createdAt: isoTime,
});

export const signedInSchema = z.object({ token: z.string().describe('The device token: send it as `Authorization: Bearer …`'), user: userSchema });

export const passkeySchema = z.object({ id: z.string(), name: z.string(), createdAt: isoTime, lastUsedAt: isoTime.nullable(), backedUp: z.boolean() });

const identitySchema = z.object({
  id: z.string(),
  sourceId: z.string(),
  sourceName: z.string(),
  kind: z.enum(['assertion', 'oidc']),
  subject: z.string(),
  linkedAt: isoTime,
  lastUsedAt: isoTime.nullable(),
});

const signInMethodsSchema = z.object({
  password: z.boolean().describe('The account has a Saoma password'),
  passkeys: z.array(passkeySchema),
  identities: z.array(identitySchema).describe('The organisation identities that sign in as this account'),
});

export const meSchema = z.object({ user: userSchema, signInMethods: signInMethodsSchema });

export const scanSchema = z.object({
  qrId: z.string(),
  app: z.object({ appId: z.string(), name: z.string(), logoUrl: z.string().nullable(), homepage: z.string().nullable(), domain: z.string().nullable() }),
  scopes: z.array(z.string()),
  requester: z.object({ ip: z.string(), userAgent: z.string(), createdAt: isoTime, sameNetworkAsPhone: z.boolean() }),
  expiresAt: isoTime,
  passkeyRequired: z.boolean().describe('Confirming needs a fresh passkey assertion (POST …/confirm/options, then …/confirm with `passkey`)'),
});

export const decisionSchema = z.object({ status: z.enum(['confirmed', 'denied']) });

export const snapshotSchema = z.object({
  qrId: z.string(),
  status: z.enum(['pending', 'scanned', 'confirmed', 'denied', 'expired']),
  expiresAt: z.number().describe('Epoch milliseconds'),
  user: z.object({ nickname: z.string(), picture: z.string().nullable() }).optional(),
});

export const authorizationSchema = z.object({
  appId: z.string(),
  name: z.string(),
  logoUrl: z.string().nullable(),
  homepage: z.string().nullable(),
  scopes: z.array(z.string()),
  createdAt: isoTime,
  lastUsedAt: isoTime,
});

export const deviceSchema = z.object({
  id: z.string(),
  name: z.string().nullable().describe('The deviceName it signed in with'),
  signedInAt: isoTime,
  lastUsedAt: isoTime.describe('Refreshed at most every 5 minutes'),
  current: z.boolean().describe('The device asking'),
});

export const activitySchema = z.object({
  id: z.string(),
  at: isoTime,
  type: z.string().describe('e.g. device.login, qr.scanned, qr.confirmed, qr.denied, login.completed, authorization.revoked'),
  appId: z.string().nullable(),
  appName: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  detail: z.unknown(),
});
