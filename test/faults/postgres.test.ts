/**
 * PostgreSQL goes away (a server of this test's own, stopped and started again).
 * Defined behaviour: every surface answers 503 `temporarily_unavailable` with Retry-After
 * (never a 500), nothing is half-written (a registration during the outage leaves no user; a
 * completion during the outage leaves the confirmed QR completable, not consumed without a
 * grant), and the provider recovers by itself once PostgreSQL is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import { CALLBACK, qrconnectUrl, wechatApp } from '../wechat/support.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessRedis } from '../support/services.js';
import { startProviderWith } from '../hardening/support.js';
import { parseSamples, total } from '../ops/prometheus.js';
import { skipUnlessPostgresServer, startOwnPostgres, type OwnPostgres } from './servers.js';
import { closeStarted } from '../support/harness.js';

const skip = (await skipUnlessRedis()) || skipUnlessPostgresServer();

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function expectUnavailable(res: Response, what: string) {
  const text = await res.text();
  expect(res.status, `${what}: ${text.slice(0, 200)}`).toBe(503);
  expect(Number(res.headers.get('retry-after')), `${what}: Retry-After`).toBeGreaterThan(0);
  expect(text).not.toMatch(/\bat \w+ \(|node_modules|prisma\./i);
  if ((res.headers.get('content-type') ?? '').includes('json')) expect(JSON.parse(text)).toMatchObject({ error: 'temporarily_unavailable' });
}

describe.skipIf(skip)('PostgreSQL unavailable (own PostgreSQL server, shared Redis)', () => {
  let pg: OwnPostgres;
  let p: TestProvider;
  beforeAll(async () => {
    pg = await startOwnPostgres();
    p = await startProviderWith({ databaseUrl: pg.url });
  }, 90_000);
  afterAll(async () => {
    await closeStarted(p, pg);
  });

  async function outage<T>(during: () => Promise<T>, mode: 'fast' | 'immediate' = 'fast'): Promise<T> {
    await pg.stop(mode);
    try {
      return await during();
    } finally {
      await pg.start();
      await eventually('the provider to reach PostgreSQL again', async () => (await fetch(`${p.issuer}/readyz`)).status === 200);
    }
  }

  it('answers 503 on the phone API and writes nothing; registering works again afterwards', async () => {
    const phone = await signedInPhone(p);
    const scrape = async () => parseSamples(await p.saoma.metrics.registry.metrics());
    const errorsBefore = total(await scrape(), 'saoma_backend_errors_total', { backend: 'database' });
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${p.issuer}/api/mobile${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    await outage(async () => {
      await expectUnavailable(await post('/register', { username: 'outage_user', password: 'long enough pw' }), 'register');
      await expectUnavailable(await post('/login', { username: phone.username, password: phone.password }), 'login');
      await expectUnavailable(await fetch(`${p.issuer}/api/mobile/me`, { headers: { authorization: `Bearer ${phone.token}` } }), 'me');
      expect((await fetch(`${p.issuer}/readyz`)).status).toBe(503);
      // Metrics say which service is down and count the requests it failed.
      const during = await scrape();
      expect(total(during, 'saoma_backend_up', { backend: 'database' })).toBe(0);
      expect(total(during, 'saoma_backend_up', { backend: 'store' })).toBe(1);
      expect(total(during, 'saoma_backend_errors_total', { backend: 'database' }) - errorsBefore).toBeGreaterThanOrEqual(3);
    });
    expect(total(await scrape(), 'saoma_backend_up', { backend: 'database' })).toBe(1);
    expect(await p.saoma.db.prisma.user.findUnique({ where: { username: 'outage_user' } })).toBeNull();
    expect((await post('/register', { username: 'outage_user', password: 'long enough pw' })).status).toBe(201);
    expect((await fetch(`${p.issuer}/api/mobile/me`, { headers: { authorization: `Bearer ${phone.token}` } })).status).toBe(200);
  }, 60_000);

  it('answers 503 (not 500) at the token endpoint and the authorization endpoint', async () => {
    const { app } = await registerSite(p);
    await outage(async () => {
      const token = await fetch(`${p.issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${app.appId}:${app.appSecret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }),
      });
      await expectUnavailable(token, 'token');
      const auth = await fetch(`${p.issuer}/auth?client_id=sm-not-cached&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`, {
        redirect: 'manual',
      });
      await expectUnavailable(auth, 'authorize');
    });
  }, 60_000);

  it('keeps a confirmed login completable when the completion meets the outage (no QR consumed without a grant)', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    expect((await phone.confirm(body.qrId)).status).toBe(200);
    await outage(async () => {
      const res = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/complete`);
      await expectUnavailable(res, 'complete');
    });
    const { url } = await login.complete();
    expect(url.searchParams.get('code'), `landed on ${url}`).toBeTruthy();
    const grants = await p.saoma.db.prisma.oidcPayload.count({ where: { kind: 'Grant', accountId: phone.user.id } });
    expect(grants).toBe(1);
  }, 60_000);

  it('keeps a confirmed embedded-QR login completable when its completion meets the outage (the embed writes first, claims last)', async () => {
    const app = await wechatApp(p);
    const phone = await signedInPhone(p);
    const res = await fetch(qrconnectUrl(p, { appid: app.appId, redirect_uri: CALLBACK, state: 'EMB', login_type: 'jssdk' }));
    const html = await res.text();
    const token = /"token":"([^"]+)"/.exec(html)![1];
    const payload = /id="wx-qr-link" href="([^"]+)"/.exec(html)![1];
    expect((await phone.scan(payload)).status).toBe(200);
    const { qrId } = (await (await fetch(`${p.issuer}/connect/embed/${token}/qr`)).json()) as { qrId: string };
    expect((await phone.confirm(qrId)).status).toBe(200);
    const complete = () => fetch(`${p.issuer}/connect/embed/${token}/complete`, { redirect: 'manual' });
    await outage(async () => expectUnavailable(await complete(), 'embedded complete'));
    const done = await complete();
    expect(done.status).toBe(302);
    const landed = new URL(done.headers.get('location')!);
    expect(landed.searchParams.get('code'), `landed on ${landed}`).toBeTruthy();
    expect(landed.searchParams.get('state')).toBe('EMB');
  }, 60_000);

  it('answers 503 when PostgreSQL crashes under open connections (immediate stop), then recovers', async () => {
    const phone = await signedInPhone(p);
    // The activity list reads PostgreSQL on every call (the device session itself is cached).
    const activity = () => fetch(`${p.issuer}/api/mobile/activity`, { headers: { authorization: `Bearer ${phone.token}` } });
    // Several requests at once, so the pool holds several connections when the server dies.
    await Promise.all(Array.from({ length: 8 }, activity));
    await outage(async () => {
      const answers = await Promise.all(Array.from({ length: 8 }, activity));
      for (const res of answers) await expectUnavailable(res, 'activity after a crash');
    }, 'immediate');
    expect((await activity()).status).toBe(200);
  }, 60_000);
});
