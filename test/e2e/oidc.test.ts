import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { authorizationUrl, beginLogin, fullLogin, REDIRECT_URI, registerSite, signedInPhone, siteConfig } from '../support/flow.js';
import { TestBrowser } from '../support/browser.js';
import { type TestProvider, useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

/** A code the site has received but not yet exchanged. */
async function codeFor(p: TestProvider, config: oidc.Configuration, phone: Awaited<ReturnType<typeof signedInPhone>>) {
  const login = await beginLogin(p, config);
  const { body } = await login.qr();
  expect((await phone.scan(body.payload)).status).toBe(200);
  expect((await phone.confirm(body.qrId)).status).toBe(200);
  const { url } = await login.complete();
  return { login, url, code: url.searchParams.get('code')! };
}

async function tokenRequest(p: TestProvider, appId: string, appSecret: string, form: Record<string, string>) {
  const res = await fetch(`${p.issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${appId}:${appSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

const userinfo = (p: TestProvider, token: string) => fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });

describe.skipIf(skip)('OpenID Connect on real PostgreSQL + Redis', () => {
  const p = useProvider('services');

  it('publishes discovery with code flow, PKCE S256, pairwise subjects and both secret auth methods', async () => {
    const d = (await (await fetch(`${p.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(d.issuer).toBe(p.issuer);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.code_challenge_methods_supported).toContain('S256');
    expect(d.subject_types_supported).toContain('pairwise');
    expect(d.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
    expect(d.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'introspection_endpoint',
      'end_session_endpoint',
    ]) {
      expect(d[key], key).toMatch(/^http:\/\/localhost:\d+\//);
    }
  });

  it('redeems a code once: a second redemption fails with invalid_grant and revokes the tokens of the first', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { code, login } = await codeFor(p, config, phone);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier };
    const first = await tokenRequest(p, app.appId, app.appSecret, form);
    expect(first.status).toBe(200);
    expect((await userinfo(p, first.body.access_token)).status).toBe(200);
    const second = await tokenRequest(p, app.appId, app.appSecret, form);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    expect((await userinfo(p, first.body.access_token)).status).toBe(401);
    const refreshed = await tokenRequest(p, app.appId, app.appSecret, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token });
    expect(refreshed.body.error).toBe('invalid_grant');
  });

  it('lets exactly one of 50 concurrent redemptions of one code succeed', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { code, login } = await codeFor(p, config, phone);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier };
    const results = await Promise.all(Array.from({ length: 50 }, () => tokenRequest(p, app.appId, app.appSecret, form)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(49);
  });

  it('refuses a wrong PKCE verifier, a wrong secret and a wrong redirect_uri', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { code, login } = await codeFor(p, config, phone);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier };
    expect((await tokenRequest(p, app.appId, 'not-the-secret', form)).body.error).toBe('invalid_client');
    expect((await tokenRequest(p, app.appId, app.appSecret, { ...form, redirect_uri: 'http://127.0.0.1:5999/other' })).body.error).toBe('invalid_grant');
    const { code: code2, login: login2 } = await codeFor(p, config, phone);
    expect((await tokenRequest(p, app.appId, app.appSecret, { ...form, code: code2, code_verifier: `${login2.codeVerifier}x` })).body.error).toBe(
      'invalid_grant',
    );
  });

  it('issues a refresh token only for offline_access, which the phone shows as "stay signed in"', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { tokens } = await fullLogin(p, config, phone);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('issues access tokens for 7200 s and refresh tokens that work', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { tokens } = await fullLogin(p, config, phone, { offline: true });
    expect(tokens.expires_in).toBeGreaterThan(7190);
    expect(tokens.expires_in).toBeLessThanOrEqual(7200);
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await userinfo(p, refreshed.access_token)).status).toBe(200);
  });

  it('gives one person a different sub per app and one unionid per developer account', async () => {
    const a = await registerSite(p, { developerId: 'dev_one' });
    const b = await registerSite(p, { developerId: 'dev_one' });
    const c = await registerSite(p, { developerId: 'dev_two' });
    const phone = await signedInPhone(p);
    const [la, lb, lc] = [await fullLogin(p, a.config, phone), await fullLogin(p, b.config, phone), await fullLogin(p, c.config, phone)];
    expect(new Set([la.claims.sub, lb.claims.sub, lc.claims.sub]).size).toBe(3);
    expect(la.profile.unionid).toBe(lb.profile.unionid);
    expect(la.profile.unionid).not.toBe(lc.profile.unionid);
    // Stable: the same person at the same app again gets the same sub.
    expect((await fullLogin(p, a.config, phone)).claims.sub).toBe(la.claims.sub);
  });

  it('returns the profile claims with scope profile and only sub without it', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { profile } = await fullLogin(p, config, phone);
    expect(profile).toMatchObject({ nickname: phone.user.nickname, name: phone.user.nickname });
    expect(profile).not.toHaveProperty('preferred_username');
    const login = await beginLogin(p, config, { scope: 'openid' });
    const { body } = await login.qr();
    await phone.scan(body.payload);
    await phone.confirm(body.qrId);
    const { url } = await login.complete();
    const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
    const bare = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(Object.keys(bare)).toEqual(['sub']);
  });

  it('asks for a fresh QR confirmation on every authorization, and answers prompt=none with login_required', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const first = await fullLogin(p, config, phone);
    // Same browser (it holds the provider session from the first login): the QR page again.
    const { url: again } = await authorizationUrl(config, { state: 's' });
    const { url } = await first.login.browser.navigate(again, (u) => u.href.startsWith(REDIRECT_URI));
    expect(url.pathname).toMatch(/^\/interaction\//);
    const silent = new URL(again);
    silent.searchParams.set('prompt', 'none');
    const { url: back } = await first.login.browser.navigate(silent, (u) => u.href.startsWith(REDIRECT_URI));
    expect(back.searchParams.get('error')).toBe('login_required');
  });

  it('shows an error page, never a redirect, for an unknown client or an unregistered redirect_uri', async () => {
    const { app } = await registerSite(p);
    const bad = await fetch(
      `${p.issuer}/auth?client_id=${app.appId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      { redirect: 'manual' },
    );
    expect(bad.status).toBe(400);
    expect(bad.headers.get('location')).toBeNull();
    expect(await bad.text()).toContain('redirect_uri');
    const unknown = await fetch(`${p.issuer}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`, {
      redirect: 'manual',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('location')).toBeNull();
  });

  it('stops a disabled app at once: no new logins, its tokens stop working', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { tokens } = await fullLogin(p, config, phone);
    await p.saoma.apps.setStatus(app.appId, 'disabled');
    expect((await userinfo(p, tokens.access_token)).status).toBe(401);
    await expect(beginLogin(p, config)).rejects.toThrow(/expected the QR page/);
    await p.saoma.apps.setStatus(app.appId, 'active');
  });

  it('gives no code for a login whose app was disabled between the Confirm and the completion: an error page, never a 500', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    expect((await phone.confirm(body.qrId)).status).toBe(200);
    await p.saoma.apps.setStatus(app.appId, 'disabled');
    try {
      const { url, res } = await login.complete();
      expect(url.searchParams.get('code')).toBeNull();
      expect(res?.status).toBeGreaterThanOrEqual(400);
      expect(res?.status).toBeLessThan(500);
    } finally {
      await p.saoma.apps.setStatus(app.appId, 'active');
    }
  });

  it("signs out at /session/end (openid-client's buildEndSessionUrl) back to a registered post_logout_redirect_uri with the state; an unregistered one gets an error page, no redirect", async () => {
    const back = 'http://127.0.0.1:5999/signed-out';
    const { config } = await registerSite(p, { postLogoutRedirectUris: [back] });
    const phone = await signedInPhone(p);
    const { tokens } = await fullLogin(p, config, phone);
    const browser = new TestBrowser();
    /** GET the end-session URL; its page submits a form by script: POST its hidden fields to its action, as a browser would. */
    const endSession = async (params: Record<string, string>) => {
      const start = await browser.fetch(oidc.buildEndSessionUrl(config, params));
      const page = await start.text();
      if (start.status !== 200) return { status: start.status, page, location: start.headers.get('location'), url: null, res: null };
      const action = /<form method="post" action="([^"]+)"/.exec(page)![1];
      const fields = new URLSearchParams(
        [...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]] as [string, string]),
      );
      const headers = { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(p.issuer).origin };
      return { status: 200, page, ...(await browser.navigate(action, (u) => u.href.startsWith(back), { method: 'POST', headers, body: fields })) };
    };

    const done = await endSession({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: back, state: 'bye-42' });
    expect(done.url!.origin + done.url!.pathname).toBe(back);
    expect(done.url!.searchParams.get('state')).toBe('bye-42');

    // Without a way back: Saoma's own "signed out" page, under the strict CSP.
    const plain = await endSession({});
    expect(plain.url!.pathname).toBe('/session/end/success');
    expect(await plain.res!.text()).toMatch(/Signed out[\s\S]*\/static\/saoma\.css|\/static\/saoma\.css[\s\S]*Signed out/);
    expect(plain.res!.headers.get('content-security-policy')).not.toContain('unsafe-inline');

    const refused = await endSession({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://elsewhere.example/' });
    expect(refused.status).toBe(400);
    expect(refused.location).toBeNull();
    expect(refused.page).toContain('post_logout_redirect_uri');
  });

  it('refuses a post-logout redirect URI that is not an absolute https (or loopback http) URL when an app is registered', async () => {
    await expect(p.saoma.apps.create({ name: 'x', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: ['http://evil.example/'] })).rejects.toThrow(/https/);
    await expect(p.saoma.apps.create({ name: 'x', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: ['/relative'] })).rejects.toThrow(/absolute/);
  });

  it('rotating the AppSecret makes the old one fail at once (keepTokens: what was issued keeps working)', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { code, login } = await codeFor(p, config, phone);
    const { appSecret, tokensRevoked } = await p.saoma.apps.rotateSecret(app.appId, { keepTokens: true });
    expect(tokensRevoked).toBe(false);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier };
    expect((await tokenRequest(p, app.appId, app.appSecret, form)).body.error).toBe('invalid_client');
    expect((await tokenRequest(p, app.appId, appSecret, form)).status).toBe(200);
  });

  it('revokes what the app was issued when its AppSecret is rotated without a grace period (a leaked secret)', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const { tokens } = await fullLogin(p, config, phone, { offline: true });
    const pending = await codeFor(p, config, phone);
    const { appSecret, tokensRevoked } = await p.saoma.apps.rotateSecret(app.appId);
    expect(tokensRevoked).toBe(true);
    expect((await userinfo(p, tokens.access_token)).status).toBe(401);
    const refresh = await tokenRequest(p, app.appId, appSecret, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refresh.body.error).toBe('invalid_grant');
    const form = { grant_type: 'authorization_code', code: pending.code, redirect_uri: REDIRECT_URI, code_verifier: pending.login.codeVerifier };
    expect((await tokenRequest(p, app.appId, appSecret, form)).body.error).toBe('invalid_grant');
    // A rotation with a grace period keeps them: the site is rolling the new secret out.
    const next = await fullLogin(p, await siteConfig(p, app.appId, appSecret), phone, { offline: true });
    await p.saoma.apps.rotateSecret(app.appId, { graceSeconds: 600 });
    expect((await userinfo(p, next.tokens.access_token)).status).toBe(200);
  });

  it('never stores an AppSecret in plain text', async () => {
    const { app } = await registerSite(p);
    const row = await p.saoma.db.prisma.app.findUnique({ where: { appId: app.appId } });
    expect(row!.secretHash).not.toContain(app.appSecret);
    expect(JSON.stringify(row)).not.toContain(app.appSecret);
  });
});
