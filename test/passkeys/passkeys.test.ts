/**
 * Passkeys (issue 14 item 3) over HTTP, with a software authenticator: adding one, signing in
 * with one, and the Confirm tap that needs one when an app (or the deployment) asks for user
 * verification. The same in Chromium with its virtual authenticator: test/browser/identity.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { contractFetch } from '../support/contract.js';
import { beginLogin, finishAtSite, phoneOf, registerSite, signedInPhone, type Phone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { softAuthenticator } from '../support/soft-authenticator.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

async function errorOf(res: Response) {
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describe.skipIf(skip)('passkeys on the phone API', () => {
  const p = useProvider('services');
  const anonymous = (path: string, body?: unknown) =>
    contractFetch(p.issuer, `${p.issuer}/api/mobile${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });

  /** A signed-in phone with a passkey on its (software) authenticator. */
  async function phoneWithPasskey() {
    const phone = await signedInPhone(p);
    const authenticator = softAuthenticator(p.issuer);
    const options = await (await phone.call('POST', '/passkeys/options')).json();
    const added = await phone.call('POST', '/passkeys', { response: authenticator.create(options), name: 'My phone' });
    expect(added.status).toBe(201);
    return { phone, authenticator, passkey: (await added.json()).passkey as { id: string } };
  }

  /** Another device session of the same person, signed in now. */
  async function signedInAsAgain(phone: Phone) {
    const res = await anonymous('/login', { username: phone.username, password: phone.password });
    return phoneOf(p, await res.json());
  }

  async function scanned(phone: Phone, site: { requireUserVerification?: boolean } = {}) {
    const { config } = await registerSite(p, site);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    const scan = await (await phone.scan(body.payload)).json();
    return { config, login, qrId: body.qrId, scan };
  }

  it('adds a passkey to a signed-in account, lists it on /me, and signs in with it (no username, user verification)', async () => {
    const { phone, authenticator, passkey } = await phoneWithPasskey();
    const me = await (await phone.call('GET', '/me')).json();
    expect(me.signInMethods).toMatchObject({ password: true, passkeys: [{ id: passkey.id, name: 'My phone', lastUsedAt: null }], identities: [] });

    const options = await (await anonymous('/login/passkey/options')).json();
    expect(options).toMatchObject({ userVerification: 'required', rpId: 'localhost' });
    const res = await anonymous('/login/passkey', { response: authenticator.get(options), deviceName: 'Chrome on Android' });
    expect(res.status).toBe(200);
    const { token, user } = await res.json();
    expect(user.id).toBe(phone.user.id);
    const trail = await (await phoneOf(p, { token }).call('GET', '/activity')).json();
    expect(trail.events[0]).toMatchObject({ type: 'device.login', detail: { method: 'passkey' } });
    expect((await (await phone.call('GET', '/passkeys')).json()).passkeys[0].lastUsedAt).not.toBeNull();
  });

  it('refuses a passkey without user verification, a challenge issued for something else, and a replay (one of five concurrent wins)', async () => {
    const { phone, authenticator } = await phoneWithPasskey();
    const options = async () => (await anonymous('/login/passkey/options')).json();
    expect(await errorOf(await anonymous('/login/passkey', { response: authenticator.get(await options(), { uv: false }) }))).toEqual({
      status: 401,
      error: 'passkey_invalid',
    });
    expect(await errorOf(await anonymous('/login/passkey', { response: authenticator.get(await options(), { origin: 'https://phishing.example' }) }))).toEqual({
      status: 401,
      error: 'passkey_invalid',
    });
    // A registration challenge is no sign-in challenge.
    const registration = await (await phone.call('POST', '/passkeys/options')).json();
    expect(await errorOf(await anonymous('/login/passkey', { response: authenticator.get({ challenge: registration.challenge }) }))).toEqual({
      status: 400,
      error: 'passkey_challenge_invalid',
    });
    const response = authenticator.get(await options());
    const results = await Promise.all(Array.from({ length: 5 }, () => anonymous('/login/passkey', { response })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
    for (const r of results.filter((x) => x.status === 400)) expect((await r.json()).error).toBe('passkey_challenge_invalid');
    expect(await errorOf(await anonymous('/login/passkey', { response: { id: 'x' } }))).toEqual({ status: 400, error: 'invalid_request' });
  });

  it('lets one of a passkey and its clone sign in with the same counter, even presented at once (clone detection holds under races)', async () => {
    const { authenticator } = await phoneWithPasskey();
    const original = authenticator.credentials[0];
    const clone = { ...original };
    const options = async () => (await anonymous('/login/passkey/options')).json();
    const wins: number[] = [];
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([options(), options()]);
      clone.counter = original.counter; // the copy signs with the counter the original signs with
      const responses = [authenticator.get(a, { credential: original }), authenticator.get(b, { credential: clone })];
      const results = await Promise.all(responses.map((response) => anonymous('/login/passkey', { response })));
      wins.push(results.filter((r) => r.status === 200).length);
      for (const r of results.filter((x) => x.status !== 200)) expect(await errorOf(r)).toEqual({ status: 401, error: 'passkey_invalid' });
    }
    expect(wins).toEqual([1, 1, 1, 1, 1]);
  });

  it('keeps a person’s last way to sign in: their only passkey cannot be removed while they have no password or linked identity', async () => {
    const { phone, authenticator, passkey } = await phoneWithPasskey();
    // Someone without a password (provisioned, or their organisation's link since removed).
    await p.saoma.db.prisma.user.update({ where: { id: phone.user.id }, data: { passwordHash: null } });
    expect(await errorOf(await phone.call('DELETE', `/passkeys/${passkey.id}`))).toEqual({ status: 409, error: 'last_sign_in_method' });
    expect((await (await phone.call('GET', '/passkeys')).json()).passkeys).toHaveLength(1);
    // With a second passkey, either one can go.
    const options = await (await phone.call('POST', '/passkeys/options')).json();
    expect((await phone.call('POST', '/passkeys', { response: authenticator.create(options) })).status).toBe(201);
    expect((await phone.call('DELETE', `/passkeys/${passkey.id}`)).status).toBe(204);
  });

  it('forgets a removed passkey: signing in with it is refused', async () => {
    const { phone, authenticator, passkey } = await phoneWithPasskey();
    expect((await phone.call('DELETE', `/passkeys/${passkey.id}`)).status).toBe(204);
    expect(await errorOf(await phone.call('DELETE', `/passkeys/${passkey.id}`))).toEqual({ status: 404, error: 'passkey_not_found' });
    const options = await (await anonymous('/login/passkey/options')).json();
    expect(await errorOf(await anonymous('/login/passkey', { response: authenticator.get(options) }))).toEqual({ status: 401, error: 'passkey_unknown' });
  });

  it('asks for a fresh passkey at confirm time when the app requires user verification, and the login completes with it', async () => {
    const { phone, authenticator } = await phoneWithPasskey();
    const { config, login, qrId, scan } = await scanned(phone, { requireUserVerification: true });
    expect(scan.passkeyRequired).toBe(true);
    expect(await errorOf(await phone.confirm(qrId))).toEqual({ status: 403, error: 'user_verification_required' });
    const options = await (await phone.call('POST', `/scans/${qrId}/confirm/options`)).json();
    expect(options.allowCredentials).toHaveLength(1);
    // Without user verification (a tap with no biometric), it does not count.
    expect(await errorOf(await phone.call('POST', `/scans/${qrId}/confirm`, { passkey: authenticator.get(options, { uv: false }) }))).toEqual({
      status: 401,
      error: 'passkey_invalid',
    });
    const confirmed = await phone.call('POST', `/scans/${qrId}/confirm`, { passkey: authenticator.get(options) });
    expect(await confirmed.json()).toEqual({ status: 'confirmed' });
    const { url } = await login.complete();
    expect((await finishAtSite(config, url, login)).claims.sub).toBeTruthy();
  });

  it('binds a confirm assertion to its QR and person: another QR, another person, or a second use is refused', async () => {
    const alice = await phoneWithPasskey();
    const bob = await phoneWithPasskey();
    const a = await scanned(alice.phone, { requireUserVerification: true });
    const b = await scanned(alice.phone, { requireUserVerification: true });
    const forA = await (await alice.phone.call('POST', `/scans/${a.qrId}/confirm/options`)).json();
    // Made for QR a, presented for QR b.
    expect(await errorOf(await alice.phone.call('POST', `/scans/${b.qrId}/confirm`, { passkey: alice.authenticator.get(forA) }))).toEqual({
      status: 400,
      error: 'passkey_challenge_invalid',
    });
    // Bob's passkey on Alice's challenge.
    expect(
      await errorOf(await alice.phone.call('POST', `/scans/${a.qrId}/confirm`, { passkey: bob.authenticator.get({ challenge: forA.challenge }) })),
    ).toEqual({ status: 401, error: 'passkey_unknown' });
    // Bob cannot ask for options on Alice's scan.
    expect(await errorOf(await bob.phone.call('POST', `/scans/${a.qrId}/confirm/options`))).toEqual({ status: 403, error: 'not_yours' });
    const response = alice.authenticator.get(forA);
    expect((await alice.phone.call('POST', `/scans/${a.qrId}/confirm`, { passkey: response })).status).toBe(200);
    // Replayed on the next QR's confirm: its challenge is spent.
    expect(await errorOf(await alice.phone.call('POST', `/scans/${b.qrId}/confirm`, { passkey: response }))).toEqual({
      status: 400,
      error: 'passkey_challenge_invalid',
    });
  });

  it('lets only a recent sign-in add or remove a passkey: a stolen device token cannot add the thief’s passkey and confirm with it', async () => {
    const victim = await phoneWithPasskey();
    // The thief holds a token of an older session of the same person (signed in 11 minutes ago).
    const stolen = await signedInAsAgain(victim.phone);
    await p.saoma.db.prisma.deviceSession.updateMany({
      where: { userId: victim.phone.user.id, createdAt: { gt: new Date(Date.now() - 60_000) } },
      data: { createdAt: new Date(Date.now() - 11 * 60_000) },
    });
    const fresh = await signedInAsAgain(victim.phone);
    const thief = softAuthenticator(p.issuer);
    const options = await stolen.call('POST', '/passkeys/options');
    expect(await errorOf(options)).toEqual({ status: 403, error: 'recent_sign_in_required' });
    // Options a fresh session got do not help the stale one either.
    const freshOptions = await (await fresh.call('POST', '/passkeys/options')).json();
    expect(await errorOf(await stolen.call('POST', '/passkeys', { response: thief.create(freshOptions) }))).toEqual({
      status: 403,
      error: 'recent_sign_in_required',
    });
    expect(await errorOf(await stolen.call('DELETE', `/passkeys/${victim.passkey.id}`))).toEqual({ status: 403, error: 'recent_sign_in_required' });
    // So the stale token cannot approve a login that requires the person's passkey.
    const { qrId } = await scanned(stolen, { requireUserVerification: true });
    expect(await errorOf(await stolen.confirm(qrId))).toEqual({ status: 403, error: 'user_verification_required' });
    expect((await (await stolen.call('GET', '/passkeys')).json()).passkeys).toHaveLength(1);
    // Signed in a moment ago, the person adds and removes passkeys.
    expect((await fresh.call('POST', '/passkeys', { response: softAuthenticator(p.issuer).create(freshOptions) })).status).toBe(201);
    expect((await fresh.call('DELETE', `/passkeys/${victim.passkey.id}`)).status).toBe(204);
  });

  it('meets every confirm with the passkey requirement, even one sent while the scan that makes it possible lands', async () => {
    const { phone } = await phoneWithPasskey();
    const { config } = await registerSite(p, { requireUserVerification: true });
    const statuses: number[] = [];
    for (let round = 0; round < 6; round++) {
      const { body } = await (await beginLogin(p, config)).qr();
      // A stolen token, no passkey: confirms fired while its own scan is in flight.
      const scan = phone.scan(body.payload);
      const confirms: Promise<Response>[] = [];
      for (let i = 0; i < 40; i++) {
        confirms.push(phone.confirm(body.qrId));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect((await scan).status).toBe(200);
      statuses.push(...(await Promise.all(confirms)).map((r) => r.status));
    }
    expect(statuses.filter((status) => status === 200)).toEqual([]);
  });

  it('tells a person without a passkey to add one (no_passkey); the login can still be denied', async () => {
    const phone = await signedInPhone(p);
    const { qrId, scan } = await scanned(phone, { requireUserVerification: true });
    expect(scan.passkeyRequired).toBe(true);
    expect(await errorOf(await phone.confirm(qrId))).toEqual({ status: 403, error: 'no_passkey' });
    expect(await errorOf(await phone.call('POST', `/scans/${qrId}/confirm/options`))).toEqual({ status: 403, error: 'no_passkey' });
    expect(await (await phone.deny(qrId)).json()).toEqual({ status: 'denied' });
  });

  it('asks nothing more of apps that do not require it', async () => {
    const { phone } = await phoneWithPasskey();
    const { qrId, scan } = await scanned(phone);
    expect(scan.passkeyRequired).toBe(false);
    expect(await (await phone.confirm(qrId)).json()).toEqual({ status: 'confirmed' });
  });
});

describe.skipIf(skip)('REQUIRE_USER_VERIFICATION=1: every app', () => {
  const p = useProvider('embedded', { REQUIRE_USER_VERIFICATION: '1' });

  it('needs a passkey to confirm a login to an app that did not ask for it', async () => {
    const phone = await signedInPhone(p);
    const authenticator = softAuthenticator(p.issuer);
    await phone.call('POST', '/passkeys', { response: authenticator.create(await (await phone.call('POST', '/passkeys/options')).json()) });
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const { body } = await login.qr();
    expect((await (await phone.scan(body.payload)).json()).passkeyRequired).toBe(true);
    expect(await errorOf(await phone.confirm(body.qrId))).toEqual({ status: 403, error: 'user_verification_required' });
    const options = await (await phone.call('POST', `/scans/${body.qrId}/confirm/options`)).json();
    expect((await phone.call('POST', `/scans/${body.qrId}/confirm`, { passkey: authenticator.get(options) })).status).toBe(200);
  });
});
