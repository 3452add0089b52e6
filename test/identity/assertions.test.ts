/**
 * Trusted sign-in (issue 14 item 1): an organisation's backend signs a short-lived assertion
 * about one of its users, its mobile app exchanges it at POST /api/mobile/login/assertion for a
 * device session, and that phone then approves QR logins like any other.
 */
import { createHmac } from 'node:crypto';
import { exportSPKI, importJWK, type CryptoKey } from 'jose';
import { nanoid } from 'nanoid';
import { MAX_SOURCE_DOCUMENT_BYTES } from '../../provider/src/identity/bounded-fetch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminApi, adminToken } from '../admin/support.js';
import { fullLogin, phoneOf, registerSite } from '../support/flow.js';
import { useProvider, type StorageKind } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { assertion, jwksServer, rawJwt, signingKey, signInWithAssertion, type SigningKey } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const ISS = 'https://api.acme-bank.example';

async function expectRefused(res: Response, status: number, error: string) {
  const body = await res.json();
  expect({ status: res.status, error: body.error }).toEqual({ status, error });
  expect(typeof body.error_description).toBe('string');
}

describe.skipIf(skip).each(['services', 'embedded'] as StorageKind[])("trusted sign-in for the organisation's own app (%s)", (kind) => {
  const p = useProvider(kind);
  let rsa: SigningKey;
  let ec: SigningKey;
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let remote: SigningKey;
  const claims = (sub = `cust-${nanoid(8)}`, extra: Record<string, unknown> = {}) => ({ iss: ISS, aud: p.issuer, sub, ...extra });

  beforeAll(async () => {
    [rsa, ec, remote] = await Promise.all([signingKey('RS256'), signingKey('ES256'), signingKey('ES256')]);
    jwks = await jwksServer([remote.publicJwk]);
    const sources = p.saoma.identity.sources;
    await sources.create({
      id: 'acme-bank',
      kind: 'assertion',
      name: 'Acme Bank',
      issuer: ISS,
      audience: p.issuer,
      jwks: { keys: [rsa.publicJwk, ec.publicJwk] },
    });
    await sources.create({
      id: 'acme-remote',
      kind: 'assertion',
      name: 'Acme (JWKS URL)',
      issuer: 'https://remote.acme.example',
      audience: p.issuer,
      jwksUrl: jwks.url,
      algorithms: ['ES256'],
    });
  });
  afterAll(async () => {
    await jwks.close();
  });

  it('signs a person in, provisioning them by (source, subject), and the device token approves a QR login', async () => {
    const res = await signInWithAssertion(
      p.issuer,
      'acme-bank',
      await assertion(rsa, claims('cust-1001', { name: 'Li Lei', picture: 'https://cdn.acme-bank.example/li.png' })),
    );
    expect(res.status).toBe(200);
    const { token, user } = await res.json();
    expect(token).toMatch(/^sdt_/);
    expect(user).toMatchObject({ nickname: 'Li Lei', picture: 'https://cdn.acme-bank.example/li.png', username: expect.stringMatching(/^acme-bank\./) });

    const phone = phoneOf(p, { token, user });
    const me = await (await phone.call('GET', '/me')).json();
    expect(me.signInMethods).toMatchObject({
      password: false,
      passkeys: [],
      identities: [{ sourceId: 'acme-bank', sourceName: 'Acme Bank', kind: 'assertion', subject: 'cust-1001' }],
    });
    const { config } = await registerSite(p);
    const { claims: idToken } = await fullLogin(p, config, phone);
    expect(idToken.nickname).toBe('Li Lei');
    const trail = await (await phone.call('GET', '/activity')).json();
    expect(trail.events.find((e: { type: string }) => e.type === 'device.login').detail).toMatchObject({
      method: 'assertion',
      source: 'acme-bank',
      deviceName: 'Acme Bank on iPhone',
    });
  });

  it('signs the same subject in as the same person again, refreshing nickname and picture from the claims', async () => {
    const sub = `cust-${nanoid(6)}`;
    const first = await (await signInWithAssertion(p.issuer, 'acme-bank', await assertion(ec, claims(sub, { name: 'Han Meimei' })))).json();
    const again = await (
      await signInWithAssertion(
        p.issuer,
        'acme-bank',
        await assertion(rsa, claims(sub, { nickname: 'Meimei', picture: 'https://cdn.acme-bank.example/m.png' })),
      )
    ).json();
    expect(again.user).toMatchObject({ id: first.user.id, nickname: 'Meimei', picture: 'https://cdn.acme-bank.example/m.png' });
    // A claim that is not a usable picture (or is absent) leaves the profile as it is.
    const third = await (await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(sub, { picture: 'javascript:alert(1)' })))).json();
    expect(third.user).toMatchObject({ id: first.user.id, nickname: 'Meimei', picture: 'https://cdn.acme-bank.example/m.png' });
    // The same subject at another source is another person.
    const other = await (
      await signInWithAssertion(p.issuer, 'acme-remote', await assertion(remote, { iss: 'https://remote.acme.example', aud: p.issuer, sub }))
    ).json();
    expect(other.user.id).not.toBe(first.user.id);
  });

  it('refuses a replayed assertion: of 10 concurrent presentations of one jti exactly one signs in', async () => {
    const jwt = await assertion(rsa, claims());
    const results = await Promise.all(Array.from({ length: 10 }, () => signInWithAssertion(p.issuer, 'acme-bank', jwt)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) await expectRefused(r, 401, 'assertion_replayed');
    // Later, too.
    await expectRefused(await signInWithAssertion(p.issuer, 'acme-bank', jwt), 401, 'assertion_replayed');
  });

  it('refuses each forged, stale or misaddressed assertion with its documented code', async () => {
    const now = Math.floor(Date.now() / 1000);
    // The classic confusion attack: the verifier's public key, in PEM, used as an HMAC secret.
    const pem = await exportSPKI((await importJWK(rsa.publicJwk, 'RS256')) as CryptoKey);
    const hmacWithPublicKey = rawJwt({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' }, { ...claims(), jti: nanoid(), exp: now + 60 }, (input) =>
      createHmac('sha256', pem).update(input).digest('base64url'),
    );
    const otherKey = await signingKey('RS256', rsa.kid); // same kid, another key: a forgery
    const cases: Array<[string, Promise<string> | string, number, string]> = [
      ['alg none', rawJwt({ alg: 'none', typ: 'JWT' }, { ...claims(), jti: nanoid(), exp: now + 60 }), 401, 'unsupported_algorithm'],
      ['HS256 keyed with the public key', hmacWithPublicKey, 401, 'unsupported_algorithm'],
      ['wrong audience', assertion(rsa, { ...claims(), aud: 'https://someone-else.example' }), 401, 'wrong_audience'],
      ['wrong issuer', assertion(rsa, { ...claims(), iss: 'https://evil.example' }), 401, 'wrong_issuer'],
      ['expired', assertion(rsa, claims(), { expiresIn: -120 }), 401, 'assertion_expired'],
      ['exp more than 5 minutes ahead', assertion(rsa, claims(), { expiresIn: 3600 }), 401, 'assertion_lifetime_too_long'],
      ['nbf in the future', assertion(rsa, claims(undefined, { nbf: now + 600 })), 401, 'assertion_not_yet_valid'],
      ['unknown kid', assertion({ ...rsa, kid: 'rotated-away' }, claims()), 401, 'unknown_key'],
      ['signed by another key with the same kid', assertion(otherKey, claims()), 401, 'invalid_signature'],
      ['no jti', assertion(rsa, claims(undefined, { jti: undefined })), 401, 'missing_claim'],
      ['not a JWT', 'not-a-jwt', 401, 'invalid_assertion'],
    ];
    for (const [what, jwt, status, error] of cases) {
      const res = await signInWithAssertion(p.issuer, 'acme-bank', await jwt);
      const body = await res.json();
      expect({ what, status: res.status, error: body.error }).toEqual({ what, status, error });
    }
    // An algorithm the source does not allow, even a strong one jose would accept.
    await expectRefused(
      await signInWithAssertion(
        p.issuer,
        'acme-remote',
        await assertion(await signingKey('RS256', remote.kid), { iss: 'https://remote.acme.example', aud: p.issuer, sub: 'x' }),
      ),
      401,
      'unsupported_algorithm',
    );
    await expectRefused(await signInWithAssertion(p.issuer, 'no-such-source', await assertion(rsa, claims())), 404, 'unknown_source');
    await expectRefused(await signInWithAssertion(p.issuer, 'acme-bank', ''), 400, 'invalid_request');
  });

  it('refuses an assertion issued in the future beyond the clock skew (iat ahead), as it does nbf', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(undefined, { iat: now + 600 }))),
      401,
      'assertion_not_yet_valid',
    );
    // Within the 30 s skew, or without iat (it is optional), it signs in.
    expect((await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(undefined, { iat: now + 20 })))).status).toBe(200);
    expect((await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(undefined, { iat: undefined })))).status).toBe(200);
  });

  it('refuses an assertion without kid that several of the source keys could verify: 401 unknown_key, not a 503 saying the source is down', async () => {
    const [a, b] = await Promise.all([signingKey('RS256'), signingKey('RS256')]);
    await p.saoma.identity.sources.create({
      id: 'acme-two-keys',
      kind: 'assertion',
      name: 'Acme (two keys)',
      issuer: 'https://two-keys.acme.example',
      audience: p.issuer,
      jwks: { keys: [a.publicJwk, b.publicJwk] },
    });
    const about = { iss: 'https://two-keys.acme.example', aud: p.issuer, sub: `cust-${nanoid(6)}` };
    const res = await signInWithAssertion(p.issuer, 'acme-two-keys', await assertion(b, about, { header: { kid: undefined } }));
    const body = await res.json();
    expect({ status: res.status, error: body.error }).toEqual({ status: 401, error: 'unknown_key' });
    expect(body.error_description).toMatch(/kid/);
    // Naming its key, the same signer signs in.
    expect((await signInWithAssertion(p.issuer, 'acme-two-keys', await assertion(b, about))).status).toBe(200);
  });

  it('fetches keys from the JWKS URL once, and a rotated key from the next unknown kid', async () => {
    const ok = await signInWithAssertion(p.issuer, 'acme-remote', await assertion(remote, { iss: 'https://remote.acme.example', aud: p.issuer, sub: 'r-1' }));
    expect(ok.status).toBe(200);
    await signInWithAssertion(p.issuer, 'acme-remote', await assertion(remote, { iss: 'https://remote.acme.example', aud: p.issuer, sub: 'r-1' }));
    expect(jwks.fetches()).toBe(1);
    const rotated = await signingKey('ES256');
    jwks.setKeys([remote.publicJwk, rotated.publicJwk]);
    // jose refetches on an unknown kid once its 30 s cooldown allows: a fresh source version has none yet.
    await p.saoma.identity.sources.update('acme-remote', { name: 'Acme (rotated)' });
    expect(
      (await signInWithAssertion(p.issuer, 'acme-remote', await assertion(rotated, { iss: 'https://remote.acme.example', aud: p.issuer, sub: 'r-1' }))).status,
    ).toBe(200);
  });

  it('stops a disabled source at once, and a disabled person, with their documented codes', async () => {
    const token = await adminToken(p);
    const admin = adminApi(p, token);
    const sub = `cust-${nanoid(6)}`;
    const first = await (await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(sub)))).json();
    expect((await admin('POST', `/users/${first.user.id}/disable`)).status).toBe(200);
    await expectRefused(await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(sub))), 403, 'account_disabled');
    await expectRefused(await phoneOf(p, first).call('GET', '/me'), 401, 'invalid_token');
    expect((await admin('POST', `/users/${first.user.id}/enable`)).status).toBe(200);
    expect((await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(sub)))).status).toBe(200);

    expect((await admin('POST', '/identity-sources/acme-bank/disable')).body).toMatchObject({ id: 'acme-bank', status: 'disabled' });
    await expectRefused(await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(sub))), 403, 'source_disabled');
    await admin('POST', '/identity-sources/acme-bank/enable');
    expect((await signInWithAssertion(p.issuer, 'acme-bank', await assertion(rsa, claims(sub)))).status).toBe(200);
  });
  it('refuses a JWKS URL that answers more than MAX_SOURCE_DOCUMENT_BYTES, declared or streamed: 503 source_unreachable, never held in memory', async () => {
    const big = await jwksServer([remote.publicJwk]);
    try {
      await p.saoma.identity.sources.create({
        id: 'acme-huge',
        kind: 'assertion',
        name: 'Acme (huge JWKS)',
        issuer: 'https://huge.acme.example',
        audience: p.issuer,
        jwksUrl: big.url,
        algorithms: ['ES256'],
      });
      const signIn = async () =>
        signInWithAssertion(p.issuer, 'acme-huge', await assertion(remote, { iss: 'https://huge.acme.example', aud: p.issuer, sub: `s-${nanoid(6)}` }));
      for (const chunked of [false, true]) {
        big.setPadding({ bytes: MAX_SOURCE_DOCUMENT_BYTES + 1, chunked });
        const refused = await signIn();
        expect(refused.status).toBe(503);
        expect(await refused.json()).toMatchObject({ error: 'source_unreachable' });
      }
      big.setPadding({ bytes: MAX_SOURCE_DOCUMENT_BYTES / 2, chunked: true }); // large but allowed
      await new Promise((r) => setTimeout(r, 50));
      expect((await signIn()).status).toBe(200);
    } finally {
      await big.close();
    }
  });
});
