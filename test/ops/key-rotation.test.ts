/**
 * Signing and cookie key rotation without downtime (keys/keyring.ts), on PostgreSQL + Redis:
 * a rotated key is in the JWKS before it signs; after the lead time ID tokens carry its kid;
 * tokens the old key signed still verify until it retires; every instance sees the rotation,
 * including an activation that no message announces (time alone). Time is moved with the
 * provider's test clock instead of waited for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../provider/src/config.js';
import { openDatabase } from '../../provider/src/storage/database.js';
import { createLogger } from '../../provider/src/log.js';
import { createTestClock } from '../../provider/src/login/clock.js';
import { startProvider, type RunningProvider } from '../../provider/src/main.js';
import { generateKeyMaterial } from '../../provider/src/oidc/keys.js';
import { adminApi, adminToken, type AdminApi } from '../admin/support.js';
import { HIGH_LIMITS } from '../hardening/support.js';
import { beginLogin, fullLogin, registerSite, signedInPhone } from '../support/flow.js';
import { closeStarted, startTestProvider, type TestProvider } from '../support/harness.js';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const HOUR = 3600_000;

interface Key {
  id: string;
  kind: 'signing' | 'cookie';
  alg: string | null;
  state: string;
  activeAt: string;
  retireAt: string | null;
}

const jwksOf = async (issuer: string) => (await (await fetch(`${issuer}/jwks`)).json()) as JSONWebKeySet;
const kids = async (issuer: string) => (await jwksOf(issuer)).keys.map((k) => k.kid);

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An ID token from a whole login through `p`, and the kid it was signed with. */
async function idToken(p: TestProvider | { issuer: string; saoma: RunningProvider['saoma'] }) {
  const { app, config } = await registerSite(p as TestProvider);
  const phone = await signedInPhone(p as TestProvider);
  const { tokens } = await fullLogin(p as TestProvider, config, phone);
  const token = tokens.id_token!;
  return { token, kid: decodeProtectedHeader(token).kid, appId: app.appId };
}

