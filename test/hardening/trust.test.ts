/**
 * Issue 11, "close every way a stranger can take someone's login": one regression test per
 * defect the security review found, each named for the guarantee (SECURITY.md lists them).
 * Behind TRUST_PROXY (one proxy hop), so addresses come from X-Forwarded-For as the proxy
 * appends it; time moves with a test clock instead of sleeping.
 */
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createTestClock } from '../../provider/src/login/clock.js';
import { TestBrowser } from '../support/browser.js';
import { adminToken } from '../admin/support.js';
import { beginLogin, fullLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import { startTestProvider, useProvider } from '../support/harness.js';
import { REDIS_URL, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { CALLBACK, qrconnectUrl, sns, wechatApp } from '../wechat/support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const from = (ip: string, ua = 'TestBrowser/1.0') => ({ 'x-forwarded-for': ip, 'user-agent': ua });

describe.skipIf(skip)('trust: what a stranger can do to someone else’s login (PostgreSQL + Redis, TRUST_PROXY)', () => {
  const clock = createTestClock();
  const p = useProvider('services', { TRUST_PROXY: '1', RATE_LIMIT_EMBED_TOKEN: '5/600', WAITING_PER_ADDRESS: '6' }, { clock });

  const scanFrom = (token: string, payload: string, ip: string) =>
    fetch(`${p.issuer}/api/mobile/scans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...from(ip) },
      body: JSON.stringify({ payload }),
    });

  describe('the requester is bound when the login starts (item 2)', () => {
    it('keeps the embedded QR’s first requester when another browser at another address asks for the next QR', async () => {
      const app = await wechatApp(p);
      const res = await fetch(qrconnectUrl(p, { appid: app.appId, redirect_uri: CALLBACK, state: 'S', login_type: 'jssdk' }), {
        headers: from('203.0.113.5', 'AttackerBrowser/1.0'),
      });
      const token = /"token":"([^"]+)"/.exec(await res.text())![1];
      clock.advance(121_000); // the first QR expires
      // The attacker makes the victim's browser ask for the next QR (an <img> on a page it visits).
      const rotated = (await (await fetch(`${p.issuer}/connect/embed/${token}/qr`, { headers: from('198.51.100.20', 'VictimBrowser/1.0') })).json()) as {
        payload: string;
      };
      const victim = await signedInPhone(p);
      const scan = (await (await scanFrom(victim.token, rotated.payload, '198.51.100.21')).json()) as {
        requester: { ip: string; userAgent: string; sameNetworkAsPhone: boolean };
      };
      expect(scan.requester).toMatchObject({ ip: '203.0.113.5', userAgent: 'AttackerBrowser/1.0', sameNetworkAsPhone: false });
    });

    it('keeps the QR page’s first requester across rotations, whoever asks for them', async () => {
      const { config } = await registerSite(p);
      const browser = new TestBrowser('HomeBrowser/1.0');
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      const { url: page } = await browser.navigate(url, (u) => u.pathname.startsWith('/interaction/'), { headers: from('203.0.113.6') });
      // The QR page's first load starts the login: this browser, at this address, is the requester.
      expect((await browser.fetch(`${p.issuer}${page.pathname}`, { headers: from('203.0.113.6') })).status).toBe(200);
      clock.advance(121_000);
      const qr = (await (await browser.fetch(`${p.issuer}${page.pathname}/qr`, { headers: from('192.0.2.99', 'Elsewhere/2.0') })).json()) as {
        payload: string;
      };
      const phone = await signedInPhone(p);
      const scan = (await (await scanFrom(phone.token, qr.payload, '203.0.113.7')).json()) as { requester: { ip: string; userAgent: string } };
      expect(scan.requester).toMatchObject({ ip: '203.0.113.6', userAgent: 'HomeBrowser/1.0' });
    });
  });

  it('answers no guesses about embed tokens: unknown ones from one address are refused after RATE_LIMIT_EMBED_TOKEN (item 1)', async () => {
    const guesses = [];
    for (let i = 0; i < 7; i++) guesses.push((await fetch(`${p.issuer}/connect/embed/${'g'.repeat(31)}${i}/status`, { headers: from('203.0.113.8') })).status);
    expect(guesses.slice(0, 5)).toEqual([404, 404, 404, 404, 404]);
    expect(guesses.slice(5)).toEqual([429, 429]);
    // Another address is not affected.
    expect((await fetch(`${p.issuer}/connect/embed/${'g'.repeat(32)}/status`, { headers: from('203.0.113.9') })).status).toBe(404);
  });

  it('bounds the pages waiting on one login and from one address, refusing the extra one with 429 too_many_waiting (item 8)', async () => {
    const { config } = await registerSite(p);
    const browser = new TestBrowser();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    const { url: page } = await browser.navigate(url, (u) => u.pathname.startsWith('/interaction/'), { headers: from('203.0.113.10') });
    const streams: Response[] = [];
    const open = () => browser.fetch(`${p.issuer}${page.pathname}/qr/events`, { headers: from('203.0.113.10') });
    for (let i = 0; i < 4; i++) streams.push(await open());
    expect(streams.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const fifth = await open();
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await fifth.json()).toMatchObject({ error: 'too_many_waiting' });
    // Per address (WAITING_PER_ADDRESS=6): another login from the same address gets two more, then 429.
    const other = new TestBrowser();
    const { url: page2 } = await other.navigate(url, (u) => u.pathname.startsWith('/interaction/'), { headers: from('203.0.113.10') });
    const more: Response[] = [];
    for (let i = 0; i < 3; i++) more.push(await other.fetch(`${p.issuer}${page2.pathname}/qr/events`, { headers: from('203.0.113.10') }));
    expect(more.map((r) => r.status)).toEqual([200, 200, 429]);
    for (const r of [...streams, ...more]) await r.body?.cancel().catch(() => undefined);
  });

  it('stores refresh tokens only hashed: the database holds no token a thief could redeem (item 5)', async () => {
    const { config } = await registerSite(p);
    const { tokens } = await fullLogin(p, config, await signedInPhone(p), { offline: true });
    const rows = await p.saoma.db.prisma.oidcPayload.findMany({ where: { kind: 'RefreshToken' } });
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(tokens.refresh_token);
    // …and the token still works for its owner.
    expect((await oidc.refreshTokenGrant(config, tokens.refresh_token!)).access_token).toBeTruthy();
  });

  it('redeems at /sns only what the WeChat flow issued: an OIDC refresh token or code is invalid there (items 5, 12)', async () => {
    const { app, config } = await registerSite(p, { callbackDomain: '127.0.0.1' });
    const { tokens, callback } = await fullLogin(p, config, await signedInPhone(p), { offline: true });
    const refresh = await sns(p, 'oauth2/refresh_token', { appid: app.appId, grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(refresh.body.errcode).toBe(40030);
    // A code from /auth (PKCE, redirect_uri) is invalid at /sns even with the AppSecret, and stays redeemable at /token.
    const fresh = await beginLogin(p, config);
    const { body } = await fresh.qr();
    const phone = await signedInPhone(p);
    await phone.scan(body.payload);
    await phone.confirm(body.qrId);
    const { url } = await fresh.complete();
    const code = url.searchParams.get('code')!;
    const exchanged = await sns(p, 'oauth2/access_token', { appid: app.appId, secret: app.appSecret, code, grant_type: 'authorization_code' });
    expect(exchanged.body.errcode).toBe(40029);
    const viaOidc = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: fresh.codeVerifier, expectedState: fresh.state });
    expect(viaOidc.access_token).toBeTruthy();
    expect(callback.searchParams.get('code')).toBeTruthy();
  });

  it('tells /sns sites the scope that was approved, and the unionid only with the profile (item 12)', async () => {
    const app = await wechatApp(p);
    const phone = await signedInPhone(p);
    const browser = new TestBrowser();
    const start = `${p.issuer}/connect/oauth2/authorize?${new URLSearchParams({ appid: app.appId, redirect_uri: CALLBACK, response_type: 'code', scope: 'snsapi_base', state: 'B' })}`;
    const { url } = await browser.navigate(start, (u) => u.pathname.startsWith('/interaction/'));
    const qr = (await (await browser.fetch(`${p.issuer}${url.pathname}/qr`)).json()) as { payload: string; qrId: string };
    await phone.scan(qr.payload);
    await phone.confirm(qr.qrId);
    const { url: landed } = await browser.navigate(`${p.issuer}${url.pathname}/complete`, (u) => u.href.startsWith(CALLBACK));
    const exchanged = await sns(p, 'oauth2/access_token', {
      appid: app.appId,
      secret: app.appSecret,
      code: landed.searchParams.get('code')!,
      grant_type: 'authorization_code',
    });
    expect(exchanged.body).toMatchObject({ scope: 'snsapi_base', openid: expect.any(String) });
    expect(exchanged.body).not.toHaveProperty('unionid');
  });

  it('releases no global login name: sites get the nickname the phone showed, never preferred_username (item 7)', async () => {
    const { config } = await registerSite(p);
    const { claims, profile } = await fullLogin(p, config, await signedInPhone(p));
    expect(profile).not.toHaveProperty('preferred_username');
    expect(claims).not.toHaveProperty('preferred_username');
    expect(profile.nickname).toBeTruthy();
  });

  it('lets an app introspect only its own tokens (decided: oidc-provider would let any app read any)', async () => {
    const a = await registerSite(p);
    const b = await registerSite(p);
    const { tokens } = await fullLogin(p, a.config, await signedInPhone(p));
    const introspect = (site: typeof a) =>
      fetch(`${p.issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${site.app.appId}:${site.app.appSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: tokens.access_token }),
      }).then((r) => r.json() as Promise<{ active: boolean }>);
    expect((await introspect(a)).active).toBe(true);
    expect((await introspect(b)).active).toBe(false);
  });

  it('requires PKCE (S256) of new apps, and lets an app registered without it log in without (decided)', async () => {
    const { config } = await registerSite(p);
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's' });
    const res = await fetch(url, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toMatch(/PKCE/);
    const legacy = await registerSite(p, { requirePkce: false });
    const ok = await fetch(oidc.buildAuthorizationUrl(legacy.config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's' }), { redirect: 'manual' });
    expect(new URL(ok.headers.get('location')!, p.issuer).pathname).toMatch(/^\/interaction\//);
  });

  it('shows a login link’s request without scanning it: nothing is bound and the browser hears nothing until the tap (item 11)', async () => {
    const { config } = await registerSite(p, { name: 'Linked Site' });
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const [looker, other] = [await signedInPhone(p), await signedInPhone(p)];
    const preview = await looker.call('GET', `/requests/${body.qrId}`);
    expect(preview.status).toBe(200);
    expect(await preview.json()).toMatchObject({ qrId: body.qrId, status: 'pending', app: { name: 'Linked Site' }, requester: { ip: expect.any(String) } });
    expect((await login.qr()).body.status).toBe('pending'); // the browser saw nothing
    expect((await other.scan(body.payload)).status).toBe(200); // and anyone may still scan it
    expect((await looker.call('GET', `/requests/${body.qrId}`)).status).toBe(409); // now someone else's
  });

  it('ends a phone sign-in left unused for DEVICE_SESSION_IDLE_DAYS (decided: device sessions no longer last forever)', async () => {
    const phone = await signedInPhone(p);
    await p.saoma.db.prisma.deviceSession.updateMany({ where: { userId: phone.user.id }, data: { lastUsedAt: new Date(Date.now() - 31 * 24 * 3600_000) } });
    expect((await phone.call('GET', '/me')).status).toBe(401);
    const again = await signedInPhone(p);
    expect((await again.call('GET', '/me')).status).toBe(200);
  });

  it('answers an audit cursor past the integer range with 400 and the documented error shape (item 15)', async () => {
    const { app } = await registerSite(p);
    const token = await adminToken(p);
    const audit = await fetch(`${p.issuer}/api/admin/apps/${app.appId}/audit?before=${'9'.repeat(19)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(audit.status).toBe(400);
    expect(await audit.json()).toMatchObject({ error: 'invalid_request' });
  });
});

describe.skipIf(skip)('trust: the phone sign-in limiter keeps no per-username state for an address over its limit (item 10)', () => {
  const p = useProvider('services', { TRUST_PROXY: '1', RATE_LIMIT_PHONE_LOGIN_IP: '3/900', RATE_LIMIT_PHONE_LOGIN: '10/900' });

  it('checks the per-address limit first: usernames tried after it answers 429 create no counters', async () => {
    const login = (username: string) =>
      fetch(`${p.issuer}/api/mobile/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...from('203.0.113.44') },
        body: JSON.stringify({ username, password: 'wrong password' }),
      });
    for (let i = 0; i < 3; i++) expect((await login(`spray${i}`)).status).toBe(401);
    for (let i = 3; i < 20; i++) expect((await login(`spray${i}`)).status).toBe(429);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${p.redisPrefix}rl:phone-login:*`);
      expect(keys).toHaveLength(3); // one per username tried within the address's limit, no more
    } finally {
      redis.disconnect();
    }
  });
});

describe.skipIf(skip)('trust: create-if-missing paths under concurrency (item 16)', () => {
  for (const kind of ['services', 'embedded'] as const) {
    it(`creates 20 apps at once on a fresh ${kind === 'services' ? 'PostgreSQL' : 'PGlite'} database: every one succeeds`, async () => {
      const p = await startTestProvider(kind);
      try {
        const created = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => p.saoma.apps.create({ name: `Burst ${i}`, redirectUris: [REDIRECT_URI] })),
        );
        expect(created.filter((r) => r.status === 'rejected').map((r) => String(r.reason))).toEqual([]);
        expect(await p.saoma.db.prisma.developerAccount.count()).toBe(1);
      } finally {
        await p.close();
      }
    });
  }
});
