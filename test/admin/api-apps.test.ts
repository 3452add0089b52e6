/**
 * The admin API over HTTP (API.md §5) with bearer admin tokens, on PostgreSQL + Redis:
 * authentication, app registration and every validation rule, editing, disabling, secret
 * rotation (at once and with a grace period) and deletion.
 */
import * as oidc from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { beginLogin, fullLogin, REDIRECT_URI, signedInPhone, siteConfig, type Phone } from '../support/flow.js';
import { type TestProvider, useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { adminApi, adminToken, type AdminApi } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

const userinfo = (p: TestProvider, token: string) => fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });

/** A code the site has received but not yet exchanged. */
async function codeFor(p: TestProvider, config: oidc.Configuration, phone: Phone) {
  const login = await beginLogin(p, config);
  const { body } = await login.qr();
  expect((await phone.scan(body.payload)).status).toBe(200);
  expect((await phone.confirm(body.qrId)).status).toBe(200);
  const { url } = await login.complete();
  return { form: { grant_type: 'authorization_code', code: url.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier } };
}

async function tokenRequest(p: TestProvider, appId: string, appSecret: string, form: Record<string, string>) {
  const res = await fetch(`${p.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${appId}:${appSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('admin API over HTTP with bearer admin tokens (PostgreSQL + Redis)', () => {
  const p = useProvider('services');
  let api: AdminApi;
  let phone: Phone;
  beforeAll(async () => {
    api = adminApi(p, await adminToken(p));
    phone = await signedInPhone(p);
  });

  const create = async (body: Record<string, unknown> = {}) => {
    const out = await api<{ appId: string; appSecret: string; name: string }>('POST', '/apps', { name: 'API Site', redirectUris: [REDIRECT_URI], ...body });
    expect(out.status, JSON.stringify(out.body)).toBe(201);
    return out.body;
  };

  describe('authentication', () => {
    it('refuses a missing, malformed, unknown or revoked token with 401 JSON and a Bearer challenge', async () => {
      const victim = await adminToken(p, 'to be revoked');
      const cases: Array<[string, string | null]> = [
        ['no Authorization header', null],
        ['Basic credentials', `Basic ${Buffer.from('root:pw').toString('base64')}`],
        ['not an admin token', 'Bearer not-a-token'],
        ['an unknown sat_ token', `Bearer sat_${'A'.repeat(43)}`],
      ];
      for (const [what, header] of cases) {
        const out = await adminApi(p, header)('GET', '/apps');
        expect(out.status, what).toBe(401);
        expect(out.body, what).toMatchObject({ error: 'invalid_token', error_description: expect.any(String) });
        expect(out.headers.get('www-authenticate'), what).toMatch(/^Bearer realm="saoma-admin"/);
        expect(out.headers.get('cache-control'), what).toBe('no-store');
      }
      expect((await adminApi(p, victim)('GET', '/apps')).status).toBe(200);
      const listed = await api<{ tokens: Array<{ id: string; name: string; lastUsedAt: string | null }> }>('GET', '/tokens');
      const entry = listed.body.tokens.find((t) => t.name === 'to be revoked')!;
      expect(entry.lastUsedAt).not.toBeNull();
      expect(JSON.stringify(listed.body)).not.toContain(victim);
      expect((await api('DELETE', `/tokens/${entry.id}`)).body).toMatchObject({ status: 'revoked' });
      const revoked = await adminApi(p, victim)('GET', '/apps');
      expect(revoked.status).toBe(401);
      expect(revoked.body.error_description).toMatch(/unknown or revoked/);
    });

    it('also guards every other endpoint, reads and writes alike', async () => {
      const anonymous = adminApi(p, null);
      for (const [method, path] of [
        ['POST', '/apps'],
        ['DELETE', '/apps/smx'],
        ['GET', '/users'],
        ['POST', '/tokens'],
        ['GET', '/admins'],
        ['GET', '/nope'],
      ]) {
        expect((await anonymous(method, path, method === 'POST' ? {} : undefined)).status, `${method} ${path}`).toBe(401);
      }
    });
  });

  describe('registering apps', () => {
    it('creates an app: 201 with AppID and AppSecret once; reads never show the secret or its hash', async () => {
      const created = await create({
        name: 'Shown Once',
        homepage: 'https://once.example',
        logoUrl: 'https://once.example/logo.png',
        callbackDomain: 'Once.Example',
        description: 'note',
      });
      expect(created).toMatchObject({
        appId: expect.stringMatching(/^sm[0-9a-f]{16}$/),
        appSecret: expect.any(String),
        name: 'Shown Once',
        callbackDomain: 'once.example',
        status: 'active',
        developerId: 'dev_default',
      });
      const shown = await api('GET', `/apps/${created.appId}`);
      const listed = await api('GET', '/apps');
      for (const out of [shown, listed]) {
        expect(out.status).toBe(200);
        expect(JSON.stringify(out.body)).not.toContain(created.appSecret);
        expect(JSON.stringify(out.body)).not.toMatch(/secretHash|appSecret|sha256:/);
      }
      const { claims } = await fullLogin(p, await siteConfig(p, created.appId, created.appSecret), phone);
      expect(claims.aud).toBe(created.appId);
    });

    it('refuses every invalid field with 400 invalid_request naming the rule, and creates nothing', async () => {
      const before = (await api<{ apps: unknown[] }>('GET', '/apps')).body.apps.length;
      const good = { name: 'Valid', redirectUris: [REDIRECT_URI] };
      const cases: Array<[string, unknown, RegExp]> = [
        ['missing name', { redirectUris: [REDIRECT_URI] }, /name/],
        ['blank name', { ...good, name: '   ' }, /name/],
        ['name over 100 characters', { ...good, name: 'x'.repeat(101) }, /name/],
        ['missing redirect URIs', { name: 'x' }, /redirectUris/],
        ['no redirect URI', { ...good, redirectUris: [] }, /at least one redirect URI is required/],
        ['redirect URIs as a string', { ...good, redirectUris: REDIRECT_URI }, /redirectUris/],
        ['relative redirect URI', { ...good, redirectUris: ['/callback'] }, /redirect URI "\/callback" is not an absolute URL/],
        ['http on a public host', { ...good, redirectUris: ['http://example.com/cb'] }, /must use https \(http is allowed for localhost only\)/],
        ['a custom scheme', { ...good, redirectUris: ['myapp://cb'] }, /must use https/],
        ['a fragment', { ...good, redirectUris: ['https://example.com/cb#frag'] }, /must not contain a fragment/],
        ['an empty fragment', { ...good, redirectUris: ['https://example.com/cb#'] }, /must not contain a fragment/],
        ['more than 20 redirect URIs', { ...good, redirectUris: Array.from({ length: 21 }, (_, i) => `https://example.com/${i}`) }, /redirectUris/],
        ['callback domain with a scheme', { ...good, callbackDomain: 'https://example.com' }, /callback domain is a host name/],
        ['logo URL not a URL', { ...good, logoUrl: 'logo.png' }, /logoUrl/],
        ['logo URL not http(s)', { ...good, logoUrl: 'ftp://example.com/logo.png' }, /logoUrl: must be an http\(s\) URL/],
        ['homepage not a URL', { ...good, homepage: 'example' }, /homepage/],
        ['description over 1000 characters', { ...good, description: 'x'.repeat(1001) }, /description/],
        ['unknown client auth method', { ...good, tokenEndpointAuthMethod: 'none' }, /tokenEndpointAuthMethod/],
        ['a JWT client auth method (secrets are stored hashed)', { ...good, tokenEndpointAuthMethod: 'client_secret_jwt' }, /tokenEndpointAuthMethod/],
        ['an HMAC ID token algorithm', { ...good, idTokenSignedResponseAlg: 'HS256' }, /idTokenSignedResponseAlg/],
        ['an ID token algorithm with no key', { ...good, idTokenSignedResponseAlg: 'ES512' }, /no signing key for ES512/],
        ['a misspelt field', { ...good, redirect_uris: [REDIRECT_URI] }, /redirect_uris/],
        ['an unknown developer account', { ...good, developerId: 'dev_nobody' }, /no developer account "dev_nobody"/],
        ['malformed JSON', '{"name": ', /not valid JSON/],
        ['a NUL character (PostgreSQL text cannot hold one)', { ...good, name: 'a\u0000b' }, /NUL/],
        ['a NUL in a redirect URI', { ...good, redirectUris: ['https://example.com/\u0000'] }, /NUL/],
        ['an array body', [good], /expected object/i],
      ];
      for (const [what, body, message] of cases) {
        const out = await api('POST', '/apps', body);
        expect(out.status, what).toBe(400);
        expect(out.body, what).toMatchObject({ error: 'invalid_request' });
        expect(out.body.error_description, what).toMatch(message);
      }
      expect((await api<{ apps: unknown[] }>('GET', '/apps')).body.apps.length).toBe(before);
    });

    it('accepts https anywhere and http on loopback hosts only', async () => {
      const ok = await api('POST', '/apps', {
        name: 'Local',
        redirectUris: ['http://localhost:8080/cb', 'http://127.0.0.1/cb', 'http://[::1]:3000/cb', 'http://app.localhost/cb', 'https://example.com/cb?x=1'],
      });
      expect(ok.status).toBe(201);
    });
  });

  describe('managing apps', () => {
    it('sets the client authentication method and the ID token algorithm, on create and on edit', async () => {
      const created = await create();
      expect(created).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_basic', idTokenSignedResponseAlg: 'RS256' });
      const edited = await api('PATCH', `/apps/${created.appId}`, { tokenEndpointAuthMethod: 'client_secret_post', idTokenSignedResponseAlg: 'ES256' });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_post', idTokenSignedResponseAlg: 'ES256' });
      const bad = await api('PATCH', `/apps/${created.appId}`, { idTokenSignedResponseAlg: 'PS512' });
      expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect((await api('GET', `/apps/${created.appId}`)).body).toMatchObject({ idTokenSignedResponseAlg: 'ES256' });
    });

    it('edits an app (a null clears an optional field); a bad edit changes nothing; unknown apps are 404', async () => {
      const { appId } = await create({ homepage: 'https://before.example' });
      const edited = await api('PATCH', `/apps/${appId}`, { name: 'After', homepage: null, redirectUris: [REDIRECT_URI, 'https://after.example/cb'] });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ name: 'After', homepage: null, redirectUris: [REDIRECT_URI, 'https://after.example/cb'] });
      const bad = await api('PATCH', `/apps/${appId}`, { name: 'Never', redirectUris: ['http://evil.example/cb'] });
      expect(bad.status).toBe(400);
      expect((await api('GET', `/apps/${appId}`)).body).toMatchObject({ name: 'After' });
      expect((await api('GET', '/apps/%00')).status).toBe(400);
      for (const [method, path] of [
        ['GET', ''],
        ['PATCH', ''],
        ['DELETE', ''],
        ['POST', '/secret'],
        ['POST', '/disable'],
        ['GET', '/usage'],
      ]) {
        const out = await api(method, `/apps/sm0000000000000000${path}`, method === 'PATCH' ? { name: 'x' } : undefined);
        expect(out.status, `${method} ${path}`).toBe(404);
        expect(out.body).toMatchObject({ error: 'not_found', error_description: 'No app with AppID "sm0000000000000000".' });
      }
    });

    it('disable: authorize requests get an error page and issued tokens stop working; enable restores both', async () => {
      const app = await create();
      const config = await siteConfig(p, app.appId, app.appSecret);
      const { tokens } = await fullLogin(p, config, phone);
      expect((await userinfo(p, tokens.access_token)).status).toBe(200);
      expect((await api('POST', `/apps/${app.appId}/disable`)).body).toMatchObject({ status: 'disabled' });
      expect((await userinfo(p, tokens.access_token)).status).toBe(401);
      const page = await fetch(
        oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }),
        { redirect: 'manual' },
      );
      expect(page.status).toBe(400);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/invalid_client/);
      expect((await api('POST', `/apps/${app.appId}/enable`)).body).toMatchObject({ status: 'active' });
      expect((await userinfo(p, tokens.access_token)).status).toBe(200);
    });
  });

  describe('AppSecret rotation', () => {
    it('without a grace period the old secret fails at once and the new one works (keepTokens: the code issued before still redeems)', async () => {
      const app = await create();
      const config = await siteConfig(p, app.appId, app.appSecret);
      const { form } = await codeFor(p, config, phone);
      const rotated = await api<{ appId: string; appSecret: string; previousSecretExpiresAt: string | null }>('POST', `/apps/${app.appId}/secret`, {
        keepTokens: true,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body).toMatchObject({ appId: app.appId, previousSecretExpiresAt: null, tokensRevoked: false });
      expect(rotated.body.appSecret).not.toBe(app.appSecret);
      expect((await tokenRequest(p, app.appId, app.appSecret, form)).body.error).toBe('invalid_client');
      expect((await tokenRequest(p, app.appId, rotated.body.appSecret, form)).status).toBe(200);
      expect(JSON.stringify((await api('GET', `/apps/${app.appId}`)).body)).not.toContain(rotated.body.appSecret);
    });

    it('with graceSeconds both secrets work until the deadline, then only the new one', async () => {
      const app = await create();
      const config = await siteConfig(p, app.appId, app.appSecret);
      const rotated = await api<{ appSecret: string; previousSecretExpiresAt: string }>('POST', `/apps/${app.appId}/secret`, { graceSeconds: 2 });
      const deadline = Date.parse(rotated.body.previousSecretExpiresAt);
      expect(deadline - Date.now()).toBeGreaterThan(1000);
      expect(deadline - Date.now()).toBeLessThanOrEqual(2000);
      expect((await api('GET', `/apps/${app.appId}`)).body.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt);
      const first = await codeFor(p, config, phone);
      expect((await tokenRequest(p, app.appId, app.appSecret, first.form)).status).toBe(200);
      const second = await codeFor(p, config, phone);
      await sleep(Math.max(0, deadline - Date.now()) + 100);
      expect((await tokenRequest(p, app.appId, app.appSecret, second.form)).body.error).toBe('invalid_client');
      expect((await tokenRequest(p, app.appId, rotated.body.appSecret, second.form)).status).toBe(200);
      expect((await api('GET', `/apps/${app.appId}`)).body.previousSecretExpiresAt).toBeNull();
    });

    it('rotating again during a grace period ends the older secret at once', async () => {
      const app = await create();
      const config = await siteConfig(p, app.appId, app.appSecret);
      const second = await api<{ appSecret: string }>('POST', `/apps/${app.appId}/secret`, { graceSeconds: 3600 });
      const third = await api<{ appSecret: string }>('POST', `/apps/${app.appId}/secret`, { graceSeconds: 3600 });
      const { form } = await codeFor(p, config, phone);
      expect((await tokenRequest(p, app.appId, app.appSecret, form)).body.error).toBe('invalid_client');
      expect((await tokenRequest(p, app.appId, second.body.appSecret, form)).status).toBe(200);
      expect(third.body.appSecret).not.toBe(second.body.appSecret);
    });

    it('refuses a bad grace period with 400 and keeps the current secret', async () => {
      const app = await create();
      for (const graceSeconds of [-1, 604801, 1.5, 'soon']) {
        const out = await api('POST', `/apps/${app.appId}/secret`, { graceSeconds });
        expect(out.status, String(graceSeconds)).toBe(400);
        expect(out.body.error_description).toMatch(/graceSeconds/);
      }
      const { form } = await codeFor(p, await siteConfig(p, app.appId, app.appSecret), phone);
      expect((await tokenRequest(p, app.appId, app.appSecret, form)).status).toBe(200);
    });
  });

  describe('deleting apps', () => {
    it('deletes the app with its authorizations, grants and tokens; the trail keeps an app.deleted event', async () => {
      const app = await create({ name: 'Doomed' });
      const config = await siteConfig(p, app.appId, app.appSecret);
      const { tokens } = await fullLogin(p, config, phone);
      expect((await phone.call('GET', '/authorizations').then((r) => r.json())).authorizations.map((a: { appId: string }) => a.appId)).toContain(app.appId);

      const deleted = await api('DELETE', `/apps/${app.appId}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ appId: app.appId, name: 'Doomed', deleted: true, authorizations: 1, grants: 1 });

      expect((await api('GET', `/apps/${app.appId}`)).status).toBe(404);
      expect((await userinfo(p, tokens.access_token)).status).toBe(401);
      await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toThrow();
      expect(await p.saoma.db.prisma.oidcPayload.count({ where: { clientId: app.appId } })).toBe(0);
      expect(await p.saoma.db.prisma.authorization.count({ where: { appId: app.appId } })).toBe(0);
      expect((await phone.call('GET', '/authorizations').then((r) => r.json())).authorizations.map((a: { appId: string }) => a.appId)).not.toContain(app.appId);
      await expect(beginLogin(p, config)).rejects.toThrow(/expected the QR page/);
      const trail = await p.saoma.db.prisma.auditEvent.findFirst({ where: { appId: app.appId, type: 'app.deleted' } });
      expect(trail?.detail).toMatchObject({ actor: 'token:tests', name: 'Doomed' });
      expect((await api('DELETE', `/apps/${app.appId}`)).status).toBe(404);
    });
  });
});
