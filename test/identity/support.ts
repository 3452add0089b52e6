/**
 * An organisation as the identity tests play it: its backend's signing keys, the assertions
 * it signs about its users, and the phone API calls its mobile app makes with them.
 */
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { nanoid } from 'nanoid';
import { contractFetch } from '../support/contract.js';
import { freePort } from '../support/services.js';

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: 'RS256' | 'ES256', kid = `${alg.toLowerCase()}-${nanoid(6)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** What a well-behaved backend signs: iss, aud, sub, jti, iat, exp (2 minutes), and a profile. */
export function assertion(
  key: SigningKey,
  claims: Record<string, unknown> & { iss: string; aud: string; sub: string },
  opts: { expiresIn?: number; header?: Record<string, unknown> } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: nanoid(), iat: now, exp: now + (opts.expiresIn ?? 120), ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...opts.header })
    .sign(key.privateKey);
}

/** A JWT with a header and payload of our choosing and a signature made by `sign` (or none). */
export function rawJwt(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string = () => ''): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}

/** The organisation's app exchanging an assertion at the phone API (checked against the contract). */
export function signInWithAssertion(issuer: string, source: string, jwt: string, deviceName = 'Acme Bank on iPhone') {
  return contractFetch(issuer, `${issuer}/api/mobile/login/assertion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ source, assertion: jwt, deviceName }),
  });
}

/** The organisation publishing its public keys at a JWKS URL; `keys` can change (rotation). */
export async function jwksServer(initial: JWK[]) {
  let keys = initial;
  let fetches = 0;
  /** Filler in the key set, sent whole (Content-Length) or streamed (chunked, no length). */
  let padding: { bytes: number; chunked: boolean } | null = null;
  const port = await freePort();
  const server = http.createServer((_req, res) => {
    fetches++;
    const body = JSON.stringify({ keys, ...(padding ? { filler: 'x'.repeat(padding.bytes) } : {}) });
    if (!padding?.chunked) return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    res.writeHead(200, { 'content-type': 'application/json' });
    for (let i = 0; i < body.length; i += 16_384) res.write(body.slice(i, i + 16_384));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${port}/.well-known/jwks.json`,
    setKeys: (next: JWK[]) => void (keys = next),
    setPadding: (next: { bytes: number; chunked: boolean } | null) => void (padding = next),
    fetches: () => fetches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
