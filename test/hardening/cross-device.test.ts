/**
 * Cross-device attacks (RFC 10027): what a QRLJacking / session-phishing attacker or a stolen
 * code gets. The attacker starts a login in their own browser and gets a victim to scan it; the
 * phone must show who is really asking, a QR or its link must be useless to anyone but the
 * initiating browser, and every decision and code must count once.
 * Behind TRUST_PROXY (one proxy hop): addresses come from X-Forwarded-For as the proxy appends it.
 */
import * as oidc from 'openid-client';
import { describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';
import { authorizationUrl, REDIRECT_URI, registerSite, signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('cross-device attacks (RFC 10027) on PostgreSQL + Redis', () => {
  const p = useProvider('services', { TRUST_PROXY: '1' });

  /** A login started by a browser at `forwardedFor` (as the proxy reports it), up to the QR. */
  async function loginFrom(config: oidc.Configuration, forwardedFor: string, userAgent: string) {
    const browser = new TestBrowser(userAgent);
    const { url, codeVerifier: verifier } = await authorizationUrl(config, { state: 'st' });
    const { url: page } = await browser.navigate(url, (u) => u.pathname.startsWith('/interaction/'), { headers: { 'x-forwarded-for': forwardedFor } });
    const uid = page.pathname.split('/')[2];
    const res = await browser.fetch(`${p.issuer}/interaction/${uid}/qr`, { headers: { 'x-forwarded-for': forwardedFor } });
    const qr = (await res.json()) as { qrId: string; payload: string };
    return { browser, uid, qr, verifier };
  }
  const scanFrom = (token: string, payload: string, forwardedFor: string) =>
    fetch(`${p.issuer}/api/mobile/scans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ payload }),
    });

  it("shows the phone the requesting browser's real address and user agent, and flags another network", async () => {
    const { config } = await registerSite(p);
    const victim = await signedInPhone(p);
    // The attacker forges a left-most X-Forwarded-For from the victim's network; the proxy appends the truth.
    const attack = await loginFrom(config, '198.51.100.77, 203.0.113.9', 'AttackerBrowser/1.0');
    const scan = await scanFrom(victim.token, attack.qr.payload, '198.51.100.20');
    expect(scan.status).toBe(200);
    const { requester } = (await scan.json()) as { requester: { ip: string; userAgent: string; sameNetworkAsPhone: boolean } };
    expect(requester).toMatchObject({ ip: '203.0.113.9', userAgent: 'AttackerBrowser/1.0', sameNetworkAsPhone: false });

    const honest = await loginFrom(config, '198.51.100.30', 'HomeBrowser/1.0');
    const same = (await (await scanFrom(victim.token, honest.qr.payload, '198.51.100.20')).json()) as { requester: { sameNetworkAsPhone: boolean } };
    expect(same.requester.sameNetworkAsPhone).toBe(true);
  });

  it('makes a phished QR useless to anyone but the browser that started it, and the code single-use', async () => {
    const { app, config } = await registerSite(p);
    const victim = await signedInPhone(p);
    const attack = await loginFrom(config, '203.0.113.9', 'AttackerBrowser/1.0');
    expect((await scanFrom(victim.token, attack.qr.payload, '198.51.100.20')).status).toBe(200);
    expect((await victim.confirm(attack.qr.qrId)).status).toBe(200);
    // Anyone holding the link or the qrId but not the attacker's cookie gets nothing.
    const bystander = new TestBrowser();
    const stolen = await bystander.fetch(`${p.issuer}/interaction/${attack.uid}/complete`);
    expect(stolen.status).toBe(400);
    expect(await bystander.fetch(attack.qr.payload).then((r) => r.text())).not.toContain('code=');
    // The initiating browser completes once; a second completion gets no second code.
    const { url } = await attack.browser.navigate(`${p.issuer}/interaction/${attack.uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    const code = url.searchParams.get('code')!;
    expect(code).toBeTruthy();
    expect((await attack.browser.fetch(`${p.issuer}/interaction/${attack.uid}/complete`)).status).toBe(400);
    // The code belongs to its app: another app's valid credentials cannot redeem it.
    const other = await registerSite(p);
    const theft = await fetch(`${p.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${other.app.appId}:${other.app.appSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: attack.verifier }),
    });
    expect(theft.status).toBe(400);
    expect(((await theft.json()) as { error: string }).error).toBe('invalid_grant');
    // Without the PKCE verifier (held by the initiating site) the code is worthless too.
    const noVerifier = await fetch(`${p.issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.appId}:${app.appSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: oidc.randomPKCECodeVerifier() }),
    });
    expect(((await noVerifier.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('makes a denial final: no later confirmation, the site hears access_denied once, no code ever', async () => {
    const { config } = await registerSite(p);
    const phone = await signedInPhone(p);
    const login = await loginFrom(config, '203.0.113.40', 'Browser/1.0');
    expect((await scanFrom(phone.token, login.qr.payload, '203.0.113.41')).status).toBe(200);
    expect((await phone.deny(login.qr.qrId)).status).toBe(200);
    const confirm = await phone.confirm(login.qr.qrId);
    expect(confirm.status).toBe(409);
    expect(await confirm.json()).toMatchObject({ error: 'already_decided' });
    const { url } = await login.browser.navigate(`${p.issuer}/interaction/${login.uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(url.searchParams.get('code')).toBeNull();
    const again = await phone.scan(login.qr.payload);
    expect(again.status).toBe(409);
  });

  it('never lets a used QR be scanned into another login', async () => {
    const { config } = await registerSite(p);
    const [phone, other] = [await signedInPhone(p), await signedInPhone(p)];
    const login = await loginFrom(config, '203.0.113.50', 'Browser/1.0');
    expect((await phone.scan(login.qr.payload)).status).toBe(200);
    expect((await phone.confirm(login.qr.qrId)).status).toBe(200);
    await login.browser.navigate(`${p.issuer}/interaction/${login.uid}/complete`, (u) => u.href.startsWith(REDIRECT_URI));
    for (const who of [phone, other]) expect([409, 410]).toContain((await who.scan(login.qr.payload)).status);
  });
});
