/**
 * Federated sign-in (issue 14 item 2): "Sign in with <organisation SSO>" on the phone web app,
 * OpenID Connect code + PKCE against a second provider started here; people are linked by
 * (source, sub). Driven over HTTP with a cookie-keeping client; test/browser/identity.test.ts
 * clicks the same button in Chromium.
 */
import http from 'node:http';
import { nanoid } from 'nanoid';
import { MAX_SOURCE_DOCUMENT_BYTES } from '../../provider/src/identity/bounded-fetch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import { contractFetch } from '../support/contract.js';
import { fullLogin, phoneOf, registerSite } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { freePort, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { startUpstreamSource, type Upstream } from '../support/upstream-oidc.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('federated sign-in on the phone web app, against a second OpenID provider', () => {
  const p = useProvider('services');
  let upstream: Upstream;

  /** The browser's whole trip: Saoma → the organisation's provider → back; where it lands on /app. */
  async function ssoIn(browser: TestBrowser, sourceId = 'corp') {
    const { url } = await browser.navigate(`${p.issuer}/app/sso/${sourceId}`, (u) => u.origin === p.issuer && u.pathname === '/app');
    return new URLSearchParams(url.hash.slice(1));
  }
  /** The phone web app in `browser` exchanging the code its URL fragment carried. */
  const claim = (browser: TestBrowser, code: string) =>
    contractFetch(
      p.issuer,
      `${p.issuer}/api/mobile/login/sso`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code, deviceName: 'Chrome on Android' }) },
      (input, init) => browser.fetch(input, init),
    );

  beforeAll(async () => {
    upstream = await startUpstreamSource(p, 'corp');
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('offers the configured SSO on the sign-in screen, never its secret', async () => {
    const res = await contractFetch(p.issuer, `${p.issuer}/api/mobile/sign-in-options`);
    const body = await res.json();
    expect(body).toMatchObject({ password: true, passkey: true });
    expect(body.sso).toContainEqual({ id: 'corp', name: 'Acme Corp SSO', url: '/app/sso/corp' });
    const row = await p.saoma.db.prisma.identitySource.findUnique({ where: { id: 'corp' } });
    expect(row!.clientSecretEnc).toMatch(/^v1\./);
    expect(row!.clientSecretEnc).not.toContain(upstream.client.clientSecret);
    expect(JSON.stringify(await p.saoma.identity.sources.show('corp'))).not.toContain(upstream.client.clientSecret);
  });

  it('signs a person in by (issuer, sub) with code + PKCE + state + nonce, and the phone approves a QR login', async () => {
    const sub = `emp-${nanoid(6)}`;
    upstream.deny = false;
    upstream.next = { sub, name: 'Wang Fang', picture: 'https://sso.acme.example/wf.png' };
    const browser = new TestBrowser();
    const landed = await ssoIn(browser);
    expect(landed.get('sso')).toBeTruthy();
    const request = upstream.requests.at(-1)!;
    expect(request.get('code_challenge_method')).toBe('S256');
    expect(request.get('state')).toBeTruthy();
    expect(request.get('nonce')).toBeTruthy();
    expect(request.get('redirect_uri')).toBe(`${p.issuer}/app/sso/corp/callback`);

    const res = await claim(browser, landed.get('sso')!);
    expect(res.status).toBe(200);
    const { token, user } = await res.json();
    expect(user).toMatchObject({ nickname: 'Wang Fang', picture: 'https://sso.acme.example/wf.png' });
    const phone = phoneOf(p, { token, user });
    const me = await (await phone.call('GET', '/me')).json();
    expect(me.signInMethods.identities).toEqual([expect.objectContaining({ sourceId: 'corp', kind: 'oidc', subject: sub })]);
    const { config } = await registerSite(p);
    expect((await fullLogin(p, config, phone)).claims.nickname).toBe('Wang Fang');

    // The same person at the provider is the same person here.
    const second = new TestBrowser();
    const again = await (await claim(second, (await ssoIn(second)).get('sso')!)).json();
    expect(again.user.id).toBe(user.id);
  });

  it('hands a sign-in to the phone app once: the one-time code works a single time', async () => {
    upstream.deny = false;
    upstream.next = { sub: `emp-${nanoid(6)}`, name: 'Once' };
    const browser = new TestBrowser();
    const code = (await ssoIn(browser)).get('sso')!;
    const [a, b] = await Promise.all([claim(browser, code), claim(browser, code)]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    expect((await (a.status === 400 ? a : b).json()).error).toBe('sso_code_invalid');
  });

  it('completes nothing for a callback opened in another browser (login CSRF) or opened twice', async () => {
    upstream.deny = false;
    upstream.next = { sub: `emp-${nanoid(6)}` };
    const victim = new TestBrowser();
    const attacker = new TestBrowser();
    // The attacker starts and signs in at the provider, then stops at the callback URL…
    const { url: callback } = await attacker.navigate(`${p.issuer}/app/sso/corp`, (u) => u.pathname === '/app/sso/corp/callback');
    // …and has the victim's browser open it: no binding cookie there.
    const { url: victimLanding } = await victim.navigate(callback, (u) => u.pathname === '/app');
    expect(new URLSearchParams(victimLanding.hash.slice(1)).get('sso-error')).toBe('sso_state_invalid');
    // In the browser that started it the callback works, once; opened again it does nothing.
    const { url: own } = await attacker.navigate(callback, (u) => u.pathname === '/app');
    expect(new URLSearchParams(own.hash.slice(1)).get('sso')).toBeTruthy();
    const { url: replay } = await attacker.navigate(callback, (u) => u.pathname === '/app');
    expect(new URLSearchParams(replay.hash.slice(1)).get('sso-error')).toBe('sso_state_invalid');
  });

  it('hands a finished sign-in only to the browser that started it: a code planted as /app#sso=… in another browser signs nobody in', async () => {
    upstream.deny = false;
    upstream.next = { sub: `emp-${nanoid(6)}` };
    // The attacker signs in as themselves and stops before their app claims the code…
    const attacker = new TestBrowser();
    const code = (await ssoIn(attacker)).get('sso')!;
    // …then sends the victim to /app#sso=<code>: the victim's web app would claim it.
    const planted = await claim(new TestBrowser(), code);
    expect({ status: planted.status, error: (await planted.json()).error }).toEqual({ status: 400, error: 'sso_code_invalid' });
    // The browser that started it still can, once.
    expect((await claim(attacker, code)).status).toBe(200);
    expect((await claim(attacker, code)).status).toBe(400);
  });

  it('says why a sign-in failed: the person cancelled, a wrong client secret, a disabled or unknown source', async () => {
    const sources = p.saoma.identity.sources;
    upstream.deny = true;
    expect((await ssoIn(new TestBrowser())).get('sso-error')).toBe('sso_failed');
    upstream.deny = false;
    upstream.next = { sub: `emp-${nanoid(6)}` };
    await sources.update('corp', { clientSecret: 'not-the-secret' });
    expect((await ssoIn(new TestBrowser())).get('sso-error')).toBe('sso_failed');
    await sources.update('corp', { clientSecret: upstream.client.clientSecret });
    await sources.setStatus('corp', 'disabled');
    expect((await ssoIn(new TestBrowser())).get('sso-error')).toBe('source_disabled');
    await sources.setStatus('corp', 'active');
    expect((await ssoIn(new TestBrowser())).get('sso')).toBeTruthy();
    expect((await ssoIn(new TestBrowser(), 'nope')).get('sso-error')).toBe('unknown_source');
    expect((await ssoIn(new TestBrowser(), 'BAD!')).get('sso-error')).toBe('unknown_source');
  });

  it('refuses an SSO source whose discovery document is over MAX_SOURCE_DOCUMENT_BYTES: 503 source_unreachable', async () => {
    let filler = MAX_SOURCE_DOCUMENT_BYTES + 1;
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const server = http.createServer((_req, res) => {
      const doc = {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        filler: 'x'.repeat(filler),
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(doc)); // chunked or not, the bound is the same code path (assertions.test.ts covers both)
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await p.saoma.identity.sources.create({ id: 'huge', kind: 'oidc', name: 'Huge SSO', issuer, clientId: 'saoma', clientSecret: 'a-secret-of-some-length' });
      expect((await ssoIn(new TestBrowser(), 'huge')).get('sso-error')).toBe('source_unreachable');
      // The same document within the bound: discovery passes and the browser is sent to its provider.
      filler = 1000;
      const { url } = await new TestBrowser().navigate(`${p.issuer}/app/sso/huge`, (u) => u.origin === issuer);
      expect(url.origin + url.pathname).toBe(`${issuer}/authorize`);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe.skipIf(skip)('federated sign-in behind TLS (TRUST_PROXY=1, https PUBLIC_URL)', () => {
  const p = useProvider('services', { TRUST_PROXY: '1', PUBLIC_URL: 'https://login.example.test' });
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstreamSource(p, 'corp');
  });
  afterAll(async () => {
    await upstream.close();
  });

  /** A request to Saoma as the TLS proxy forwards it, with the cookies given. */
  const viaProxy = (url: URL, cookie: string, init: RequestInit = {}) =>
    fetch(`${p.url}${url.pathname}${url.search}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), host: 'login.example.test', 'x-forwarded-proto': 'https', cookie },
      redirect: 'manual',
    });
  const cookieOf = (res: Response) => {
    const line = res.headers.getSetCookie().find((c) => !/expires=thu, 01 jan 1970/i.test(c))!;
    return { line, pair: line.split(';')[0] };
  };

  it('names its cookies __Host- under https, so a sibling subdomain cannot plant its own sign-in’s binding (cookie tossing)', async () => {
    upstream.deny = false;
    upstream.next = { sub: `emp-${nanoid(6)}` };
    const begin = await viaProxy(new URL(`${p.issuer}/app/sso/corp`), '');
    expect(begin.status).toBe(303);
    const binding = cookieOf(begin);
    // A __Host- cookie is Secure, Path=/ and has no Domain: no other host can set or overwrite it.
    expect(binding.line).toMatch(/^__Host-saoma_sso=/);
    expect(binding.line).toMatch(/;\s*path=\/(;|$)/i);
    expect(binding.line).toMatch(/;\s*secure/i);
    expect(binding.line).not.toMatch(/domain=/i);
    // Through the organisation's provider and back (the provider runs on loopback, no TLS).
    const { url: callback } = await new TestBrowser().navigate(begin.headers.get('location')!, (u) => u.pathname === '/app/sso/corp/callback');
    const finished = await viaProxy(callback, binding.pair);
    expect(finished.headers.get('location')).toMatch(/^\/app#sso=/);
    const handoff = cookieOf(finished);
    expect(handoff.line).toMatch(/^__Host-saoma_sso_handoff=/);
    expect(handoff.line).not.toMatch(/domain=/i);
    const code = new URLSearchParams(finished.headers.get('location')!.split('#')[1]).get('sso')!;
    const claim = (cookie: string) =>
      viaProxy(new URL(`${p.issuer}/api/mobile/login/sso`), cookie, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code }),
      });
    // The binding under a name a sibling subdomain could set counts for nothing here.
    expect((await claim(`saoma_sso_handoff=${handoff.pair.split('=')[1]}`)).status).toBe(400);
    expect((await claim(handoff.pair)).status).toBe(200);
  });
});
