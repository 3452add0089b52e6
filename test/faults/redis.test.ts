/**
 * Redis fails mid-login (a redis-server of this test's own, killed and restarted).
 * Defined behaviour:
 * - while it is down, every QR endpoint and the phone API answer within seconds with 503
 *   `{error: "temporarily_unavailable"}` and Retry-After: the page keeps retrying, it does not
 *   give up ("gone") and it is never left hanging;
 * - when it comes back with its data (AOF), the same login carries on by itself: the open SSE
 *   stream delivers the scan, and the browser completes with a code;
 * - when it comes back empty, the login is cleanly over: 400 interaction_not_found (the page
 *   says "start again"), never a 500, and a new login works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, skipUnlessChromium } from '../browser/support.js';
import { authorizationUrl, beginLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres } from '../support/services.js';
import { startProviderWith } from '../hardening/support.js';
import { parseSamples, total } from '../ops/prometheus.js';
import { skipUnlessRedisServer, startOwnRedis, type OwnRedis } from './servers.js';
import { closeStarted } from '../support/harness.js';

const skip = (await skipUnlessPostgres()) || skipUnlessRedisServer();

/** Collects SSE `status` events from a streaming response in the background. */
function watchEvents(res: Response) {
  const events: Array<{ status: string }> = [];
  let ended: 'clean' | 'error' | null = null;
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    try {
      for (;;) {
        const { done: finished, value } = await reader.read();
        if (finished) return void (ended = 'clean');
        buffer += decoder.decode(value, { stream: true });
        let i;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (/^event: status$/m.test(block)) events.push(JSON.parse(/^data: (.*)$/m.exec(block)![1]));
        }
      }
    } catch {
      ended = 'error';
    }
  })();
  return { events, ended: () => ended, done, cancel: () => reader.cancel().catch(() => {}) };
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function timed<T>(fn: () => Promise<T>) {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

describe.skipIf(skip)('Redis stopped mid-login and restarted (own redis-server, shared PostgreSQL)', () => {
  let redis: OwnRedis;
  let p: TestProvider;
  beforeAll(async () => {
    redis = await startOwnRedis();
    p = await startProviderWith({ redisUrl: redis.url });
  }, 60_000);
  afterAll(async () => {
    await closeStarted(p, redis);
  });

  it('answers 503 temporarily_unavailable with Retry-After while Redis is down, then the same login carries on', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await beginLogin(p, config);
    const { body: qr } = await login.qr();
    const stream = watchEvents(await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/events`));
    await eventually('the first SSE event', () => Promise.resolve(stream.events.length > 0));
    // A long-poll waiting when Redis dies.
    const waiting = timed(() => login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/status?last=pending&wait=8`));

    await redis.stop({ keepData: true });
    try {
      for (const path of ['/qr/status?last=pending&wait=5', '/qr']) {
        const { value: res, ms } = await timed(() => login.browser.fetch(`${p.issuer}/interaction/${login.uid}${path}`));
        expect(res.status, `${path}: ${await res.clone().text()}`).toBe(503);
        expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(ms, `${path} answered after ${ms} ms`).toBeLessThan(6_000);
      }
      const page = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}`);
      expect(page.status).toBe(503);
      expect(await page.text()).not.toMatch(/\bat \w+ \(|node_modules/);
      const scan = await phone.scan(qr.payload);
      expect(scan.status).toBe(503);
      expect(await scan.json()).toMatchObject({ error: 'temporarily_unavailable' });
      const { value: held, ms } = await waiting;
      expect([200, 503], `held long-poll answered ${held.status}`).toContain(held.status);
      expect(ms).toBeLessThan(15_000);
      expect((await fetch(`${p.issuer}/readyz`)).status).toBe(503);
      // Metrics say the store is down and count the requests it failed (the 503s above).
      const samples = parseSamples(await p.saoma.metrics.registry.metrics());
      expect(total(samples, 'saoma_backend_up', { backend: 'store' })).toBe(0);
      expect(total(samples, 'saoma_backend_up', { backend: 'database' })).toBe(1);
      expect(total(samples, 'saoma_backend_errors_total', { backend: 'store' })).toBeGreaterThanOrEqual(3);
    } finally {
      await redis.start();
    }

    await eventually('the provider to see Redis again', async () => (await fetch(`${p.issuer}/readyz`)).status === 200);
    const scanned = await eventually('a scan after the restart', async () => ((await phone.scan(qr.payload)).status === 200 ? true : undefined));
    expect(scanned).toBe(true);
    // The stream opened before the outage hears it (ioredis re-subscribed): no reload needed.
    await eventually('the open SSE stream to deliver "scanned"', () => Promise.resolve(stream.events.some((e) => e.status === 'scanned')));
    expect((await phone.confirm(qr.qrId)).status).toBe(200);
    const { url } = await login.complete();
    expect(url.searchParams.get('code')).toBeTruthy();
    await stream.cancel();
  }, 60_000);

  it('ends the login cleanly when Redis comes back empty: 400 interaction_not_found, never a 500; a new login works', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await beginLogin(p, config);
    const { body: qr } = await login.qr();
    await redis.stop({ keepData: false });
    await redis.start();
    await eventually('the provider to see Redis again', async () => (await fetch(`${p.issuer}/readyz`)).status === 200);
    for (const path of ['/qr/status?last=pending&wait=0', '/qr', '/complete']) {
      const res = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}${path}`);
      expect(res.status, path).toBe(400);
      expect(await res.text(), path).toContain('interaction_not_found');
    }
    const scan = await phone.scan(qr.payload);
    expect(scan.status).toBe(404);
    expect(await scan.json()).toMatchObject({ error: 'qr_not_found' });
    const fresh = await beginLogin(p, config);
    expect((await phone.scan((await fresh.qr()).body.payload)).status).toBe(200);
  }, 60_000);

  describe.skipIf(skipUnlessChromium())('the QR page in Chromium', () => {
    it('waits through a Redis outage without a reload storm, then logs in once Redis is back', async () => {
      const { config } = await registerSite(p);
      const phone = await signedInPhone(p);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const { url } = await authorizationUrl(config, { state: 'st' });
        await page.goto(url.href);
        const payload = await page.locator('#qr-link').getAttribute('href');
        await page.waitForFunction(() => document.getElementById('qr-root')?.dataset.status === 'pending');
        await page.waitForTimeout(500); // the SSE stream is open
        let requests = 0;
        page.on('request', () => {
          requests++;
        });
        const landed = page.waitForRequest((r) => r.url().startsWith(REDIRECT_URI), { timeout: 30_000 });

        await redis.stop({ keepData: true });
        await page.waitForTimeout(8_000);
        expect(requests, 'requests during an 8 s outage').toBeLessThan(12);
        expect(await page.evaluate(() => document.getElementById('qr-root')?.dataset.status)).not.toBe('gone');
        await redis.start();

        await eventually('a scan after the restart', async () => ((await phone.scan(payload!)).status === 200 ? true : undefined));
        await eventually(
          'the page to show the scan',
          async () => (await page.evaluate(() => document.getElementById('qr-root')?.dataset.status)) === 'scanned',
        );
        expect((await phone.confirm(payload!.split('/q/')[1])).status).toBe(200);
        const callback = new URL((await landed).url());
        expect(callback.searchParams.get('code')).toBeTruthy();
        expect(callback.searchParams.get('state')).toBe('st');
      } finally {
        await browser.close();
      }
    }, 90_000);
  });
});
