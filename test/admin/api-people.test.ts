/**
 * People management and identity sources through the admin API (issue 14 item 4): provision,
 * disable, enable, delete people, link and unlink their identities, register sources.
 */
import { nanoid } from 'nanoid';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertion, signingKey, signInWithAssertion, type SigningKey } from '../identity/support.js';
import { REDIRECT_URI, beginLogin, fullLogin, phoneOf, registerSite, signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { adminApi, adminToken, type AdminApi } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const ISS = 'https://api.uni.example';

describe.skipIf(skip)('admin API: people and identity sources (PostgreSQL + Redis)', () => {
  const p = useProvider('services');
  let api: AdminApi;
  let key: SigningKey;
  beforeAll(async () => {
    api = adminApi(p, await adminToken(p, 'people'));
    key = await signingKey('ES256');
  });

  it('registers identity sources with validation, never showing or logging a client secret, and edits them', async () => {
    const created = await api('POST', '/identity-sources', {
      id: 'uni',
      kind: 'assertion',
      name: 'University app',
      issuer: ISS,
      audience: p.issuer,
      jwks: { keys: [key.publicJwk] },
      algorithms: ['ES256'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ id: 'uni', kind: 'assertion', status: 'active', issuer: ISS, audience: p.issuer, algorithms: ['ES256'], links: 0 });
    expect(
      (await api('POST', '/identity-sources', { id: 'uni', kind: 'assertion', name: 'x', issuer: 'other', audience: 'a', jwksUrl: 'https://x.example/jwks' }))
        .body,
    ).toMatchObject({ error: 'source_exists' });

    for (const [what, body, message] of [
      ['HS256 allowed', { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a', jwksUrl: 'https://x.example/j', algorithms: ['HS256'] }, /algorithms/],
      ['none allowed', { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a', jwksUrl: 'https://x.example/j', algorithms: ['none'] }, /algorithms/],
      ['a shared secret as a key', { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, /kty/],
      [
        'a private key',
        { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] } },
        /public keys/,
      ],
      [
        'keys twice',
        { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a', jwksUrl: 'https://x.example/j', jwks: { keys: [key.publicJwk] } },
        /exactly one/,
      ],
      ['no keys', { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a' }, /exactly one/],
      ['plain http keys', { kind: 'assertion', name: 'x', issuer: 'i', audience: 'a', jwksUrl: 'http://keys.example/j' }, /https/],
      ['plain http issuer', { kind: 'oidc', name: 'x', issuer: 'http://sso.example', clientId: 'c' }, /https/],
      ['unknown kind', { kind: 'saml', name: 'x' }, /kind/],
      ['unknown field', { kind: 'oidc', name: 'x', issuer: 'https://sso.example', clientId: 'c', extra: 1 }, /extra/],
      ['bad id', { id: 'Has Space', kind: 'oidc', name: 'x', issuer: 'https://sso.example', clientId: 'c' }, /id/],
    ] as const) {
      const out = await api('POST', '/identity-sources', body);
      expect(out.status, what).toBe(400);
      expect(out.body.error_description, what).toMatch(message);
    }

    const secret = `sso-secret-${nanoid()}`;
    const sso = await api('POST', '/identity-sources', {
      id: 'uni-sso',
      kind: 'oidc',
      name: 'University SSO',
      issuer: 'https://sso.uni.example/',
      clientId: 'saoma',
      clientSecret: secret,
    });
    expect(sso.body).toMatchObject({
      issuer: 'https://sso.uni.example',
      hasClientSecret: true,
      scopes: ['openid', 'profile'],
      redirectUri: `${p.issuer}/app/sso/uni-sso/callback`,
    });
    const renamed = await api('PATCH', '/identity-sources/uni-sso', { name: 'Uni SSO', scopes: ['openid', 'profile', 'email'] });
    expect(renamed.body).toMatchObject({ name: 'Uni SSO', hasClientSecret: true, scopes: ['openid', 'profile', 'email'] });
    expect((await api('PATCH', '/identity-sources/uni-sso', { kind: 'assertion' })).status).toBe(400);
    const listed = await api('GET', '/identity-sources');
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const trail = await p.saoma.db.prisma.auditEvent.findMany({ where: { type: { startsWith: 'identity_source.' } } });
    expect(JSON.stringify(trail.map((t) => t.detail))).not.toContain(secret);
    expect((await api('GET', '/identity-sources/nope')).body).toMatchObject({ error: 'unknown_source' });
  });

  it('provisions a person without a password, links their identity before their first sign-in, then unlinks it', async () => {
    const created = await api('POST', '/users', {
      username: `stu_${nanoid(5)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`,
      nickname: 'Zhang Wei',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ status: 'active', signInMethods: { password: false, passkeys: [], identities: [] } });
    const userId = created.body.id as string;
    const linked = await api('POST', `/users/${userId}/identities`, { sourceId: 'uni', subject: 'student-42' });
    expect(linked.status).toBe(201);
    expect(linked.body.identity).toMatchObject({ sourceId: 'uni', subject: 'student-42', kind: 'assertion' });
    // The university's app signs student-42 in: it is this person, not a new one.
    const signedIn = await (
      await signInWithAssertion(p.issuer, 'uni', await assertion(key, { iss: ISS, aud: p.issuer, sub: 'student-42', name: 'Zhang Wei' }))
    ).json();
    expect(signedIn.user.id).toBe(userId);
    expect((await api('POST', `/users/${userId}/identities`, { sourceId: 'uni', subject: 'student-42' })).body).toMatchObject({ error: 'identity_taken' });
    expect((await api('POST', `/users/${userId}/identities`, { sourceId: 'nope', subject: 'x' })).body).toMatchObject({ error: 'unknown_source' });

    expect((await api('GET', `/users/${userId}/identities`)).body.identities).toHaveLength(1);
    const unlinked = await api('DELETE', `/users/${userId}/identities/${linked.body.identity.id}`);
    expect(unlinked.body).toMatchObject({ unlinked: true });
    expect((await api('DELETE', `/users/${userId}/identities/${linked.body.identity.id}`)).body).toMatchObject({ error: 'link_not_found' });
    // Unlinked, the same subject provisions someone new.
    const next = await (await signInWithAssertion(p.issuer, 'uni', await assertion(key, { iss: ISS, aud: p.issuer, sub: 'student-42' }))).json();
    expect(next.user.id).not.toBe(userId);
    expect((await api('POST', '/users', { username: 'x' })).status).toBe(400);
  });

  it("disables a person: their phones and the sites' tokens stop at once, no sign-in works; enabled, they sign in anew", async () => {
    const phone = await signedInPhone(p);
    const { config } = await registerSite(p);
    const { tokens } = await fullLogin(p, config, phone);
    const userinfo = () => fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfo()).status).toBe(200);

    const disabled = await api('POST', `/users/${phone.username}/disable`);
    expect(disabled.body).toMatchObject({ status: 'disabled', devicesSignedOut: 1, grantsRevoked: 1 });
    expect((await phone.call('GET', '/me')).status).toBe(401);
    expect((await userinfo()).status).toBe(401);
    const login = await fetch(`${p.issuer}/api/mobile/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: phone.username, password: phone.password }),
    });
    expect({ status: login.status, error: (await login.json()).error }).toEqual({ status: 403, error: 'account_disabled' });
    // A wrong password says nothing about the account being disabled.
    const wrong = await fetch(`${p.issuer}/api/mobile/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: phone.username, password: 'not it at all' }),
    });
    expect((await wrong.json()).error).toBe('invalid_credentials');
    expect((await api('GET', `/users?q=${phone.username}`)).body.users[0]).toMatchObject({ status: 'disabled' });

    expect((await api('POST', `/users/${phone.username}/enable`)).body).toMatchObject({ status: 'active', disabledAt: null });
    const again = await fetch(`${p.issuer}/api/mobile/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: phone.username, password: phone.password }),
    });
    expect(again.status).toBe(200);
    expect((await phone.call('GET', '/me')).status).toBe(401); // the old session stays ended
    expect((await phoneOf(p, await again.json()).call('GET', '/me')).status).toBe(200);
  });

  it('a login confirmed just before the person is disabled ends at the site with access_denied, no code (their profile was just read)', async () => {
    const phone = await signedInPhone(p);
    const { config } = await registerSite(p);
    await fullLogin(p, config, phone); // the profile is now in this instance's cache
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    expect((await phone.confirm(body.qrId)).status).toBe(200);

    expect((await api('POST', `/users/${phone.username}/disable`)).body).toMatchObject({ status: 'disabled' });
    // The browser goes back to the site with access_denied, not to an error page, and no code.
    const { url } = await login.complete();
    expect(url.href.startsWith(REDIRECT_URI)).toBe(true);
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(url.searchParams.get('error_description')).toBe('This account can no longer sign in.');
    expect(url.searchParams.get('code')).toBeNull();
  });

  it("lists a person's signed-in devices and signs out the one they lost, at once, leaving the other signed in", async () => {
    const phone = await signedInPhone(p);
    const login = await fetch(`${p.issuer}/api/mobile/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: phone.username, password: phone.password, deviceName: 'lost phone' }),
    });
    const lost = phoneOf(p, (await login.json()) as { token: string });
    const shown = await api<{ devices: Array<{ id: string; name: string | null }> }>('GET', `/users/${phone.username}`);
    expect(shown.body.devices.map((d) => d.name).sort()).toEqual(['lost phone', 'test phone']);
    const lostId = shown.body.devices.find((d) => d.name === 'lost phone')!.id;

    const other = await signedInPhone(p);
    expect((await api('DELETE', `/users/${other.username}/devices/${lostId}`)).status).toBe(404); // not theirs
    expect((await lost.call('GET', '/me')).status).toBe(200);

    const out = await api('DELETE', `/users/${phone.username}/devices/${lostId}`);
    expect(out.status, JSON.stringify(out.body)).toBe(200);
    expect(out.body).toMatchObject({ username: phone.username, deviceId: lostId, signedOut: true });
    expect((await lost.call('GET', '/me')).status).toBe(401);
    expect((await phone.call('GET', '/me')).status).toBe(200);
    expect((await api<{ devices: unknown[] }>('GET', `/users/${phone.username}`)).body.devices).toHaveLength(1);
    expect((await api('DELETE', `/users/${phone.username}/devices/${lostId}`)).body).toMatchObject({ error: 'not_found' });
  });

  it('deletes a person with everything of theirs; their tokens end first', async () => {
    const phone = await signedInPhone(p);
    const { config } = await registerSite(p);
    const { tokens } = await fullLogin(p, config, phone);
    const deleted = await api('DELETE', `/users/${phone.user.id}`);
    expect(deleted.body).toMatchObject({ id: phone.user.id, deleted: true, devicesSignedOut: 1, grantsRevoked: 1 });
    expect((await phone.call('GET', '/me')).status).toBe(401);
    expect((await fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    expect((await api('GET', `/users/${phone.user.id}`)).status).toBe(404);
    expect(await p.saoma.db.prisma.deviceSession.count({ where: { userId: phone.user.id } })).toBe(0);
  });

  it('deletes an identity source with its links (the people stay)', async () => {
    await api('POST', '/identity-sources', {
      id: 'temp',
      kind: 'assertion',
      name: 'Temp',
      issuer: 'temp-iss',
      audience: p.issuer,
      jwks: { keys: [key.publicJwk] },
      algorithms: ['ES256'],
    });
    const person = await (await signInWithAssertion(p.issuer, 'temp', await assertion(key, { iss: 'temp-iss', aud: p.issuer, sub: 't1' }))).json();
    expect((await api('DELETE', '/identity-sources/temp')).body).toMatchObject({ id: 'temp', deleted: true, links: 1 });
    expect((await api('GET', `/users/${person.user.id}`)).body.signInMethods.identities).toEqual([]);
    expect((await signInWithAssertion(p.issuer, 'temp', await assertion(key, { iss: 'temp-iss', aud: p.issuer, sub: 't1' }))).status).toBe(404);
  });
});
