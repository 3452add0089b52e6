/**
 * /metrics (Prometheus text) on PostgreSQL + Redis: who may read it, and that the counts move
 * with what happens — a login through every stage, the decision reaching a waiting page, HTTP
 * requests by route template, a rate limit refusing, the backing services' state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken } from '../admin/support.js';
import { beginLogin, finishAtSite, registerSite, signedInPhone } from '../support/flow.js';
import { closeStarted, startTestProvider, type TestProvider } from '../support/harness.js';
import { freePort, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { parseSamples, total } from './prometheus.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('/metrics', () => {
  let p: TestProvider;
  let token: string;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    p = await startTestProvider('services', { RATE_LIMIT_PHONE_LOGIN: '1/600', METRICS_PORT: String(metricsPort) });
    token = await adminToken(p, 'scraper');
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  const scrape = async () => {
    const res = await fetch(`${p.issuer}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, samples: parseSamples(text) };
  };

  it('is not public: without an admin token it answers 401, with one the metrics', async () => {
    const none = await fetch(`${p.issuer}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toBe('invalid_token');
    const wrong = await fetch(`${p.issuer}/metrics`, { headers: { authorization: `Bearer sat_${'x'.repeat(43)}` } });
    expect(wrong.status).toBe(401);
    const { samples } = await scrape();
    expect(total(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(total(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts a login through every stage, the decision reaching the waiting page, and requests by route template', async () => {
    const { app, config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const before = (await scrape()).samples;
    const stage = (samples: typeof before, s: string) => total(samples, 'saoma_logins_total', { app: app.appId, stage: s });
    const notified = (samples: typeof before) => total(samples, 'saoma_login_notify_seconds_count', { outcome: 'confirmed' });

    const login = await beginLogin(p, config);
    const { body: qr } = await login.qr();
    expect((await phone.scan(qr.payload)).status).toBe(200);
    // The page long-polls for the next change; the confirm below is published and wakes it.
    const poll = login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/status?last=scanned&wait=20`);
    await until(async () => total((await scrape()).samples, 'saoma_waiting_pages') === 1);
    expect((await phone.confirm(qr.qrId)).status).toBe(200);
    expect(((await (await poll).json()) as { status: string }).status).toBe('confirmed');
    const { url } = await login.complete();
    await finishAtSite(config, url, login);

    const { samples, text } = await scrape();
    for (const s of ['created', 'scanned', 'confirmed', 'completed']) expect(stage(samples, s) - stage(before, s), s).toBe(1);
    expect(stage(samples, 'denied')).toBe(0);
    expect(notified(samples) - notified(before)).toBe(1);
    expect(total(samples, 'saoma_waiting_pages')).toBe(0);
    const requests = (route: string, method: string) => total(samples, 'saoma_http_request_duration_seconds_count', { route, method });
    expect(requests('/token', 'POST')).toBeGreaterThanOrEqual(1); // oidc-provider's endpoint, named by its path
    expect(requests('/auth', 'GET')).toBeGreaterThanOrEqual(1);
    expect(requests('/interaction/:uid/qr/status', 'GET')).toBe(1);
    expect(requests('/api/mobile/scans/:qrId/confirm', 'POST')).toBeGreaterThanOrEqual(1);
    // Templates only: no login, QR or interaction id ever becomes a label.
    expect(text).not.toContain(login.uid);
    expect(text).not.toContain(qr.qrId);
  });

  it('counts rate-limit refusals by limit, and shows both backing services up', async () => {
    const before = total((await scrape()).samples, 'saoma_rate_limit_refusals_total', { limit: 'phone-login' });
    const wrong = () =>
      fetch(`${p.issuer}/api/mobile/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'nobody-here', password: 'wrong password' }),
      });
    expect((await wrong()).status).toBe(401);
    expect((await wrong()).status).toBe(429);
    const { samples } = await scrape();
    expect(total(samples, 'saoma_rate_limit_refusals_total', { limit: 'phone-login' }) - before).toBe(1);
    expect(total(samples, 'saoma_backend_up', { backend: 'database' })).toBe(1);
    expect(total(samples, 'saoma_backend_up', { backend: 'store' })).toBe(1);
  });

  it('is served without a token on METRICS_PORT, which serves nothing else', async () => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(total(parseSamples(await res.text()), 'saoma_http_request_duration_seconds_count', { route: '/token' })).toBeGreaterThanOrEqual(1);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/api/admin/apps`)).status).toBe(404);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