describe.skipIf(skip)('keys:rotate on one instance (test clock)', () => {
  const clock = createTestClock();
  let p: TestProvider;
  let api: AdminApi;
  beforeAll(async () => {
    p = await startTestProvider('services', {}, { clock });
    api = adminApi(p, await adminToken(p));
  });
  afterAll(async () => {
    await closeStarted(p);
  });

  it('publishes the new key at once, signs with it after the lead time, and keeps the old one until what it signed expired', async () => {
    const before = (await api<{ keys: Key[] }>('GET', '/keys')).body.keys;
    const oldRs = before.find((k) => k.kind === 'signing' && k.alg === 'RS256' && k.state === 'active')!;
    expect(oldRs).toBeDefined();
    const { token: oldToken, kid: firstKid, appId } = await idToken(p);
    expect(firstKid).toBe(oldRs.id);

    const rotated = await api<{ created: Key[]; replaced: Key[] }>('POST', '/keys/rotate', { kind: 'signing', leadSeconds: 3600 });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(201);
    const newRs = rotated.body.created.find((k) => k.alg === 'RS256')!;
    expect(rotated.body.created.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    expect(newRs.state).toBe('pending');
    expect(rotated.body.replaced.find((k) => k.id === oldRs.id)?.retireAt).toBe(new Date(Date.parse(newRs.activeAt) + 3900_000).toISOString());

    // Published before it signs (the rotating instance applies it at once).
    await until('the new key in the JWKS', async () => (await kids(p.issuer)).includes(newRs.id));
    expect((await kids(p.issuer))[0]).not.toBe(newRs.id);
    expect((await idToken(p)).kid).toBe(oldRs.id);

    // The lead time passes: no message, the instance's own timer switches.
    clock.advance(HOUR + 1000);
    await until('the new key signing', async () => (await api<{ keys: Key[] }>('GET', '/keys')).body.keys.find((k) => k.id === newRs.id)?.state === 'active');
    await until('the provider rebuilt', async () => (await kids(p.issuer)).indexOf(newRs.id) < (await kids(p.issuer)).indexOf(oldRs.id));
    expect((await idToken(p)).kid).toBe(newRs.id);
    // What the old key signed still verifies against the published keys.
    const verified = await jwtVerify(oldToken, createLocalJWKSet(await jwksOf(p.issuer)), { issuer: p.issuer, audience: appId });
    expect(verified.protectedHeader.kid).toBe(oldRs.id);

    // Past the ID token lifetime (+ margin): the old key is gone, private material and all.
    clock.advance(HOUR + 5 * 60_000);
    await until('the old key retired', async () => !(await kids(p.issuer)).includes(oldRs.id));
    expect((await api<{ keys: Key[] }>('GET', '/keys')).body.keys.map((k) => k.id)).not.toContain(oldRs.id);
    expect(await p.saoma.db.prisma.providerKey.count({ where: { id: oldRs.id } })).toBe(0);
  });

  it('rotates cookie keys: a login begun under the old key completes after the new one signs', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await beginLogin(p, config); // its interaction cookie is signed with the current cookie key
    const rotated = await api<{ created: Key[]; replaced: Key[] }>('POST', '/keys/rotate', { kind: 'cookie', leadSeconds: 0 });
    expect(rotated.status).toBe(201);
    const [fresh] = rotated.body.created;
    expect(fresh.state).toBe('active');
    expect(rotated.body.replaced.map((k) => k.state)).toEqual(['retiring']);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    expect((await phone.confirm(body.qrId)).status).toBe(200);
    const { url } = await login.complete();
    expect(url.searchParams.get('code')).toBeTruthy();
  });

  it('removes a leaked signing key at once: the pending key of its slot signs from now, the old one verifies nothing more', async () => {
    const { token: signedByLeaked, kid: leakedKid, appId } = await idToken(p);
    const leaked = (await api<{ keys: Key[] }>('GET', '/keys')).body.keys.find((k) => k.id === leakedKid)!;
    // A rotation already under way: its key waits for its lead time, so removal promotes it.
    const rotated = await api<{ created: Key[] }>('POST', '/keys/rotate', { kind: 'signing', alg: leaked.alg, leadSeconds: 3600 });
    expect(rotated.status).toBe(201);
    const [pendingOfSlot] = rotated.body.created;
    expect(pendingOfSlot.state).toBe('pending');
    const removed = await api<{ removed: Key; signing: Key | null }>('DELETE', `/keys/${encodeURIComponent(leakedKid!)}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(removed.body.removed).toMatchObject({ id: leakedKid, state: 'retired' });
    expect(removed.body.signing).toMatchObject({ id: pendingOfSlot.id, alg: leaked.alg, state: 'active' });

    // Gone from the JWKS at once, and from the database with its private part; tokens it signed no longer verify.
    await until('the leaked key gone from the JWKS', async () => !(await kids(p.issuer)).includes(leakedKid));
    expect(await p.saoma.db.prisma.providerKey.count({ where: { id: leakedKid } })).toBe(0);
    await expect(jwtVerify(signedByLeaked, createLocalJWKSet(await jwksOf(p.issuer)), { issuer: p.issuer, audience: appId })).rejects.toThrow();
    expect((await idToken(p)).kid).toBe(removed.body.signing!.id);

    const again = await api('DELETE', `/keys/${encodeURIComponent(leakedKid!)}`);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: 'not_found' });
  });

  it('refuses an algorithm there is no key for, and a lead time out of range', async () => {
    expect((await api('POST', '/keys/rotate', { kind: 'signing', alg: 'PS512' })).body).toMatchObject({ error: 'invalid_request' });
    expect((await api('POST', '/keys/rotate', { leadSeconds: -1 })).status).toBe(400);
    expect((await api('POST', '/keys/rotate', { leadSeconds: 31 * 24 * 3600 })).status).toBe(400);
  });

  it('stores private keys sealed: no private JWK member or cookie secret in the database', async () => {
    const rows = await p.saoma.db.prisma.providerKey.findMany();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.material).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(JSON.stringify(row.publicJwk ?? {})).not.toMatch(/"(d|p|q|dp|dq|qi)"/);
    }
  });
});

describe.skipIf(skip)('keys:rotate with two instances (shared PostgreSQL and Redis)', () => {
  const started: Array<RunningProvider & { issuer: string; dataDir: string }> = [];
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const prefix = `saoma-test:${nanoid(8)}:`;
  beforeAll(async () => {
    db = await createTestDatabase();
    const keys = await generateKeyMaterial();
    for (let i = 0; i < 2; i++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-keys-'));
      const port = await freePort();
      const config = loadConfig({
        ...HIGH_LIMITS,
        HOST: '127.0.0.1',
        PORT: String(port),
        PUBLIC_URL: `http://localhost:${port}`,
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        JWKS: JSON.stringify(keys.jwks),
        COOKIE_KEYS: keys.cookieKeys.join(','),
        IDENTIFIER_SECRET: keys.identifierSecret,
        LOG_LEVEL: 'silent',
      });
      started.push({ ...(await startProvider(config, createLogger('silent'))), issuer: config.issuer, dataDir });
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of started) await s.close();
    await (db as typeof db | undefined)?.drop(); // unassigned if beforeAll failed, whatever the types say
    await deleteRedisPrefix(prefix).catch(() => undefined);
    for (const s of started) fs.rmSync(s.dataDir, { recursive: true, force: true });
  });

  it('imports the configured JWKS once, and a rotation on one reaches the other, which switches when the lead time is over', async () => {
    const [a, b] = started;
    const seeded = await a.saoma.keyring.list();
    expect(seeded.filter((k) => k.kind === 'signing')).toHaveLength(2); // not imported twice

    const rotated = await a.saoma.administration.keyring.rotate({ kind: 'signing', leadSeconds: 2 });
    const newRs = rotated.created.find((k) => k.alg === 'RS256')!;
    // B hears of it (pub/sub) and publishes it while A still signs with the old key.
    await until('B publishing the new key', async () => (await kids(b.issuer)).includes(newRs.id));
    // Two seconds later, with no message, both sign with it.
    await until('B signing with the new key', async () => (await kids(b.issuer))[0] === newRs.id || (await kids(b.issuer))[1] === newRs.id, 15_000);
    const fromB = await idToken({ issuer: b.issuer, saoma: b.saoma });
    expect(fromB.kid).toBe(newRs.id);
    const fromA = await idToken({ issuer: a.issuer, saoma: a.saoma });
    expect(fromA.kid).toBe(newRs.id);
  });

  it('removes a leaked key on one and the other drops it at once, signing with its replacement', async () => {
    const [a, b] = started;
    const signingOnB = (await kids(b.issuer))[0]!;
    const { signing } = await a.saoma.administration.keyring.remove(signingOnB);
    await until('B dropping the leaked key', async () => !(await kids(b.issuer)).includes(signingOnB));
    expect(await kids(b.issuer)).toContain(signing!.id);
    expect((await idToken({ issuer: b.issuer, saoma: b.saoma })).kid).not.toBe(signingOnB);
  });
});

