/**
 * Issue 14 in Chromium: "Sign in with <organisation SSO>" against a second OpenID provider,
 * passkeys with the DevTools virtual authenticator (add one, sign in with it, confirm a login
 * that requires user verification), what a person without a passkey is told, and axe (WCAG 2.2
 * A/AA) on every new screen of the phone app and the console.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../admin/support.js';
import { beginLogin, finishAtSite, registerSite } from '../support/flow.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { startUpstreamSource, type Upstream } from '../support/upstream-oidc.js';
import { AxeAudit } from './axe.js';
import { enterLinkOnPhone, screenshot, signUpOnPhone, skipUnlessChromium, uniqueName, useBrowserStack } from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('sign-in methods in Chromium: SSO, passkeys (virtual authenticator), people in the console', { timeout: 120_000 }, () => {
  const stack = useBrowserStack({ env: { ADMIN_BOOTSTRAP_USERNAME: ADMIN.username, ADMIN_BOOTSTRAP_PASSWORD: ADMIN.password } });
  let upstream: Upstream;
  const audit = new AxeAudit();

  beforeAll(async () => {
    upstream = await startUpstreamSource(stack.provider, 'acme');
  });
  afterAll(async () => {
    await upstream.close();
    fs.mkdirSync(path.resolve('test-artifacts'), { recursive: true });
    audit.save(path.resolve('test-artifacts/accessibility-identity.json'));
  });

  /** A phone page that axe can audit (its scripts go in inline), with a virtual authenticator when asked. */
  async function phone(opts: { authenticator?: boolean } = {}): Promise<Page> {
    const context = await stack.phone({}, { bypassCSP: true });
    const page = await context.newPage();
    // What went wrong in the page shows in the test output (a failed module import, a 404).
    page.on('pageerror', (err) => console.log(`page error: ${err.message}`));
    page.on('response', (r) => r.status() === 404 && console.log(`404 ${r.url()}`));
    if (opts.authenticator) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      // A platform authenticator that holds discoverable credentials and verifies the person (the "biometric").
      await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
    }
    return page;
  }
  const axe = async (page: Page, name: string) => expect.soft(await audit.check(page, name), `axe on ${name}`).toEqual([]);

  it('signs in with the organisation SSO: the button on the sign-in screen, the provider, back to /app signed in', async () => {
    upstream.deny = false;
    upstream.next = { sub: 'emp-001', name: 'Wang Fang' };
    const page = await phone();
    await page.goto(`${stack.provider.issuer}/app`);
    const button = page.getByRole('link', { name: 'Sign in with Acme Corp SSO' });
    await button.waitFor();
    await axe(page, 'phone: sign in (passkey and SSO offered)');
    await screenshot(page, 'phone-sign-in-options');
    await button.click();
    await page.locator('#app[data-screen="home"]').waitFor();
    await expect(page.locator('#hello').textContent()).resolves.toBe('Hi, Wang Fang');
    expect(new URL(page.url()).hash).toBe(''); // the one-time code left the address bar
    await page.click('#tab-account');
    await page.locator('#identities li', { hasText: 'Acme Corp SSO' }).waitFor();
    await expect(page.locator('#method-password').textContent()).resolves.toContain('No password');
    await axe(page, 'phone: account (SSO identity, no passkey)');
  });

  it('says why an SSO sign-in failed, on the sign-in screen', async () => {
    upstream.deny = true;
    const page = await phone();
    await page.goto(`${stack.provider.issuer}/app`);
    await page.getByRole('link', { name: 'Sign in with Acme Corp SSO' }).click();
    await page.locator('#auth-message', { hasText: 'did not complete the sign-in' }).waitFor();
    await axe(page, 'phone: sign in after a failed SSO');
  });

  it('adds a passkey on the Account screen, signs in with it, and confirms a login that requires one with it', async () => {
    const p = stack.provider;
    const page = await phone({ authenticator: true });
    await signUpOnPhone(page, p.issuer, { username: uniqueName('pk'), nickname: 'Passkey Person' });
    await page.click('#tab-account');
    await page.locator('#no-passkeys').waitFor();
    await page.click('#add-passkey');
    await page.locator('#passkeys li', { hasText: 'Passkey on this phone' }).waitFor();
    await expect(page.locator('#account-notice').textContent()).resolves.toBe('Passkey added.');
    await axe(page, 'phone: account with a passkey');
    await screenshot(page, 'phone-account-passkey');

    // Signed out, the passkey alone signs in again (no username typed).
    await page.click('#tab-scan');
    await page.click('#sign-out');
    await page.locator('#app[data-screen="signin"]').waitFor();
    await page.click('#passkey-sign-in');
    await page.locator('#app[data-screen="home"]').waitFor();
    await expect(page.locator('#hello').textContent()).resolves.toBe('Hi, Passkey Person');

    // A site that requires user verification: the Confirm tap asks for the passkey.
    const { config } = await registerSite(p, { name: 'Bank Portal', requireUserVerification: true });
    const login = await beginLogin(p, config);
    await enterLinkOnPhone(page, (await login.qr()).body.payload);
    await page.locator('#passkey-required').waitFor();
    await expect(page.locator('#confirm').textContent()).resolves.toBe('Confirm with passkey');
    await axe(page, 'phone: confirm with a passkey');
    await screenshot(page, 'phone-confirm-passkey');
    await page.click('#confirm');
    await page.locator('#app[data-result="confirmed"]').waitFor();
    const { url } = await login.complete();
    expect((await finishAtSite(config, url, login)).claims.nickname).toBe('Passkey Person');
  });

  it('tells a person without a passkey to add one when a site requires it, and takes them there', async () => {
    const p = stack.provider;
    const page = await phone();
    await signUpOnPhone(page, p.issuer, { username: uniqueName('np'), nickname: 'No Passkey' });
    const { config } = await registerSite(p, { name: 'Strict Site', requireUserVerification: true });
    const login = await beginLogin(p, config);
    await enterLinkOnPhone(page, (await login.qr()).body.payload);
    await page.click('#confirm');
    await page.locator('#app[data-result="no_passkey"]').waitFor();
    await expect(page.locator('#result-body').textContent()).resolves.toContain('Add one under Account');
    await axe(page, 'phone: a passkey is needed');
    await page.click('#go-add-passkey');
    await page.locator('#app[data-screen="account"]').waitFor();
  });

  it('lists the devices signed in on Account and signs a lost phone out from this one, accessibly', async () => {
    const p = stack.provider;
    const page = await phone();
    const username = uniqueName('dv');
    await signUpOnPhone(page, p.issuer, { username, nickname: 'Two Phones' });
    const signIn = async (deviceName: string) => {
      const res = await fetch(`${p.issuer}/api/mobile/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'correct horse battery', deviceName }),
      });
      return ((await res.json()) as { token: string }).token;
    };
    const [token, tablet] = [await signIn('Old phone'), await signIn('Tablet')];
    const me = (t = token) => fetch(`${p.issuer}/api/mobile/me`, { headers: { authorization: `Bearer ${t}` } });
    expect((await me()).status).toBe(200);

    await page.click('#tab-account');
    const signOut = page.getByRole('button', { name: 'Sign out Old phone' });
    await signOut.waitFor();
    await expect(page.locator('#devices li', { hasText: 'this device' }).count()).resolves.toBe(1);
    await axe(page, 'phone: account (signed-in devices)');
    await signOut.click();
    await page.locator('#account-notice', { hasText: '“Old phone” is signed out.' }).waitFor();
    await page.locator('#devices li', { hasText: 'Old phone' }).waitFor({ state: 'detached' });
    expect((await me()).status).toBe(401);
    await page.click('#sign-out-others');
    await page.locator('#account-notice', { hasText: 'Signed out 1 other device(s).' }).waitFor();
    await page.locator('#devices li', { hasText: 'Tablet' }).waitFor({ state: 'detached' });
    expect((await me(tablet)).status).toBe(401);
    expect(await page.locator('#sign-out-others').count()).toBe(0); // only this device is left
  });

  it('shows people, their sign-in methods and the sign-in sources in the console, accessibly', async () => {
    const context = await stack.desktop({}, { bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${stack.provider.issuer}/admin/login`);
    await page.fill('#f-username', ADMIN.username);
    await page.fill('#f-password', ADMIN.password);
    await page.click('#login-submit');
    await page.goto(`${stack.provider.issuer}/admin/users`);
    await axe(page, 'console: users (with the new-person form)');
    await page.getByRole('link', { name: 'Wang Fang' }).first().click();
    await page.locator('#sign-in-methods').waitFor();
    await expect(page.locator('#sign-in-methods').textContent()).resolves.toContain('emp-001');
    await axe(page, 'console: a person (methods, link form, disable, delete)');
    await screenshot(page, 'console-person', { fullPage: true });
    await page.goto(`${stack.provider.issuer}/admin/sources`);
    await axe(page, 'console: sign-in sources (two forms)');
    await page.goto(`${stack.provider.issuer}/admin/sources/acme`);
    await axe(page, 'console: an SSO source');
  });
});
