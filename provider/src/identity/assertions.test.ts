import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createMemoryStore } from '../storage/ephemeral.memory.js';
import { createAssertionVerifier } from './assertions.js';
import { createKeySets } from './key-sets.js';
import type { SourceRecord } from './sources.js';

const NOW = Date.UTC(2026, 11, 8, 12, 0, 0);
const s = (ms: number) => Math.floor(ms / 1000);

async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const source: SourceRecord = {
    id: 'bank',
    name: 'Bank',
    kind: 'assertion',
    issuer: 'https://bank.example',
    audience: 'https://saoma.example',
    jwksUrl: null,
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] },
    algorithms: ['ES256'],
    clientId: null,
    sealedSecret: null,
    scopes: [],
    active: true,
    version: 'bank:1',
  };
  let now = NOW;
  const verify = createAssertionVerifier({ store: createMemoryStore({ now: () => now }), keySets: createKeySets(), now: () => now });
  const sign = (claims: Record<string, unknown> = {}, key: CryptoKey = privateKey) =>
    new SignJWT({ iss: source.issuer, aud: source.audience ?? undefined, sub: 'c1', jti: 'j1', iat: s(NOW), exp: s(NOW) + 120, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(key);
  return { source, verify, sign, at: (ms: number) => void (now = ms) };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof AppError ? err.code : String(err)),
  );

describe('trusted sign-in assertions (memory store, a clock the test moves)', () => {
  it('accepts a well-formed assertion once; of concurrent presentations of one jti exactly one passes', async () => {
    const { source, verify, sign } = await setup();
    const jwt = await sign();
    const results = await Promise.all(Array.from({ length: 20 }, () => codeOf(verify(source, jwt))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'assertion_replayed')).toHaveLength(19);
  });

  it('forgets a jti only once its assertion could no longer pass the exp check', async () => {
    const { source, verify, sign, at } = await setup();
    const jwt = await sign();
    expect(await codeOf(verify(source, jwt))).toBe('ok');
    at(NOW + 140_000); // past exp (120 s) but within the 30 s tolerance: still remembered
    expect(await codeOf(verify(source, jwt))).toBe('assertion_replayed');
    at(NOW + 151_000);
    expect(await codeOf(verify(source, jwt))).toBe('assertion_expired');
  });

  it('checks the lifetime, the time window and the required claims with a 30 s tolerance', async () => {
    const { source, verify, sign, at } = await setup();
    expect(await codeOf(verify(source, await sign({ jti: 'a', exp: s(NOW) + 330 })))).toBe('ok');
    expect(await codeOf(verify(source, await sign({ jti: 'b', exp: s(NOW) + 331 })))).toBe('assertion_lifetime_too_long');
    expect(await codeOf(verify(source, await sign({ jti: 'c', nbf: s(NOW) + 31 })))).toBe('assertion_not_yet_valid');
    expect(await codeOf(verify(source, await sign({ jti: undefined })))).toBe('missing_claim');
    expect(await codeOf(verify(source, await sign({ jti: 'd', sub: '' })))).toBe('missing_claim');
    at(NOW + 200_000);
    expect(await codeOf(verify(source, await sign({ jti: 'e' })))).toBe('assertion_expired');
  });

  it('refuses a disabled source and a source of the other kind before reading the token', async () => {
    const { source, verify, sign } = await setup();
    const jwt = await sign();
    expect(await codeOf(verify({ ...source, active: false }, jwt))).toBe('source_disabled');
    expect(await codeOf(verify({ ...source, kind: 'oidc' }, jwt))).toBe('wrong_source_kind');
    expect(await codeOf(verify(source, jwt))).toBe('ok'); // neither refusal spent the jti
  });
});
