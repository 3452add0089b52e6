import { z } from 'zod';

/**
 * What an admin may set on an identity source, validated once for the admin API, the CLI and
 * the console. Only asymmetric algorithms exist here: `none` would accept anything, and an
 * HMAC algorithm keyed with a public key (the classic "HS256 with the RSA public key" attack)
 * would let anyone who can read the key sign assertions.
 */
export const ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type AssertionAlg = (typeof ASSERTION_ALGS)[number];

export type SourceKind = 'assertion' | 'oidc';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .regex(/^\P{Cc}*$/u, 'must not contain control characters');

/** https, or http on a loopback host (development and tests): keys and tokens travel over it. */
const httpsUrl = (what: string) =>
  z
    .string()
    .max(2048)
    .superRefine((value, ctx) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${what} "${value}" is not an absolute URL` });
        return;
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
        ctx.addIssue({ code: 'custom', message: `${what} must use https (http only for localhost)` });
      }
      if (url.hash || url.username || url.password) ctx.addIssue({ code: 'custom', message: `${what} must not contain a fragment or credentials` });
    });

/** Public keys only: a private key (`d`…) or a shared secret (`oct`, `k`) has no business here. */
const publicJwk = z
  .looseObject({
    kty: z.enum(['RSA', 'EC', 'OKP']),
    kid: z.string().max(256).optional(),
    alg: z.enum(ASSERTION_ALGS).optional(),
    use: z.literal('sig').optional(),
  })
  .refine((k) => !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((f) => f in k), 'keys must be public keys (no private parts)');
const publicJwks = z.object({ keys: z.array(publicJwk).min(1, 'at least one key').max(20) });

export const sourceIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{2,19}$/, 'id is 3–20 lowercase letters, digits, "_" or "-"');

const common = { id: sourceIdSchema.optional(), name: printable(100) };

const assertionSource = z
  .strictObject({
    ...common,
    kind: z.literal('assertion'),
    /** RFC 7519 StringOrURI: the organisation's own name for its signer. */
    issuer: printable(2048),
    audience: printable(2048),
    jwksUrl: httpsUrl('jwksUrl').nullish(),
    jwks: publicJwks.nullish(),
    algorithms: z.array(z.enum(ASSERTION_ALGS)).min(1).max(ASSERTION_ALGS.length).default(['RS256', 'ES256']),
  })
  .refine((s) => !!s.jwksUrl !== !!s.jwks, { error: 'give the public keys either as jwksUrl or as jwks (exactly one)', path: ['jwks'] });

const oidcSource = z.strictObject({
  ...common,
  kind: z.literal('oidc'),
  issuer: httpsUrl('issuer'),
  clientId: printable(255),
  /** Omitted: a public client (PKCE alone). Write-only: never shown again. */
  clientSecret: z.string().min(1).max(1024).nullish(),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/, 'not an OAuth scope'))
    .max(20)
    .default(['openid', 'profile'])
    .transform((s) => [...new Set(['openid', ...s])]),
});

export const sourceInputSchema = z.discriminatedUnion('kind', [assertionSource, oidcSource]);

/** An update names only what changes; `kind` and `id` never do. */
export const sourcePatchSchema = z.strictObject({
  name: z.unknown().optional(),
  issuer: z.unknown().optional(),
  audience: z.unknown().optional(),
  jwksUrl: z.unknown().optional(),
  jwks: z.unknown().optional(),
  algorithms: z.unknown().optional(),
  clientId: z.unknown().optional(),
  clientSecret: z.unknown().optional(),
  scopes: z.unknown().optional(),
});