describe.skipIf(skip)('keys before their table exists (MIGRATE_ON_START=0, migrations still to come)', () => {
  it('starts on the configured keys, and puts those same keys in the table once it is there', async () => {
    const db = await createTestDatabase();
    const clock = createTestClock();
    const keys = await generateKeyMaterial();
    const configuredKids = keys.jwks.keys.map((k) => k.kid);
    let p: TestProvider | undefined;
    try {
      p = await startTestProvider(
        'embedded',
        {
          DATABASE_URL: db.url,
          MIGRATE_ON_START: '0',
          JWKS: JSON.stringify(keys.jwks),
          COOKIE_KEYS: keys.cookieKeys.join(','),
          IDENTIFIER_SECRET: keys.identifierSecret,
        },
        { clock },
      );
      expect(await kids(p.issuer)).toEqual(configuredKids);
      const migrator = await openDatabase({ databaseUrl: db.url, dataDir: p.dataDir, migrate: true });
      await migrator.close();
      clock.advance(61_000); // the next periodic check finds the table and seeds it
      const seeded = p.saoma.db.prisma.providerKey;
      await until('the keys seeded', async () => (await seeded.count({ where: { kind: 'signing' } })) === 2);
      expect((await seeded.findMany({ where: { kind: 'signing' }, orderBy: { activeAt: 'desc' } })).map((k) => k.id)).toEqual(configuredKids);
      expect(await kids(p.issuer)).toEqual(configuredKids);
    } finally {
      await p?.close();
      await db.drop();
    }
  });
});
