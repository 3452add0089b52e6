/**
 * Request ids: every response carries `X-Request-Id`; every log line written while serving the
 * request carries it as `requestId`; error bodies name it (our JSON, oidc-provider's OAuth JSON,
 * WeChat's errmsg, error pages). A proxied id is honoured only behind a trusted proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger, startProviderWith } from '../hardening/support.js';
import { registerSite } from '../support/flow.js';
import { closeStarted, type TestProvider, useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('request ids behind a trusted proxy (TRUST_PROXY=1)', () => {
  let p: TestProvider;
  const { log, lines } = capturingLogger('debug');
  beforeAll(async () => {
    p = await startProviderWith({ log, env: { TRUST_PROXY: '1' } });
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  const logged = () => lines.map((l) => JSON.parse(l) as { msg: string; requestId?: string; route?: string; status?: number });

  it("puts the proxy's id on every log line of its request, and in the OAuth error body", async () => {
    const { app } = await registerSite(p);
    const from = lines.length;
    const basic = `Basic ${Buffer.from(`${app.appId}:not-the-secret`).toString('base64')}`;
    const res = await fetch(`${p.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'x-request-id': 'proxy-req.0042', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: 'http://127.0.0.1:5999/callback' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('proxy-req.0042');
    expect(await res.json()).toMatchObject({ error: 'invalid_client', request_id: 'proxy-req.0042' });
    const mine = logged().slice(from);
    // The failed secret (warn) and the request line (debug), at least; none without the id.
    expect(mine.map((l) => l.msg)).toEqual(expect.arrayContaining(['client authentication failed', 'request']));
    for (const line of mine) expect(line.requestId, JSON.stringify(line)).toBe('proxy-req.0042');
    expect(mine.find((l) => l.msg === 'request')).toMatchObject({ route: '/token', status: 401 });
  });

  it('keeps the ids of concurrent requests apart', async () => {
    const from = lines.length;
    const ids = Array.from({ length: 8 }, (_, i) => `concurrent-${i}`);
    await Promise.all(ids.map((id) => fetch(`${p.issuer}/api/mobile/me`, { headers: { 'x-request-id': id } })));
    const requestLines = logged()
      .slice(from)
      .filter((l) => l.msg === 'request');
    expect(requestLines.map((l) => l.requestId).sort()).toEqual(ids);
  });

  it('replaces an id that is too long or carries other characters', async () => {
    for (const bad of ['x'.repeat(129), 'has space', 'quote"inside', '']) {
      const res = await fetch(`${p.issuer}/healthz`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id')!;
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    }
    const longest = 'a'.repeat(128);
    expect((await fetch(`${p.issuer}/healthz`, { headers: { 'x-request-id': longest } })).headers.get('x-request-id')).toBe(longest);
  });
});

describe.skipIf(skip)('request ids without a trusted proxy', () => {
  const p = useProvider('services');

  it("ignores a client's X-Request-Id and makes its own", async () => {
    const res = await fetch(`${p.issuer}/healthz`, { headers: { 'x-request-id': 'chosen-by-client' } });
    expect(res.headers.get('x-request-id')).not.toBe('chosen-by-client');
    expect(res.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]{21}$/);
  });

  it('names the request in 4xx bodies of every surface: our JSON, WeChat errmsg, error pages, the console', async () => {
    const json = await fetch(`${p.issuer}/api/mobile/me`);
    expect(json.status).toBe(401);
    expect(await json.json()).toMatchObject({ error: 'invalid_token', request_id: json.headers.get('x-request-id') });

    const sns = await fetch(`${p.issuer}/sns/oauth2/access_token?appid=wx0123456789abcdef&secret=s&code=c&grant_type=authorization_code`);
    const body = (await sns.json()) as { errcode: number; errmsg: string };
    expect(body).toEqual({ errcode: 40013, errmsg: `invalid appid, rid: ${sns.headers.get('x-request-id')}` });

    const page = await fetch(
      `${p.issuer}/connect/qrconnect?appid=wx0123456789abcdef&redirect_uri=https%3A%2F%2Fx.test%2F&response_type=code&scope=snsapi_login`,
    );
    expect(page.status).toBe(400);
    expect(await page.text()).toContain(`<code>${page.headers.get('x-request-id')}</code>`);

    const oidcPage = await fetch(`${p.issuer}/auth?client_id=unknown&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.test%2F`, {
      headers: { accept: 'text/html' },
    });
    expect(oidcPage.status).toBe(400);
    expect(await oidcPage.text()).toContain(`<code>${oidcPage.headers.get('x-request-id')}</code>`);

    const consolePage = await fetch(`${p.issuer}/admin/login`, { method: 'POST', headers: { origin: 'https://elsewhere.example' } });
    expect(consolePage.status).toBe(403);
    expect(await consolePage.text()).toContain(`<code>${consolePage.headers.get('x-request-id')}</code>`);
  });
});
