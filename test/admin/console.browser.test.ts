/**
 * The console in Chromium: an admin signs in, registers the demo site as an app, sees its
 * AppSecret once, and a person then logs in to that site with it (the phone through the phone
 * API); the console shows the login. Saves docs/screenshots/admin-console.png.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type RunningDemo } from '../../relying-party-demo/src/main.js';
import { desktopContext, freePort, launchChromium, screenshot, skipUnlessChromium } from '../browser/support.js';
import { signedInPhone } from '../support/flow.js';
import { startTestProvider, type TestProvider, closeStarted } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { ADMIN } from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('admin console in Chromium', { timeout: 120_000 }, () => {
  let browser: Browser;
  let p: TestProvider;
  let demo: RunningDemo | undefined;
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    [browser, p] = await Promise.all([
      launchChromium(),
      startTestProvider('services', { ADMIN_BOOTSTRAP_USERNAME: ADMIN.username, ADMIN_BOOTSTRAP_PASSWORD: ADMIN.password }),
    ]);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await closeStarted(browser, demo, p);
  });

  async function newPage(): Promise<Page> {
    const context = await desktopContext(browser);
    contexts.push(context);
    context.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    return context.newPage();
  }

  it('signs in, creates an app with its secret shown once, and that app logs a person in through the demo site', async () => {
    const demoPort = await freePort();
    const demoUrl = `http://127.0.0.1:${demoPort}`;

    // Sign in: /admin sends an anonymous visitor to the sign-in form.
    const admin = await newPage();
    await admin.goto(`${p.issuer}/admin`);
    await admin.waitForURL(/\/admin\/login/);
    await admin.fill('#f-username', ADMIN.username);
    await admin.fill('#f-password', ADMIN.password);
    await admin.click('#login-submit');
    await admin.waitForURL(`${p.issuer}/admin/apps`);
    await expect(admin.locator('h1').textContent()).resolves.toBe('Apps');

    // Create the app.
    await admin.click('#new-app');
    await admin.fill('#f-name', 'Console Demo Site');
    await admin.fill('#f-redirectUris', `${demoUrl}/callback`);
    await admin.fill('#f-homepage', demoUrl);
    await admin.fill('#f-description', 'Registered from the console in the browser test');
    await admin.click('#app-submit');
    await admin.waitForURL(new RegExp(`^${p.issuer}/admin/apps/sm[0-9a-f]{16}$`));
    await expect(admin.locator('.notice').textContent()).resolves.toBe('Created Console Demo Site.');
    const appId = (await admin.locator('#app-id').textContent())!;
    const appSecret = (await admin.locator('#app-secret').textContent())!;
    expect(appSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await screenshot(admin, 'admin-console-secret');

    // The secret is shown this once: a reload no longer has it.
    await admin.reload();
    await expect(admin.locator('#app-secret').count()).resolves.toBe(0);
    await expect(admin.content()).resolves.not.toContain(appSecret);

    // The demo site, configured with what the console showed, logs a person in.
    demo = await startDemo({ issuer: p.issuer, clientId: appId, clientSecret: appSecret, publicUrl: demoUrl, port: demoPort, host: '127.0.0.1' });
    const site = await newPage();
    await site.goto(demoUrl);
    await site.getByRole('link', { name: /Log in with Saoma/ }).click();
    await site.waitForURL(/\/interaction\/[^/]+$/);
    await site.locator('#qr-root[data-status="pending"]').waitFor();
    await expect(site.locator('#qr-app-name').textContent()).resolves.toBe('Console Demo Site');
    const link = (await site.locator('#qr-link').getAttribute('href'))!;
    const qrId = /\/q\/([A-Za-z0-9_-]+)$/.exec(link)![1];

    const phone = await signedInPhone(p);
    expect((await phone.scan(link)).status).toBe(200);
    expect((await phone.confirm(qrId)).status).toBe(200);
    await site.waitForURL(`${demoUrl}/profile`);
    await expect(site.locator('h1').first().textContent()).resolves.toBe(phone.user.nickname);

    // The console shows the login and the person who authorized the app.
    await admin.reload();
    await expect(admin.locator('[data-count="confirmed-24h"]').textContent()).resolves.toBe('1');
    await expect(admin.locator('[data-count="completed-24h"]').textContent()).resolves.toBe('1');
    await expect(admin.getByRole('link', { name: phone.user.nickname }).count()).resolves.toBeGreaterThan(0);
    await screenshot(admin, 'admin-console', { docs: 'admin-console.png', fullPage: true });
    expect(cspViolations).toEqual([]);
  });
});
