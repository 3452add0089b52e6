/**
 * The phone app beyond one login: my authorizations and revoking, my recent logins, language,
 * 360 px screens, the installable shell (manifest, icons, offline service worker), and the
 * fallbacks when the camera cannot run (plain HTTP on a LAN: photo of the code, or the link).
 */
import * as oidc from 'openid-client';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { beginLogin, finishAtSite, registerSite } from '../support/flow.js';
import { startTestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import {
  decodeQrOnPage,
  enterLinkOnPhone,
  launchChromium,
  phoneContext,
  screenshot,
  signUpOnPhone,
  skipUnlessChromium,
  uniqueName,
  useBrowserStack,
  withQuietZone,
} from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());
// A name that is not localhost, so the page is NOT a secure context (as a phone on a LAN sees http://192.168.x.y).
const LAN_HOST = 'saoma-lan.test';

describe.skipIf(skip)('the phone app in Chromium', { timeout: 90_000 }, () => {
  const stack = useBrowserStack({ launch: { args: [`--host-resolver-rules=MAP ${LAN_HOST} 127.0.0.1`] } });

  async function phone(opts: Parameters<typeof phoneContext>[1] = {}): Promise<Page> {
    return (await stack.phone(opts)).newPage();
  }

  it("lists the site I approved, and revoking it makes the site's access and refresh tokens fail at once", async () => {
    const p = stack.provider;
    const { config } = await registerSite(p, { name: 'Revocable Site', homepage: 'https://revocable.example' });
    const page = await phone();
    await signUpOnPhone(page, p.issuer, { username: uniqueName('r'), nickname: 'Revoker' });
    const login = await beginLogin(p, config, { scope: 'openid profile offline_access', prompt: 'consent' });
    const { body } = await login.qr();
    await enterLinkOnPhone(page, body.payload);
    await expect(page.locator('#confirm-scopes li').allTextContents()).resolves.toEqual(['your identity', 'nickname and avatar', 'stay signed in']);
    await page.click('#confirm');
    await page.locator('#app[data-result="confirmed"]').waitFor();
    const { url } = await login.complete();
    const { tokens } = await finishAtSite(config, url, login);
    const userinfoUrl = config.serverMetadata().userinfo_endpoint!;
    const userinfo = () => fetch(userinfoUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfo()).status).toBe(200);

    await page.click('#done');
    await page.click('#tab-authorizations');
    const item = page.locator('#authorizations li.authorization', { hasText: 'Revocable Site' });
    await item.waitFor();
    await expect(item.locator('.scopes-line').textContent()).resolves.toBe('your identity, nickname and avatar, stay signed in');
    await expect(item.textContent()).resolves.toContain('revocable.example');
    await screenshot(page, 'phone-authorizations');
    await item.getByRole('button', { name: 'Revoke' }).click();
    await screenshot(page, 'phone-authorizations-revoke-ask');
    await item.locator('[data-action="revoke-confirm"]').click();
    await page.locator('#authorizations-notice:visible').waitFor();
    await expect(page.locator('#authorizations li.authorization', { hasText: 'Revocable Site' }).count()).resolves.toBe(0);

    // The site's tokens: the access token fails at userinfo, the refresh token is gone too.
    expect((await userinfo()).status).toBe(401);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // And the trail shows what happened, newest first.
    await page.click('#tab-activity');
    await page.locator('#activity li[data-type]').first().waitFor();
    const types = await page.locator('#activity li[data-type]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.type));
    expect(types.slice(0, 4)).toEqual(['authorization.revoked', 'login.completed', 'qr.confirmed', 'qr.scanned']);
    await expect(page.locator('#activity li[data-type="qr.confirmed"]').textContent()).resolves.toContain('Revocable Site');
    await screenshot(page, 'phone-activity');
  });

  it('speaks Chinese on a Chinese phone, switches to English on request and remembers it', async () => {
    const page = await phone({ locale: 'zh-CN' });
    await page.goto(`${stack.provider.issuer}/app`);
    await expect(page.locator('h1').textContent()).resolves.toBe('登录');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await screenshot(page, 'phone-signin-zh');
    await page.click('#lang-toggle');
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
    await page.reload();
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
  });

  it('shows the QR page in Chinese for a Chinese browser, and switches language without changing the QR', async () => {
    const context = await stack.desktop({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${stack.demo.url}/login`);
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    await expect(page.locator('#qr-status').textContent()).resolves.toBe('请使用手机上的扫码登录 App 扫描二维码');
    const qrId = await page.locator('#qr-root').getAttribute('data-qr-id');
    await screenshot(page, 'qr-page-zh');
    await page.click('#qr-lang');
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    await expect(page.locator('#qr-status').textContent()).resolves.toBe('Scan with the Saoma app on your phone');
    await expect(page.locator('#qr-root').getAttribute('data-qr-id')).resolves.toBe(qrId);
  });

  it('fits a 360 px wide phone: no sideways scrolling on home, confirm and result screens', async () => {
    const page = await phone({ width: 360, height: 740 });
    await signUpOnPhone(page, stack.provider.issuer, { username: uniqueName('n'), nickname: 'A Rather Long Nickname For A Small Screen' });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    const desktop = await (async () => {
      const c = await stack.desktop();
      const d = await c.newPage();
      await d.goto(`${stack.demo.url}/login`);
      await d.locator('#qr-root[data-status="pending"]').waitFor();
      return d;
    })();
    await enterLinkOnPhone(page, await decodeQrOnPage(desktop));
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, 'phone-confirm-360', { fullPage: true });
    await page.click('#deny');
    await page.locator('#app[data-result="denied"]').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
  });

  it('on plain HTTP (no secure context) says why the camera is off, and a photo of the QR still works', async () => {
    const desktopCtx = await stack.desktop();
    const desktop = await desktopCtx.newPage();
    await desktop.goto(`${stack.demo.url}/login`);
    await desktop.locator('#qr-root[data-status="pending"]').waitFor();
    const photo = withQuietZone(PNG.sync.read(await desktop.locator('#qr-svg').screenshot()), 40);

    const page = await phone();
    const lanOrigin = `http://${LAN_HOST}:${new URL(stack.provider.issuer).port}`;
    await signUpOnPhone(page, lanOrigin, { username: uniqueName('l'), nickname: 'LAN Phone' });
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    await page.click('#scan-button');
    await page.locator('#app[data-camera="cameraInsecure"]').waitFor();
    await expect(page.locator('#camera-status').textContent()).resolves.toMatch(/only works .* HTTPS/);
    await screenshot(page, 'phone-scan-insecure');
    await page.setInputFiles('#photo-input', { name: 'qr.png', mimeType: 'image/png', buffer: PNG.sync.write(photo) });
    await page.locator('#app[data-screen="confirm"]').waitFor();
    await expect(page.locator('#confirm-title').textContent()).resolves.toBe('Log in to Saoma Demo Site?');
  });

  it('a QR link opened from outside (the camera app, a chat) shows the request and scans only after a tap: the browser hears nothing until then', async () => {
    const desktopCtx = await stack.desktop();
    const desktop = await desktopCtx.newPage();
    await desktop.goto(`${stack.demo.url}/login`);
    await desktop.locator('#qr-root[data-status="pending"]').waitFor();
    const link = await decodeQrOnPage(desktop);

    const page = await phone();
    const who = { username: uniqueName('c'), nickname: 'Camera User' };
    await signUpOnPhone(page, stack.provider.issuer, who);
    await page.click('#sign-out');
    await page.locator('#app[data-screen="signin"]').waitFor();
    await page.goto(link); // what the phone's camera app opens
    await page.locator('#app[data-screen="signin"]').waitFor();
    expect(new URL(page.url()).pathname).toBe('/app');
    await page.fill('#username', who.username);
    await page.fill('#password', 'correct horse battery');
    await page.click('#auth-submit');
    await page.locator('#app[data-screen="link-request"]').waitFor();
    await expect(page.locator('#link-title').textContent()).resolves.toBe('A login request for Saoma Demo Site');
    await screenshot(page, 'phone-link-request');
    // Not scanned yet: the computer still shows its QR, with no nickname or avatar over it.
    await page.waitForTimeout(500);
    await expect(desktop.locator('#qr-root').getAttribute('data-status')).resolves.toBe('pending');
    await page.click('#link-continue');
    await page.locator('#app[data-screen="confirm"]').waitFor();
    await desktop.locator('#qr-root[data-status="scanned"]').waitFor();
    await page.click('#confirm');
    await desktop.waitForURL(`${stack.demo.url}/profile`);
    await expect(desktop.locator('h1').first().textContent()).resolves.toBe('Camera User');
  });

  it('stays signed in across reloads, and signing out ends the device token on the server', async () => {
    const page = await phone();
    await signUpOnPhone(page, stack.provider.issuer, { username: uniqueName('s'), nickname: 'Stayer' });
    await page.reload();
    await page.locator('#app[data-screen="home"]').waitFor();
    const token = await page.evaluate(() => localStorage.getItem('saoma.token'));
    expect(token).toBeTruthy();
    await page.click('#sign-out');
    await page.locator('#app[data-screen="signin"]').waitFor();
    await expect(page.locator('.notice').textContent()).resolves.toBe('You have signed out.');
    const me = await fetch(`${stack.provider.issuer}/api/mobile/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(401);
  });
});

describe.skipIf(skip)('the phone app is installable and its shell works offline', { timeout: 60_000 }, () => {
  it('serves a manifest whose icons are PNGs of the declared sizes, the worker with its scope, and qr-scanner', async () => {
    const p = await startTestProvider('services');
    try {
      const res = await fetch(`${p.issuer}/app/manifest.webmanifest`);
      expect(res.headers.get('content-type')).toMatch(/application\/manifest\+json/);
      const manifest = (await res.json()) as {
        start_url: string;
        scope: string;
        display: string;
        icons: Array<{ src: string; sizes: string; purpose: string }>;
      };
      expect(manifest).toMatchObject({ start_url: '/app', scope: '/app', display: 'standalone' });
      expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
      expect(manifest.icons.some((i) => i.purpose === 'maskable')).toBe(true);
      for (const icon of manifest.icons) {
        const png = PNG.sync.read(Buffer.from(await (await fetch(new URL(icon.src, p.issuer))).arrayBuffer()));
        expect(`${png.width}x${png.height}`).toBe(icon.sizes);
      }
      const sw = await fetch(`${p.issuer}/app/sw.js`);
      expect(sw.headers.get('service-worker-allowed')).toBe('/app');
      expect(sw.headers.get('content-type')).toMatch(/javascript/);
      const lib = await fetch(`${p.issuer}/app/vendor/qr-scanner/qr-scanner.min.js`);
      expect(lib.status).toBe(200);
      expect(lib.headers.get('content-type')).toMatch(/javascript/);
      expect((await fetch(`${p.issuer}/app/vendor/qr-scanner/package.json`)).status).toBe(404);
      // The shell carries no inline script and no inline handler (a strict CSP is coming).
      const shell = await (await fetch(`${p.issuer}/q/abcdefghijklmnopqrstuvwx`)).text();
      expect(shell).toMatch(/<script type="module" src="\/static\/app\/app.js">/);
      expect(shell).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(shell).not.toMatch(/\son[a-z]+=/i);
    } finally {
      await p.close();
    }
  });

  it('opens from the service worker cache when the server is gone, and never serves /api from it', async () => {
    const browser = await launchChromium();
    const p = await startTestProvider('services');
    let closed = false;
    try {
      const context = await phoneContext(browser);
      const page = await context.newPage();
      await signUpOnPhone(page, p.issuer, { username: uniqueName('o'), nickname: 'Offline Olga' });
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 });
      await p.close();
      closed = true;
      await page.reload();
      await page.locator('#app[data-screen="home"]').waitFor();
      await expect(page.locator('#hello').textContent()).resolves.toBe('Hi, Offline Olga');
      // /api/mobile/me failed (not answered from a cache): the app says it is offline.
      await expect(page.locator('.banner.warn').textContent()).resolves.toMatch(/offline/);
      await screenshot(page, 'phone-offline');
      const cached = await page.evaluate(async () => {
        const names = await caches.keys();
        const urls = (await Promise.all(names.map(async (n) => (await (await caches.open(n)).keys()).map((r) => new URL(r.url).pathname)))).flat();
        return urls;
      });
      expect(cached).toContain('/app');
      expect(cached.filter((u) => u.startsWith('/api/'))).toEqual([]);
    } finally {
      await browser.close();
      if (!closed) await p.close();
    }
  });
});
