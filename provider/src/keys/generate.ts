import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { nanoid } from 'nanoid';

/** A key's slot (schedule.ts): what can replace it. Signing: key type, curve and alg. */
export const signingSlot = (jwk: JWK) => `${jwk.kty}:${jwk.crv ?? ''}:${jwk.alg ?? ''}`;
export const COOKIE_SLOT = 'cookie';

const ALG_OF_CURVE: Record<string, string> = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512', Ed25519: 'Ed25519' };
const PREFIX: Record<string, string> = { RSA: 'rs', EC: 'es', OKP: 'ed' };

const stamp = () => `${Date.now().toString(36)}-${nanoid(6).replace(/[^A-Za-z0-9]/g, 'x')}`;

/** The public half of a private JWK (what the JWKS and listings show). */
export function publicJwk(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk as JWK & { oth?: unknown };
  return pub;
}

/** A new private signing key shaped like `like` (same type, curve or modulus size, and alg). */
export async function signingKeyLike(like: JWK): Promise<JWK> {
  const alg = like.kty === 'RSA' ? (like.alg ?? 'RS256') : ALG_OF_CURVE[like.crv ?? ''];
  if (!alg) throw new Error(`cannot make a key like ${like.kid}: unsupported ${like.kty} ${like.crv ?? ''}`);
  const modulusLength = like.kty === 'RSA' && like.n ? Math.max(2048, Buffer.from(like.n, 'base64url').length * 8) : undefined;
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(modulusLength ? { modulusLength } : {}) });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `${PREFIX[like.kty ?? ''] ?? 'k'}-${stamp()}`, use: 'sig', ...(like.alg ? { alg: like.alg } : {}) };
}

/** A new cookie key: 256 random bits. */
export const cookieKey = () => ({ id: `ck-${stamp()}`, secret: randomBytes(32).toString('base64url') });
