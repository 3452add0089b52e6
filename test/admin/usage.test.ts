/**
 * Per-app login counts (last 24 h / 30 days) and the audit trail, through the admin API, on
 * PostgreSQL + Redis and on the embedded default (the counts are one SQL query on both).
 * QR_TTL is 2 s here so a scan left undecided expires within the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginLogin, REDIRECT_URI, signedInPhone, siteConfig, type Phone } from '../support/flow.js';
import { startTestProvider, type StorageKind, type TestProvider, closeStarted } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { adminApi, adminToken, type AdminApi } from './support.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const DAY = 24 * 3600 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each<[StorageKind, boolean]>([
  ['services', servicesMissing],
  ['embedded', false],
])('app usage and audit trail (%s)', (kind, skip) => {
  let p: TestProvider;
  let api: AdminApi;
  let phone: Phone;
  beforeAll(async () => {
    if (skip) return;
    p = await startTestProvider(kind, { QR_TTL: '2' });
    api = adminApi(p, await adminToken(p));
    phone = await signedInPhone(p);
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  it.skipIf(skip)('counts scanned, confirmed, denied, expired (scanned, undecided past QR_TTL) and completed logins per window', async () => {
    const app = (await api<{ appId: string; appSecret: string }>('POST', '/apps', { name: 'Counted', redirectUris: [REDIRECT_URI] })).body;
    const other = (await api<{ appId: string; appSecret: string }>('POST', '/apps', { name: 'Elsewhere', redirectUris: [REDIRECT_URI] })).body;
    const config = await siteConfig(p, app.appId, app.appSecret);
    const scanned = async (cfg = config) => {
      const login = await beginLogin(p, cfg);
      const { body } = await login.qr();
      expect((await phone.scan(body.payload)).status).toBe(200);
      return { login, qrId: body.qrId };
    };

    const confirmed = await scanned();
    expect((await phone.confirm(confirmed.qrId)).status).toBe(200);
    await confirmed.login.complete();
    const denied = await scanned();
    expect((await phone.deny(denied.qrId)).status).toBe(200);
    await denied.login.complete();
    await scanned(); // left undecided: expires after QR_TTL
    await scanned(await siteConfig(p, other.appId, other.appSecret)); // another app's: not counted here
    await beginLogin(p, config); // a QR nobody scanned: not a login attempt
    await sleep(2300);

    // Older history: a login and an expiry 10 days ago, and one 40 days ago (outside both windows).
    const prisma = p.saoma.db.prisma;
    const at = (ago: number) => new Date(Date.now() - ago);
    await prisma.auditEvent.createMany({
      data: [
        { type: 'qr.scanned', appId: app.appId, at: at(10 * DAY), detail: { qrId: 'old-ok' } },
        { type: 'qr.confirmed', appId: app.appId, at: at(10 * DAY - 5000), detail: { qrId: 'old-ok' } },
        { type: 'qr.scanned', appId: app.appId, at: at(10 * DAY), detail: { qrId: 'old-expired' } },
        { type: 'qr.scanned', appId: app.appId, at: at(40 * DAY), detail: { qrId: 'ancient' } },
      ],
    });
    // Scanned just now, still within QR_TTL: scanned, not (yet) expired.
    await scanned();

    const usage = await api('GET', `/apps/${app.appId}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.last24h).toEqual({ scanned: 4, confirmed: 1, denied: 1, expired: 1, completed: 1 });
    expect(usage.body.last30d).toEqual({ scanned: 6, confirmed: 2, denied: 1, expired: 2, completed: 1 });
  });

  it.skipIf(skip)('pages the trail newest first; admin actions name their actor; bad paging is 400', async () => {
    const app = (await api<{ appId: string }>('POST', '/apps', { name: 'Audited', redirectUris: [REDIRECT_URI] })).body;
    await api('PATCH', `/apps/${app.appId}`, { name: 'Audited 2' });
    await api('POST', `/apps/${app.appId}/secret`);
    await api('POST', `/apps/${app.appId}/disable`);
    const first = await api<{ events: Array<{ id: string; type: string; detail: { actor: string } }>; next: string }>(
      'GET',
      `/apps/${app.appId}/audit?limit=2`,
    );
    expect(first.body.events.map((e) => e.type)).toEqual(['app.status_changed', 'app.secret_rotated']);
    expect(first.body.events.every((e) => e.detail.actor === 'token:tests')).toBe(true);
    const second = await api<{ events: Array<{ type: string }>; next: string | null }>('GET', `/apps/${app.appId}/audit?limit=2&before=${first.body.next}`);
    expect(second.body.events.map((e) => e.type)).toEqual(['app.updated', 'app.created']);
    for (const bad of ['limit=0', 'limit=501', 'before=abc']) expect((await api('GET', `/apps/${app.appId}/audit?${bad}`)).status, bad).toBe(400);
  });
});
