import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { nanoid } from 'nanoid';
import { adminSocketPath } from '../../provider/src/admin/api/socket.js';
import { authorizationUrl, REDIRECT_URI } from '../support/flow.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { startTwoInstances, type Instance, type Pair } from './instances.js';
import { LbBrowser, sendVia, type Target } from './lb-browser.js';
import { closeStarted } from '../support/harness.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

/** The admin API on one instance's local socket. */
function admin(instance: Instance, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: adminSocketPath(instance.dataDir), method, path: `/api/admin${path}`, headers: text ? { 'content-type': 'application/json' } : {} },
      (res) => {
        let out = '';
        res.setEncoding('utf8').on('data', (c: string) => (out += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: out ? JSON.parse(out) : null }));
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** SSE `status` events of a streaming response, read in the background. */
function statusEvents(res: Response) {
  const events: string[] = [];
  const waiters: Array<() => void> = [];
  void (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (/^event: status$/m.test(block)) events.push((JSON.parse(/^data: (.*)$/m.exec(block)![1]) as { status: string }).status);
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  return {
    events,
    /** Resolves once `status` has arrived; rejects after `timeoutMs`. */
    async until(status: string, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!events.includes(status)) {
        if (Date.now() > deadline) throw new Error(`no "${status}" event; got ${events.join(', ')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

describe.skipIf(skip)('two provider instances behind one issuer, sharing PostgreSQL and Redis', () => {
  let pair: Pair;
  let app: { appId: string; appSecret: string };
  let phone: { token: string };

  /** openid-client as the site holds it, its requests sent to `target`. */
  async function site(target: Target, secret = app.appSecret) {
    const config = await oidc.discovery(pair.issuer, app.appId, undefined, oidc.ClientSecretBasic(secret), {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: (url, options) => sendVia(target, pair.issuer, url, options as RequestInit),
    });
    const via = (t: Target) => (config[oidc.customFetch] = (url, options) => sendVia(t, pair.issuer, url, options as RequestInit));
    return { config, via };
  }

  /** The phone API (`/api/mobile…`) on `target`. */
  const mobile = (target: Target, path: string, init: RequestInit = {}) => sendVia(target, pair.issuer, `${pair.issuer.origin}/api/mobile${path}`, init);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const phoneCall = (target: Target, path: string) => mobile(target, path, { method: 'POST', headers: bearer(phone.token) });
  const scan = (target: Target, payload: string) =>
    mobile(target, '/scans', { method: 'POST', headers: { ...bearer(phone.token), 'content-type': 'application/json' }, body: JSON.stringify({ payload }) });

  type Account = { username: string; password: string };
  /** A new person, registered through `target`: their username and password. */
  async function register(target: Target, prefix: string): Promise<Account> {
    const username = `${prefix}_${nanoid(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
    const account = { username, password: 'correct horse battery' };
    const reg = await mobile(target, '/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });
    expect(reg.status).toBe(201);
    return account;
  }
  const signIn = (target: Target, account: Account) =>
    mobile(target, '/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(account) });

  /** `call` answers 401 within 2 s: a cache on the other instance invalidated over pub/sub (normally a millisecond). */
  async function expectRefusedSoon(call: () => Promise<Response>) {
    const deadline = Date.now() + 2000;
    let status = (await call()).status;
    while (status !== 401 && Date.now() < deadline) status = (await call()).status;
    expect(status).toBe(401);
  }

  /** The site sends a browser to /auth on `target`; it lands on the QR page there. */
  async function beginAt(target: Target, config: oidc.Configuration) {
    const browser = new LbBrowser(pair.issuer);
    const state = oidc.randomState();
    const { url, codeVerifier } = await authorizationUrl(config, { scope: 'openid profile', state });
    const { url: page, res } = await browser.navigate(target, url);
    expect(res?.status).toBe(200);
    await res?.arrayBuffer();
    const uid = /^\/interaction\/([^/]+)$/.exec(page.pathname)![1];
    const qr = (await (await browser.fetch(target, `/interaction/${uid}/qr`)).json()) as { qrId: string; payload: string };
    return { browser, uid, qr, codeVerifier, state };
  }

  /** A whole login: page on `page`, phone on `phoneAt`, completion on `completeAt`; returns the callback. */
  async function loginToCallback(config: oidc.Configuration, page: Target, phoneAt: Target, completeAt: Target) {
    const login = await beginAt(page, config);
    expect((await scan(phoneAt, login.qr.payload)).status).toBe(200);
    expect((await phoneCall(phoneAt, `/scans/${login.qr.qrId}/confirm`)).status).toBe(200);
    const { url } = await login.browser.navigate(completeAt, `/interaction/${login.uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    return { login, callback: url };
  }

  beforeAll(async () => {
    pair = await startTwoInstances();
    const created = await admin(pair.a, 'POST', '/apps', { name: 'Scale Site', redirectUris: [REDIRECT_URI] });
    expect(created.status).toBe(201);
    app = created.body;
    // The person registers through B and signs in through A.
    const account = await register(pair.b, 'scale');
    phone = (await (await signIn(pair.a, account)).json()) as { token: string };
  });
  afterAll(async () => {
    await closeStarted(pair);
  });

  it('completes a login whose page and SSE are on A while the phone scans and confirms on B, completion on B and token exchange on A', async () => {
    const { config, via } = await site(pair.a);
    const login = await beginAt(pair.a, config);
    const page = new AbortController();
    const stream = statusEvents(await login.browser.fetch(pair.a, `/interaction/${login.uid}/qr/events`, { signal: page.signal }));
    await stream.until('pending');

    expect((await scan(pair.b, login.qr.payload)).status).toBe(200);
    await stream.until('scanned');
    expect((await phoneCall(pair.b, `/scans/${login.qr.qrId}/confirm`)).status).toBe(200);
    await stream.until('confirmed'); // A's page heard B's confirm through Redis pub/sub
    expect(stream.events).toEqual(['pending', 'scanned', 'confirmed']);
    page.abort(); // the page navigates to /complete

    const { url: callback } = await login.browser.navigate(pair.b, `/interaction/${login.uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    expect(callback.searchParams.get('code')).toBeTruthy();
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
    expect(tokens.claims()!.iss).toBe(pair.issuer.href.replace(/\/$/, ''));
    via(pair.b);
    const profile = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(profile.sub).toBe(tokens.claims()!.sub);
  });

  it('redeems an authorization code once across instances: on A, then on B gets invalid_grant', async () => {
    const { config } = await site(pair.a);
    const { login, callback } = await loginToCallback(config, pair.a, pair.b, pair.a);
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: REDIRECT_URI,
      code_verifier: login.codeVerifier,
    });
    const basic = `Basic ${Buffer.from(`${app.appId}:${app.appSecret}`).toString('base64')}`;
    const redeem = (target: Target) =>
      sendVia(target, pair.issuer, `${pair.issuer.origin}/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
    const first = await redeem(pair.a);
    expect(first.status).toBe(200);
    const second = await redeem(pair.b);
    expect(second.status).toBe(400);
    expect(((await second.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it("refuses an app secret on B as soon as A's admin socket has rotated it (client caches invalidated over pub/sub)", async () => {
    const before = await site(pair.b);
    // B has the client cached: a login whose token exchange happens on B.
    const warm = await loginToCallback(before.config, pair.b, pair.b, pair.b);
    await oidc.authorizationCodeGrant(before.config, warm.callback, { pkceCodeVerifier: warm.login.codeVerifier, expectedState: warm.login.state });

    const { login, callback } = await loginToCallback(before.config, pair.b, pair.b, pair.b);
    // Keeping what was issued: the code below was handed out before the rotation.
    const rotated = await admin(pair.a, 'POST', `/apps/${app.appId}/secret`, { keepTokens: true });
    expect(rotated.status).toBe(200);
    const newSecret = (rotated.body as { appSecret: string }).appSecret;
    app = { ...app, appSecret: newSecret };

    const stale = oidc.authorizationCodeGrant(before.config, callback, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
    await expect(stale).rejects.toMatchObject({ status: 401, cause: [{ parameters: { error: 'invalid_client' } }] });
    // The code was not spent on the refused attempt: the new secret redeems it on B.
    const after = await site(pair.b, newSecret);
    const tokens = await oidc.authorizationCodeGrant(after.config, callback, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
    expect(tokens.access_token).toBeTruthy();
  });

  it("refuses a phone's token on B as soon as it signed out on A (device-session caches invalidated over pub/sub)", async () => {
    const account = await register(pair.a, 'scale');
    const { token } = (await (await signIn(pair.a, account)).json()) as { token: string };
    const me = (target: Target) => mobile(target, '/me', { headers: bearer(token) });
    expect((await me(pair.b)).status).toBe(200); // B now has the session cached
    expect((await me(pair.b)).status).toBe(200);
    const out = await mobile(pair.a, '/logout', { method: 'POST', headers: bearer(token) });
    expect(out.status).toBe(204);
    await expectRefusedSoon(() => me(pair.b));
  });

  it('refuses a lost phone on B as soon as another phone of the person signed it out on A', async () => {
    const account = await register(pair.a, 'lost');
    const [keep, lost] = await Promise.all([1, 2].map(async () => ((await (await signIn(pair.a, account)).json()) as { token: string }).token));
    const me = (token: string) => mobile(pair.b, '/me', { headers: bearer(token) });
    expect((await me(lost)).status).toBe(200); // B has the lost phone's session cached
    const { devices } = (await (await mobile(pair.a, '/devices', { headers: bearer(keep) })).json()) as { devices: Array<{ id: string; current: boolean }> };
    const lostId = devices.find((d) => !d.current)!.id;
    expect((await mobile(pair.a, `/devices/${lostId}`, { method: 'DELETE', headers: bearer(keep) })).status).toBe(204);
    await expectRefusedSoon(() => me(lost));
    expect((await me(keep)).status).toBe(200);
  });

  it("ends a person's device sessions on B as soon as an admin disables them on A (person-wide invalidation over pub/sub)", async () => {
    const account = await register(pair.a, 'dis');
    // Two phones of the same person, both cached on B.
    const tokens = await Promise.all([1, 2].map(async () => ((await (await signIn(pair.a, account)).json()) as { token: string }).token));
    const me = (token: string) => mobile(pair.b, '/me', { headers: bearer(token) });
    for (const t of tokens) expect((await me(t)).status).toBe(200);
    expect((await admin(pair.a, 'POST', `/users/${account.username}/disable`, {})).body).toMatchObject({ status: 'disabled', devicesSignedOut: 2 });
    for (const t of tokens) await expectRefusedSoon(() => me(t));
    // And nobody can sign in as them on either instance.
    const again = await signIn(pair.b, account);
    expect({ status: again.status, error: ((await again.json()) as { error: string }).error }).toEqual({ status: 403, error: 'account_disabled' });
  });

  it('stops tokens on B once the person revokes the app on A, and records the approval again at the next login', async () => {
    const { config, via } = await site(pair.a);
    const { login, callback } = await loginToCallback(config, pair.a, pair.a, pair.a);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
    via(pair.b);
    const sub = tokens.claims()!.sub;
    expect((await oidc.fetchUserInfo(config, tokens.access_token, sub)).sub).toBe(sub);
    const listed = async (target: Target) =>
      (await (await mobile(target, '/authorizations', { headers: bearer(phone.token) })).json()) as { authorizations: { appId: string }[] };
    const appIds = (body: { authorizations: { appId: string }[] }) => body.authorizations.map((a) => a.appId);
    expect(appIds(await listed(pair.b))).toContain(app.appId);

    const revoked = await mobile(pair.a, `/authorizations/${app.appId}`, { method: 'DELETE', headers: bearer(phone.token) });
    expect(revoked.status).toBe(204);
    await expect(oidc.fetchUserInfo(config, tokens.access_token, sub)).rejects.toMatchObject({ status: 401 });
    expect(appIds(await listed(pair.b))).not.toContain(app.appId);

    // The same person, same scopes, minutes later: the approval is written again (not skipped as recent).
    via(pair.a);
    await loginToCallback(config, pair.b, pair.b, pair.b);
    expect(appIds(await listed(pair.a))).toContain(app.appId);
  });

  it('keeps no login state in an instance: with A stopped after showing the QR, the same browser finishes the whole login on B', async () => {
    const { config, via } = await site(pair.a);
    const login = await beginAt(pair.a, config);
    const onA = new AbortController();
    const streamA = statusEvents(await login.browser.fetch(pair.a, `/interaction/${login.uid}/qr/events`, { signal: onA.signal }));
    await streamA.until('pending');

    // A goes away (its connections cut, as a balancer's health check would drop it).
    onA.abort();
    await pair.a.running.close();
    await expect(sendVia(pair.a, pair.issuer, `${pair.issuer.origin}/healthz`)).rejects.toThrow();

    // The page's EventSource reconnects, now to B, with the cookie A set.
    const onB = new AbortController();
    const streamB = statusEvents(await login.browser.fetch(pair.b, `/interaction/${login.uid}/qr/events`, { signal: onB.signal }));
    await streamB.until('pending');
    expect((await scan(pair.b, login.qr.payload)).status).toBe(200);
    expect((await phoneCall(pair.b, `/scans/${login.qr.qrId}/confirm`)).status).toBe(200);
    await streamB.until('confirmed');
    onB.abort();

    const { url: callback } = await login.browser.navigate(pair.b, `/interaction/${login.uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    via(pair.b);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state });
    const profile = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(profile.sub).toBe(tokens.claims()!.sub);
  });
});
