import { beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../../provider/src/login/clock.js';
import { TestBrowser } from '../support/browser.js';
import { type Phone, beginLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

/** Reads SSE `status` events from a streaming response until `until` returns true. */
async function readEvents(res: Response, until: (events: Array<Record<string, unknown>>) => boolean, timeoutMs = 5000) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<Record<string, unknown>> = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  while (!until(events) && Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now()))]);
    if (!chunk || chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let idx;
    while ((idx = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, idx);
      buffer = buffer.slice(idx + 2);
      if (/^event: status$/m.test(block)) events.push(JSON.parse(/^data: (.*)$/m.exec(block)![1]));
    }
  }
  await reader.cancel();
  return events;
}

describe.skipIf(skip)('the QR interaction (API.md §2) on real PostgreSQL + Redis', () => {
  // Time moves when a test says so: a QR's 120 s pass in no time, and a slow box cannot expire one early.
  const clock = createTestClock();
  const p = useProvider('services', { QR_TTL: '120', QR_COMPLETE_TTL: '60' }, { clock });
  let shared: Phone;
  beforeAll(async () => {
    shared = await signedInPhone(p);
  });

  it('shows the app name, a QR SVG and the QR link in text on the page', async () => {
    const { config, app } = await registerSite(p, { name: 'Page Test Site', logoUrl: 'https://cdn.example/logo.png' });
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    expect(login.html).toContain('Page Test Site');
    expect(login.html).toContain('https://cdn.example/logo.png');
    expect(login.html).toContain('<svg');
    expect(login.html).toContain(`${p.issuer}/q/${body.qrId}`);
    expect(login.html).not.toContain(login.uid.repeat(2)); // sanity
    expect(body.payload).toBe(`${p.issuer}/q/${body.qrId}`);
    expect(body.qrId).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(body.payload).not.toContain(login.uid); // the QR never carries the interaction id
    expect(app.appId).toBeTruthy();
  });

  it('returns the same QR until it expires, then a fresh one; the old qrId answers expired', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const a = (await login.qr()).body;
    const b = (await login.qr()).body;
    expect(b.qrId).toBe(a.qrId);
    clock.advance(119_000);
    expect((await login.qr()).body.qrId).toBe(a.qrId);
    clock.advance(1_001);
    const c = (await login.qr()).body;
    expect(c.qrId).not.toBe(a.qrId);
    expect(c.status).toBe('pending');
    const phone = shared;
    const stale = await phone.scan(a.payload);
    expect(stale.status).toBe(410);
    expect((await stale.json()).error).toBe('qr_expired');
    expect((await phone.scan(c.payload)).status).toBe(200);
  });

  it('answers the QR endpoints only to the browser holding the interaction cookie', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const stranger = new TestBrowser();
    for (const path of ['/qr', '/qr/status?wait=0', '/complete']) {
      const res = await stranger.fetch(`${p.issuer}/interaction/${login.uid}${path}`);
      expect(res.status, path).toBe(400);
      const text = await res.text();
      expect(text, path).toContain('interaction_not_found');
      expect(text).not.toMatch(/at \w+ \(/); // no stack trace
    }
    // Another login's cookie does not open this one either.
    const other = await beginLogin(p, config);
    const res = await other.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr`);
    expect(res.status).toBe(400);
  });

  it('streams every status change over SSE, with the scanner shown after the scan', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    const stream = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/events`);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const eventsP = readEvents(stream, (ev) => ev.some((e) => e.status === 'confirmed'));
    await new Promise((r) => setTimeout(r, 100));
    await phone.scan(body.payload);
    await phone.confirm(body.qrId);
    const events = await eventsP;
    expect(events.map((e) => e.status)).toEqual(['pending', 'scanned', 'confirmed']);
    expect(events[0].user).toBeUndefined();
    expect(events[1].user).toEqual({ nickname: phone.user.nickname, picture: null });
  });

  it('long-polls: answers at once when the status differs, else waits for the change', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    const now = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/status?last=scanned&wait=10`);
    expect((await now.json()).status).toBe('pending');
    const started = Date.now();
    const waiting = login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/status?last=pending&wait=10`);
    setTimeout(() => void phone.scan(body.payload), 300);
    const changed = (await (await waiting).json()) as { status: string; user: { nickname: string } };
    expect(changed.status).toBe('scanned');
    expect(changed.user.nickname).toBe(phone.user.nickname);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects a bad long-poll wait with the documented error shape', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    for (const q of ['wait=31', 'wait=-1', 'wait=abc', 'last=bogus']) {
      const res = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/status?${q}`);
      expect(res.status, q).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    }
  });

  it('completes once: one of many concurrent completions gets the redirect with a code', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    expect((await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/complete`)).status).toBe(409); // not decided yet
    await phone.scan(body.payload);
    await phone.confirm(body.qrId);
    const results = await Promise.all(Array.from({ length: 10 }, () => login.browser.fetch(`${p.issuer}/interaction/${login.uid}/complete`)));
    const redirects = results.filter((r) => r.status === 303 || r.status === 302);
    expect(redirects).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(9);
    const { url } = await login.browser.navigate(new URL(redirects[0].headers.get('location')!, p.issuer), (u) => u.href.startsWith(REDIRECT_URI));
    expect(url.searchParams.get('code')).toBeTruthy();
    expect(url.searchParams.get('state')).toBe(login.state);
  });

  it('sends the site access_denied with its state when the person denies on the phone', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    await phone.scan(body.payload);
    expect(await (await phone.deny(body.qrId)).json()).toEqual({ status: 'denied' });
    const { url } = await login.complete();
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(url.searchParams.get('state')).toBe(login.state);
    expect(url.searchParams.get('code')).toBeNull();
  });

  it('expires a confirmed login that its browser never completes', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    await phone.scan(body.payload);
    await phone.confirm(body.qrId);
    clock.advance(60_001); // QR_COMPLETE_TTL
    const res = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/complete`);
    expect(res.status).toBe(410);
  });
});
