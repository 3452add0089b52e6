import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, ContractViolation, contractFetch, phoneContract, type OpenApiDoc } from '../support/contract.js';
import { type Phone, beginLogin, fullLogin, phoneOf, registerSite, signedInPhone } from '../support/flow.js';
import { startTestProvider, type TestProvider, closeStarted } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('the phone API (API.md §3) on real PostgreSQL + Redis', () => {
  let p: TestProvider;
  let shared: Phone;
  let sharedOther: Phone;
  // Every answer is checked against the published contract (support/contract.ts).
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    contractFetch(p.issuer, `${p.issuer}/api/mobile${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const expectError = async (res: Response, status: number, error: string) => {
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body).toMatchObject({ error });
    expect(typeof body.error_description).toBe('string');
    expect(JSON.stringify(body)).not.toMatch(/at \w+ \(|node_modules/);
  };

  beforeAll(async () => {
    p = await startTestProvider('services', { QR_TTL: '3' });
    // Phones sign in up front: scrypt under a loaded CI box must not eat into a 3 s QR lifetime.
    [shared, sharedOther] = await Promise.all([signedInPhone(p), signedInPhone(p)]);
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  it('publishes its contract as OpenAPI 3.1 generated from the route declarations, and real answers conform', async () => {
    const res = await fetch(`${p.issuer}/api/mobile/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDoc & { info: { title: string }; servers: { url: string }[] };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: p.issuer }]);
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    for (const op of [
      'POST /api/mobile/register',
      'POST /api/mobile/login',
      'POST /api/mobile/logout',
      'GET /api/mobile/me',
      'POST /api/mobile/scans',
      'POST /api/mobile/scans/{qrId}/confirm',
      'POST /api/mobile/scans/{qrId}/deny',
      'GET /api/mobile/scans/{qrId}',
      'GET /api/mobile/authorizations',
      'DELETE /api/mobile/authorizations/{appId}',
      'GET /api/mobile/activity',
      'POST /api/mobile/login/assertion',
      'POST /api/mobile/login/passkey',
      'POST /api/mobile/login/passkey/options',
      'POST /api/mobile/login/sso',
      'GET /api/mobile/sign-in-options',
      'POST /api/mobile/passkeys/options',
      'POST /api/mobile/passkeys',
      'GET /api/mobile/passkeys',
      'DELETE /api/mobile/passkeys/{passkeyId}',
      'POST /api/mobile/scans/{qrId}/confirm/options',
    ])
      expect(operations).toContain(op);
    // Errors are documented by code: the confirm route lists the login core's and the passkey gate's.
    const confirm = doc.paths['/api/mobile/scans/{qrId}/confirm'].post.responses as Record<
      string,
      { content: { 'application/json': { schema: { allOf: [unknown, { properties: { error: { enum: string[] } } }] } } } }
    >;
    expect(confirm['403'].content['application/json'].schema.allOf[1].properties.error.enum).toEqual(
      expect.arrayContaining(['not_yours', 'user_verification_required', 'no_passkey']),
    );
    // The checker the e2e tests rely on catches a body that strays from the document.
    const contract = compile(doc);
    expect(() => contract.check('GET', '/api/mobile/me', 200, { user: { id: 1 } })).toThrow(ContractViolation);
    expect(() => contract.check('POST', '/api/mobile/scans/abc/confirm', 403, { error: 'made_up', error_description: 'x' })).toThrow(ContractViolation);
    expect(() => contract.check('POST', '/api/mobile/scans/abc/confirm', 418, {})).toThrow(ContractViolation);
    expect((await phoneContract(p.issuer)).seen.size).toBeGreaterThan(0);
  });

  it('registers with validation and refuses a taken username', async () => {
    const res = await post('/register', { username: 'carol_1', password: 'long enough pw', nickname: '卡罗尔' });
    expect(res.status).toBe(201);
    const { user } = await res.json();
    expect(user).toMatchObject({ username: 'carol_1', nickname: '卡罗尔' });
    expect(JSON.stringify(user)).not.toMatch(/password|hash/i);
    await expectError(await post('/register', { username: 'CAROL_1', password: 'long enough pw' }), 409, 'username_taken');
    await expectError(await post('/register', { username: 'x', password: 'long enough pw' }), 400, 'invalid_request');
    await expectError(await post('/register', { username: 'dave', password: 'short' }), 400, 'invalid_request');
    await expectError(await post('/register', { username: 'bad name!', password: 'long enough pw' }), 400, 'invalid_request');
    await expectError(await post('/register', '{"username": '), 400, 'invalid_request');
    await expectError(await post('/register', 'x'.repeat(20_000)), 413, 'invalid_request');
  });

  it('signs in with a device token that stops working after logout; bad credentials get 401', async () => {
    await post('/register', { username: 'erin', password: 'long enough pw' });
    await expectError(await post('/login', { username: 'erin', password: 'wrong password' }), 401, 'invalid_credentials');
    await expectError(await post('/login', { username: 'nobody', password: 'long enough pw' }), 401, 'invalid_credentials');
    const { token, user } = await (await post('/login', { username: 'erin', password: 'long enough pw' })).json();
    const me = await contractFetch(p.issuer, `${p.issuer}/api/mobile/me`, { headers: { authorization: `Bearer ${token}` } });
    expect((await me.json()).user.id).toBe(user.id);
    expect((await post('/logout', {}, { authorization: `Bearer ${token}` })).status).toBe(204);
    await expectError(await contractFetch(p.issuer, `${p.issuer}/api/mobile/me`, { headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_token');
    await expectError(await contractFetch(p.issuer, `${p.issuer}/api/mobile/me`), 401, 'invalid_token');
    await expectError(await contractFetch(p.issuer, `${p.issuer}/api/mobile/me`, { headers: { authorization: 'Bearer garbage' } }), 401, 'invalid_token');
    const row = await p.saoma.db.prisma.deviceSession.findFirst({ where: { userId: user.id } });
    expect(row!.tokenHash).not.toContain(token);
  });

  it("lists the devices signed in to the account, and signs a lost one out from another at once; never another person's", async () => {
    const phone = await signedInPhone(p);
    const login = async (deviceName: string) =>
      ((await (await post('/login', { username: phone.username, password: phone.password, deviceName })).json()) as { token: string }).token;
    const lost = await login('lost phone');
    const asLost = (path: string, init: RequestInit = {}) =>
      contractFetch(p.issuer, `${p.issuer}/api/mobile${path}`, { ...init, headers: { authorization: `Bearer ${lost}` } });
    const listed = (await (await phone.call('GET', '/devices')).json()) as { devices: Array<{ id: string; name: string | null; current: boolean }> };
    expect(listed.devices.map((d) => [d.name, d.current]).sort()).toEqual([
      ['lost phone', false],
      ['test phone', true],
    ]);
    const lostId = listed.devices.find((d) => d.name === 'lost phone')!.id;

    // Someone else cannot sign it out (and learns nothing: the same 404 as for no such device).
    const stranger = await signedInPhone(p);
    await expectError(await stranger.call('DELETE', `/devices/${lostId}`), 404, 'not_found');
    expect((await asLost('/me')).status).toBe(200);

    expect((await phone.call('DELETE', `/devices/${lostId}`)).status).toBe(204);
    await expectError(await asLost('/me'), 401, 'invalid_token');
    await expectError(await phone.call('DELETE', `/devices/${lostId}`), 404, 'not_found');
    const after = (await (await phone.call('GET', '/devices')).json()) as { devices: Array<{ name: string | null }> };
    expect(after.devices.map((d) => d.name)).toEqual(['test phone']);
    const events = (await (await phone.call('GET', '/activity')).json()) as { events: Array<{ type: string; detail: { deviceId?: string } | null }> };
    expect(events.events.find((e) => e.type === 'device.logout')?.detail).toMatchObject({ deviceId: lostId });
  });

  it('signs out every other device of the account at once, keeping the one asking', async () => {
    const phone = await signedInPhone(p);
    const others = await Promise.all(
      ['tablet', 'old phone'].map(async (deviceName) => {
        const { token } = (await (await post('/login', { username: phone.username, password: phone.password, deviceName })).json()) as { token: string };
        return phoneOf(p, { token });
      }),
    );
    const stranger = await signedInPhone(p);
    const out = await phone.call('POST', '/devices/sign-out-others');
    expect(await out.json()).toEqual({ signedOut: 2 });
    for (const other of others) await expectError(await other.call('GET', '/me'), 401, 'invalid_token');
    expect((await phone.call('GET', '/me')).status).toBe(200);
    expect((await stranger.call('GET', '/me')).status).toBe(200);
    expect(await (await phone.call('POST', '/devices/sign-out-others')).json()).toEqual({ signedOut: 0 });
  });

  it('describes the login on scan: app, scopes, requesting browser and network', async () => {
    const { config, app } = await registerSite(p, { name: 'Scan Site', homepage: 'https://scan.example' });
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    const res = await phone.scan(body.payload);
    expect(res.status).toBe(200);
    const scan = await res.json();
    expect(scan).toMatchObject({
      qrId: body.qrId,
      app: { appId: app.appId, name: 'Scan Site', homepage: 'https://scan.example', logoUrl: null, domain: '127.0.0.1:5999' },
      scopes: ['openid', 'profile'],
      requester: { ip: expect.stringMatching(/127\.0\.0\.1/), userAgent: expect.stringContaining('SaomaTestBrowser'), sameNetworkAsPhone: true },
    });
    expect(Date.parse(scan.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('rejects bad scans: not a QR (400), unknown (404), someone else scanned it (409), expired (410)', async () => {
    const phone = shared;
    const other = sharedOther;
    await expectError(await phone.scan('https://example.com/not-ours'), 400, 'invalid_qr');
    await expectError(await phone.scan('A'.repeat(24)), 404, 'qr_not_found');
    await expectError(await phone.call('POST', '/scans', { payload: 42 }), 400, 'invalid_request');
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    expect((await phone.scan(body.payload)).status).toBe(200); // the same phone again: fine
    await expectError(await other.scan(body.payload), 409, 'already_scanned');
    await new Promise((r) => setTimeout(r, 3200));
    await expectError(await phone.confirm(body.qrId), 410, 'qr_expired');
  });

  it('lets only the scanner decide (403 for others) and only after a scan (409)', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    const other = sharedOther;
    await expectError(await phone.confirm(body.qrId), 409, 'not_scanned');
    await phone.scan(body.payload);
    await expectError(await other.confirm(body.qrId), 403, 'not_yours');
    await expectError(await other.deny(body.qrId), 403, 'not_yours');
    await expectError(await phone.call('POST', '/scans/bad!id/confirm'), 400, 'invalid_request');
    expect(await (await phone.confirm(body.qrId)).json()).toEqual({ status: 'confirmed' });
    await expectError(await phone.deny(body.qrId), 409, 'already_decided');
  });

  it('lets exactly one of 20 phones scanning one QR at once win', async () => {
    const phones = await Promise.all(Array.from({ length: 20 }, () => signedInPhone(p)));
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const results = await Promise.all(phones.map((ph) => ph.scan(body.payload)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(19);
  });

  it('lets one of a concurrent confirm and deny by the scanner win, and the outcome is final', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const phone = shared;
    await phone.scan(body.payload);
    const [c, d] = await Promise.all([phone.confirm(body.qrId), phone.deny(body.qrId)]);
    expect([c.status, d.status].sort()).toEqual([200, 409]);
    const winner = c.status === 200 ? 'confirmed' : 'denied';
    const state = await (await phone.call('GET', `/scans/${body.qrId}`)).json();
    expect(state.status).toBe(winner);
  });

  it('lists my authorizations and revoking one stops its tokens at once', async () => {
    const { config, app } = await registerSite(p, { name: 'Revoke Site' });
    const phone = shared;
    const { tokens } = await fullLogin(p, config, phone);
    const list = await (await phone.call('GET', '/authorizations')).json();
    expect(list.authorizations).toEqual([expect.objectContaining({ appId: app.appId, name: 'Revoke Site', scopes: ['openid', 'profile'] })]);
    const me = () => fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await me()).status).toBe(200);
    expect((await phone.call('DELETE', `/authorizations/${app.appId}`)).status).toBe(204);
    expect((await me()).status).toBe(401);
    await expectError(await phone.call('DELETE', `/authorizations/${app.appId}`), 404, 'not_found');
    expect((await (await phone.call('GET', '/authorizations')).json()).authorizations).toEqual([]);
    const activity = await (await phone.call('GET', '/activity')).json();
    expect(activity.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['qr.scanned', 'qr.confirmed', 'login.completed', 'authorization.revoked']),
    );
    expect(activity.events.find((e: { type: string }) => e.type === 'qr.confirmed')).toMatchObject({ appId: app.appId, appName: 'Revoke Site' });
  });

  it('answers unknown phone API paths with 404 in the documented shape', async () => {
    await expectError(await fetch(`${p.issuer}/api/mobile/nope`), 404, 'not_found');
  });
});
