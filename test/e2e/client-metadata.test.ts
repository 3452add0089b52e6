import { exportJWK, generateKeyPair, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullLogin, registerSite, signedInPhone, siteConfig } from '../support/flow.js';
import { startTestProvider, type TestProvider, useProvider, closeStarted } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

/**
 * Per-app client metadata a site relies on: the client authentication method (only what an
 * app can use is advertised, and each app's is enforced; apps from before enforcement are
 * pinned on first use) and the ID token signing algorithm (RS256 unless the app registered
 * another; discovery lists exactly the algorithms there are keys for).
 */
const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

const discovery = async (p: TestProvider) => (await (await fetch(`${p.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;

/** Introspection authenticates the client like /token does, without needing a login first. */
async function authenticate(p: TestProvider, app: { appId: string; appSecret: string }, method: 'basic' | 'post') {
  const form = new URLSearchParams({ token: 'not-a-token', ...(method === 'post' ? { client_id: app.appId, client_secret: app.appSecret } : {}) });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (method === 'basic') headers.authorization = `Basic ${Buffer.from(`${app.appId}:${app.appSecret}`).toString('base64')}`;
  const res = await fetch(`${p.issuer}/token/introspection`, { method: 'POST', headers, body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.skipIf(skip)('client authentication methods and ID token algorithms (PostgreSQL + Redis)', () => {
  const p = useProvider('services');

  it('discovery advertises only client_secret_basic and client_secret_post, and the algorithms with keys', async () => {
    const d = await discovery(p);
    expect(d.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
    expect(d.token_endpoint_auth_signing_alg_values_supported).toBeUndefined();
    expect([...(d.id_token_signing_alg_values_supported as string[])].sort()).toEqual(['ES256', 'RS256']);
  });

  it("enforces each app's method: a right secret sent the other way is invalid_client", async () => {
    const basic = await p.saoma.apps.create({ name: 'Basic', redirectUris: ['https://a.example/cb'] });
    expect(basic.tokenEndpointAuthMethod).toBe('client_secret_basic');
    expect((await authenticate(p, basic, 'basic')).status).toBe(200);
    expect(await authenticate(p, basic, 'post')).toMatchObject({ status: 401, body: { error: 'invalid_client' } });

    const post = await p.saoma.apps.create({ name: 'Post', redirectUris: ['https://a.example/cb'], tokenEndpointAuthMethod: 'client_secret_post' });
    expect((await authenticate(p, post, 'post')).status).toBe(200);
    expect(await authenticate(p, post, 'basic')).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('pins an app from before enforcement to the first method that authenticates, audited, then enforces it', async () => {
    const app = await p.saoma.apps.create({ name: 'Upgraded', redirectUris: ['https://a.example/cb'] });
    // What the migration leaves for apps that existed before enforcement.
    await p.saoma.db.prisma.app.update({ where: { appId: app.appId }, data: { tokenEndpointAuthMethod: null } });
    expect((await p.saoma.apps.get(app.appId)).tokenEndpointAuthMethod).toBeNull();

    expect(await authenticate(p, { ...app, appSecret: 'wrong' }, 'basic')).toMatchObject({ status: 401 });
    expect((await p.saoma.apps.get(app.appId)).tokenEndpointAuthMethod).toBeNull(); // a failure pins nothing
    expect((await authenticate(p, app, 'post')).status).toBe(200);
    expect((await p.saoma.apps.get(app.appId)).tokenEndpointAuthMethod).toBe('client_secret_post');
    expect(await authenticate(p, app, 'basic')).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await authenticate(p, app, 'post')).status).toBe(200);
    const events = await p.saoma.db.prisma.auditEvent.findMany({ where: { appId: app.appId, type: 'app.auth_method_pinned' } });
    expect(events.map((e) => e.detail)).toEqual([{ method: 'client_secret_post' }]);
  });

  it('signs ID tokens RS256 unless the app registered another algorithm', async () => {
    const phone = await signedInPhone(p);
    const { app, config } = await registerSite(p);
    expect(app.idTokenSignedResponseAlg).toBe('RS256');
    expect(decodeProtectedHeader((await fullLogin(p, config, phone)).tokens.id_token!).alg).toBe('RS256');

    await p.saoma.apps.update(app.appId, { idTokenSignedResponseAlg: 'ES256' });
    const es = await fullLogin(p, await siteConfig(p, app.appId, app.appSecret), phone);
    expect(decodeProtectedHeader(es.tokens.id_token!).alg).toBe('ES256');
  });

  it('refuses an algorithm there is no key for, or one oidc-provider cannot sign with', async () => {
    await expect(p.saoma.apps.create({ name: 'X', redirectUris: ['https://a.example/cb'], idTokenSignedResponseAlg: 'ES384' })).rejects.toThrow(
      /no signing key for ES384.*RS256, ES256/,
    );
    await expect(p.saoma.apps.create({ name: 'X', redirectUris: ['https://a.example/cb'], idTokenSignedResponseAlg: 'HS256' })).rejects.toThrow(
      /idTokenSignedResponseAlg/,
    );
  });
});

describe('a JWKS with other keys (embedded default)', () => {
  let p: TestProvider;
  beforeAll(async () => {
    const ps = await generateKeyPair('PS384', { extractable: true, modulusLength: 2048 });
    const ec = await generateKeyPair('ES384', { extractable: true });
    const keys = [
      { ...(await exportJWK(ps.privateKey)), kid: 'ps', use: 'sig' }, // no alg: every RSA algorithm
      { ...(await exportJWK(ec.privateKey)), kid: 'ec', alg: 'ES384', use: 'sig' },
    ];
    p = await startTestProvider('embedded', { JWKS: JSON.stringify({ keys }) });
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  it('lists exactly the algorithms those keys sign with, and signs with the one an app picked', async () => {
    const algs = (await discovery(p)).id_token_signing_alg_values_supported as string[];
    expect([...algs].sort()).toEqual(['ES384', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']);
    const phone = await signedInPhone(p);
    const { app } = await registerSite(p, { idTokenSignedResponseAlg: 'ES384' });
    const { tokens } = await fullLogin(p, await siteConfig(p, app.appId, app.appSecret), phone);
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES384');
  });
});
