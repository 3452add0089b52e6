/**
 * Races on real PostgreSQL + Redis, fired concurrently over keep-alive connections: every
 * single-use step (code redemption, scan, decision, completion, QR rotation) lands once.
 */
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../provider/src/accounts/passwords.js';
import { createDeviceTokens } from '../../provider/src/mobile/device-tokens.js';
import { beginLogin, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { httpClient, LEAK, startProviderWith } from './support.js';
import { closeStarted } from '../support/harness.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const QR_TTL = 4;

describe.skipIf(skip)('races on PostgreSQL + Redis', () => {
  let p: TestProvider;
  let http: ReturnType<typeof httpClient>;
  beforeAll(async () => {
    p = await startProviderWith({ env: { QR_TTL: String(QR_TTL) } });
    http = httpClient(p.issuer, { maxSockets: 100, timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await closeStarted(http, p);
  });

  /** A decided login: the site's app, the phone, the browser at the QR page and the QR. */
  async function scannedLogin() {
    const site = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await beginLogin(p, site.config);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    return { ...site, phone, login, qrId: body.qrId };
  }

  /** Signed-in phones without 100 password hashes: users and device tokens straight in the database. */
  async function phones(n: number) {
    const passwordHash = await hashPassword('unused password');
    const tokens = createDeviceTokens(p.saoma.db.prisma);
    const users = Array.from({ length: n }, (_, i) => ({
      id: `usr_race${nanoid(10)}`,
      username: `race${i}_${nanoid(6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, 'x')}`,
      passwordHash,
      nickname: `Racer ${i}`,
    }));
    await p.saoma.db.prisma.user.createMany({ data: users });
    return Promise.all(users.map(async (u) => ({ user: u, token: await tokens.issue(u.id, 'race phone') })));
  }

  const json = (r: { text: string }) => JSON.parse(r.text) as Record<string, unknown>;

  it('lets exactly one of 1,000 concurrent redemptions of one code succeed; the rest get invalid_grant and the winner is revoked', async () => {
    const { app, phone, login, qrId } = await scannedLogin();
    expect((await phone.confirm(qrId)).status).toBe(200);
    const { url } = await login.complete();
    const code = url.searchParams.get('code')!;
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: login.codeVerifier }).toString();
    const headers = {
      authorization: `Basic ${Buffer.from(`${app.appId}:${app.appSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    };
    const results = await Promise.all(Array.from({ length: 1000 }, () => http.request('POST', '/token', { headers, body })));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    const failed = results.filter((r) => r.status === 400);
    expect(failed).toHaveLength(999);
    for (const r of failed) expect(json(r).error).toBe('invalid_grant');
    for (const r of results) expect(r.text).not.toMatch(LEAK);
    // A code used twice is treated as stolen: what the one success issued no longer works.
    const me = await fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${json(ok[0]).access_token as string}` } });
    expect(me.status).toBe(401);
  });

  it('lets exactly one of 100 phones scanning one QR at once have it; the other 99 get already_scanned', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const racers = await phones(100);
    const results = await Promise.all(
      racers.map(({ token }) =>
        http.request('POST', '/api/mobile/scans', {
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ payload: body.payload }),
        }),
      ),
    );
    const winners = results.map((r, i) => [r, racers[i]] as const).filter(([r]) => r.status === 200);
    expect(winners).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 200);
    expect(losers).toHaveLength(99);
    for (const r of losers) expect(json(r)).toMatchObject({ error: 'already_scanned' });
    // The browser sees the winner, and only the winner can decide.
    const status = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/qr/status?last=pending&wait=0`);
    expect(await status.json()).toMatchObject({ status: 'scanned', user: { nickname: winners[0][1].user.nickname } });
    const intruder = racers.find((r) => r !== winners[0][1])!;
    const decision = await http.request('POST', `/api/mobile/scans/${body.qrId}/confirm`, { headers: { authorization: `Bearer ${intruder.token}` } });
    expect(decision.status).toBe(403);
    expect(json(decision).error).toBe('not_yours');
  });

  it('decides once: of 50 concurrent confirms and denies by the scanner, one decision wins and the other kind is refused', async () => {
    const { phone, login, qrId } = await scannedLogin();
    const kinds = Array.from({ length: 50 }, (_, i) => (i % 2 ? 'confirm' : 'deny'));
    const auth = { authorization: `Bearer ${phone.token}` };
    const results = await Promise.all(kinds.map((k) => http.request('POST', `/api/mobile/scans/${qrId}/${k}`, { headers: auth })));
    const decided = new Set(results.filter((r) => r.status === 200).map((r) => json(r).status));
    expect(decided.size).toBe(1);
    const winner = [...decided][0] as 'confirmed' | 'denied';
    results.forEach((r, i) => {
      const same = (kinds[i] === 'confirm') === (winner === 'confirmed');
      // The winning kind repeats idempotently; the other kind is refused.
      expect(r.status, `${kinds[i]} → ${r.text}`).toBe(same ? 200 : 409);
      if (!same) expect(json(r).error).toBe('already_decided');
    });
    const { url } = await login.complete();
    if (winner === 'confirmed') expect(url.searchParams.get('code')).toBeTruthy();
    else expect(url.searchParams.get('error')).toBe('access_denied');
  });

  it('completes once: of 50 concurrent completions one redirects with a code, the rest get already_completed, one grant is left', async () => {
    const { app, phone, login, qrId } = await scannedLogin();
    expect((await phone.confirm(qrId)).status).toBe(200);
    const cookie = login.browser.cookieHeader(new URL(`${p.issuer}/interaction/${login.uid}/complete`));
    const results = await Promise.all(Array.from({ length: 50 }, () => http.request('GET', `/interaction/${login.uid}/complete`, { headers: { cookie } })));
    const redirects = results.filter((r) => r.status === 303 || r.status === 302);
    expect(redirects).toHaveLength(1);
    const refused = results.filter((r) => r.status === 409);
    expect(refused).toHaveLength(49);
    for (const r of refused) expect(r.text).toContain('already_completed');
    const { url } = await login.browser.navigate(new URL(String(redirects[0].headers.location), p.issuer), (u) => u.href.startsWith(REDIRECT_URI));
    expect(url.searchParams.get('code')).toBeTruthy();
    const grants = await p.saoma.db.prisma.oidcPayload.count({ where: { kind: 'Grant', accountId: phone.user.id, clientId: app.appId } });
    expect(grants).toBe(1);
  });

  it('rotates once: 20 tabs asking for a fresh QR after expiry all get the same new one', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const first = (await login.qr()).body.qrId;
    await new Promise((r) => setTimeout(r, QR_TTL * 1000 + 100));
    const cookie = login.browser.cookieHeader(new URL(`${p.issuer}/interaction/${login.uid}/qr`));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => http.request('GET', `/interaction/${login.uid}/qr`, { headers: { cookie, accept: 'application/json' } })),
    );
    const ids = new Set(results.map((r) => (r.status === 200 ? json(r).qrId : r.status)));
    expect(ids.size).toBe(1);
    expect([...ids][0]).not.toBe(first);
  });
});
