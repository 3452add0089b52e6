/**
 * Every page of a login, usable by everyone: axe-core (WCAG 2.2 A and AA) on the demo site, the
 * QR page before and after a scan, the embedded QR, every phone-app screen, the provider's error
 * pages and the admin console, failing on any serious or critical violation; the QR status is a
 * live region whose text changes as the phone acts; the QR page and the console work with the
 * keyboard alone, with a focus ring that can be seen.
 *
 * One browser and one provider for the file; each test reuses one context per device. The
 * contexts bypass the pages' CSP so axe can be injected (see axe.ts); what the pages' own
 * scripts do under the strict CSP is checked by login.test.ts and phone-app.test.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningDemo } from '../../relying-party-demo/src/main.js';
import { ADMIN } from '../admin/support.js';
import { beginLogin, registerSite, signedInPhone } from '../support/flow.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { AxeAudit, focusIndicator } from './axe.js';
import { enterLinkOnPhone, signUpOnPhone, skipUnlessChromium, uniqueName, useBrowserStack } from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('accessibility in Chromium (axe-core, WCAG 2.2 A and AA; keyboard; live regions)', { timeout: 120_000 }, () => {
  // The demo app has its callback domain (as `npm start` seeds it): the WeChat-style paths work too.
  const stack = useBrowserStack({ env: { ADMIN_BOOTSTRAP_USERNAME: ADMIN.username, ADMIN_BOOTSTRAP_PASSWORD: ADMIN.password } });
  let p: TestProvider;
  let demo: RunningDemo;
  let site: Awaited<ReturnType<typeof registerSite>>;
  const audit = new AxeAudit();

  beforeAll(async () => {
    ({ provider: p, demo } = stack);
    site = await registerSite(p, { name: 'Phone Screens Site', homepage: 'https://shop.example' });
  });
  afterAll(() => {
    audit.save();
  });

  async function desktop(): Promise<Page> {
    return (await stack.desktop({}, { bypassCSP: true })).newPage();
  }

  async function phonePage(): Promise<Page> {
    return (await stack.phone({}, { bypassCSP: true })).newPage();
  }

  /** No serious or critical WCAG A/AA violation on the page as it is now; keeps going on failure. */
  async function expectAccessible(page: Page, name: string) {
    expect.soft(await audit.check(page, name), `axe on ${name}`).toEqual([]);
  }

  /**
   * Records every text a live region takes from now on, the way a screen reader hears it:
   * changes inside that same element, which must stay in the page (a region put in with its
   * text already in it is not announced). The texts are kept here, across navigations.
   */
  async function listenToLiveRegion(page: Page, selector: string): Promise<string[]> {
    const heard: string[] = [];
    const name = `heard${Math.random().toString(36).slice(2)}`;
    await page.exposeFunction(name, (text: string) => void heard.push(text));
    await page.evaluate(
      ([sel, fn]) => {
        const el = document.querySelector(sel)!;
        const tell = (window as unknown as Record<string, (text: string) => void>)[fn];
        new MutationObserver(() => el.textContent.trim() && tell(el.textContent.trim())).observe(el, { childList: true, characterData: true, subtree: true });
      },
      [selector, name] as const,
    );
    return heard;
  }

  /**
   * Opens the QR page with its code about to run out (the page is told it expires in a second)
   * and the provider out of reach (no live status, which would also bring the real expiry, and
   * no new code): the page then shows "expired" and its "Get a new code" button. Returns a
   * function that brings the provider back.
   */
  async function expiredQrPage(page: Page): Promise<() => Promise<void>> {
    await page.goto(`${demo.url}/login`);
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    // Redirected requests are not routed: the page is loaded again, straight.
    await page.route(/\/interaction\/[^/]+$/, async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(/data-expires-at="\d+"/, `data-expires-at="${Date.now() + 1000}"`);
      await route.fulfill({ response, body });
    });
    await page.route(/\/interaction\/[^/]+\/qr(\/|\?|$)/, (route) => route.abort());
    await page.reload();
    await page.locator('#qr-refresh:not([hidden])').waitFor();
    return () => page.unrouteAll();
  }

  const qrLinkOn = async (page: Page) => (await page.locator('#qr-link').getAttribute('href'))!;
  const qrIdOf = (link: string) => /\/q\/([A-Za-z0-9_-]+)$/.exec(link)![1];

  it('the demo site and the QR page before and after a scan; the status is a live region that follows the phone', async () => {
    const page = await desktop();
    await page.goto(demo.url);
    await expectAccessible(page, 'demo: home');

    await page.getByRole('link', { name: /Log in with Saoma/ }).click();
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    await expectAccessible(page, 'QR page: waiting for a scan');

    // The status line is the page's one polite live region, and stays the same element.
    const status = page.getByRole('status');
    await expect(status.getAttribute('aria-live')).resolves.toBe('polite');
    await expect(status.textContent()).resolves.toBe('Scan with the Saoma app on your phone');
    const heard = await listenToLiveRegion(page, '#qr-status');

    const phone = await signedInPhone(p);
    const link = await qrLinkOn(page);
    expect((await phone.scan(link)).status).toBe(200);
    await page.locator('#qr-root[data-status="scanned"]').waitFor();
    await expect(status.textContent()).resolves.toBe('Confirm the login on your phone.');
    await expectAccessible(page, 'QR page: scanned, waiting for the phone');

    await phone.confirm(qrIdOf(link));
    await page.waitForURL(`${demo.url}/profile`);
    expect(heard).toEqual(['Confirm the login on your phone.', 'Confirmed. Logging you in…']);
    await expectAccessible(page, 'demo: profile after login');
    await page.goto(demo.url);
    await expectAccessible(page, 'demo: home, logged in');
    await page.getByRole('button', { name: /Log out/ }).click();

    // A denial: the page holds on the denied state a moment before leaving; hold /complete
    // back so that state can be checked, then let it go on to the site.
    await page.goto(`${demo.url}/login`);
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    const heardDenial = await listenToLiveRegion(page, '#qr-status');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/interaction/*/complete', async (route) => {
      await held;
      await route.continue();
    });
    const denier = await signedInPhone(p);
    const second = await qrLinkOn(page);
    await denier.scan(second);
    await page.locator('#qr-root[data-status="scanned"]').waitFor();
    await denier.deny(qrIdOf(second));
    await page.locator('#qr-root[data-status="denied"]').waitFor();
    expect(heardDenial).toEqual(['Confirm the login on your phone.', 'You denied this login on your phone.']);
    await expectAccessible(page, 'QR page: denied');
    release();
    await page.waitForURL(new RegExp(`^${demo.url}/callback`));
    await expectAccessible(page, 'demo: login denied');
  });

  it('the QR page once the code has expired and a new one could not be fetched, and in Chinese', async () => {
    const page = await desktop();
    const recover = await expiredQrPage(page);
    await expect(page.locator('#qr-root').getAttribute('data-status')).resolves.toBe('expired');
    await expect(page.getByRole('status').textContent()).resolves.toBe('Connection lost. Retrying…');
    await expectAccessible(page, 'QR page: expired, no new code yet');

    await recover();
    await page.getByRole('link', { name: '中文' }).click();
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await expectAccessible(page, 'QR page in Chinese');
  });

  it('the WeChat-style pages: the embedded QR page, the iframe itself (a live region too), the profile, the error page', async () => {
    const page = await desktop();
    await page.goto(`${demo.url}/wechat/embedded`);
    await page.locator('#login_container[data-wx-ready="true"]').waitFor();
    await expectAccessible(page, 'demo: embedded QR (wxLogin.js)');

    // The iframe's page on its own, as axe cannot reach into a cross-site frame.
    const frameSrc = (await page.locator('#login_container iframe').getAttribute('src'))!;
    const frame = await desktop();
    await frame.goto(frameSrc);
    await expectAccessible(frame, 'embedded QR iframe: waiting for a scan');
    const status = frame.getByRole('status');
    await expect(status.getAttribute('aria-live')).resolves.toBe('polite');
    const heard = await listenToLiveRegion(frame, '#wx-status');
    const phone = await signedInPhone(p);
    const link = (await frame.locator('#wx-qr-link').getAttribute('href'))!;
    await phone.scan(link);
    await frame.locator('#wx-root[data-status="scanned"]').waitFor();
    await expect(status.textContent()).resolves.toBe('Scanned. Confirm the login on your phone.');
    expect(heard).toEqual(['Scanned. Confirm the login on your phone.']);
    await expectAccessible(frame, 'embedded QR iframe: scanned');

    // The redirect path ends on the WeChat-style profile.
    await page.goto(`${demo.url}/wechat/login`);
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    const second = await qrLinkOn(page);
    await phone.scan(second);
    await phone.confirm(qrIdOf(second));
    await page.waitForURL(`${demo.url}/wechat/profile`);
    await expectAccessible(page, 'demo: WeChat-style profile');

    await page.goto(
      `${p.issuer}/connect/qrconnect?appid=wx0000000000000000&redirect_uri=${encodeURIComponent(`${demo.url}/wechat/callback`)}&response_type=code&scope=snsapi_login`,
    );
    await expectAccessible(page, 'WeChat-style error page');
  });

  it("the provider's error pages", async () => {
    const page = await desktop();
    await page.goto(`${p.issuer}/interaction/no-such-interaction`);
    await expectAccessible(page, 'QR page error (unknown interaction)');
    await page.goto(`${p.issuer}/auth?client_id=nosuchclient&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://nowhere.example/cb')}`);
    await expect(page.locator('h1').textContent()).resolves.toMatch(/Sign-in error/);
    await expectAccessible(page, 'OIDC error page (unknown client)');
    await page.goto(`${p.issuer}/interaction/%E0%A4%A`);
    await expectAccessible(page, 'error page (malformed path)');
  });

  it('every phone-app screen', async () => {
    const page = await phonePage();
    const issuer = p.issuer;
    await page.goto(`${issuer}/app`);
    await page.locator('#app[data-screen="signin"]').waitFor();
    await expectAccessible(page, 'phone: sign in');
    await page.fill('#username', 'nobody-here');
    await page.fill('#password', 'wrong password');
    await page.click('#auth-submit');
    await page.locator('#auth-message:not(:empty)').waitFor();
    await expectAccessible(page, 'phone: sign in, wrong password');
    await page.click('#auth-switch');
    await page.locator('#app[data-screen="signup"]').waitFor();
    await expectAccessible(page, 'phone: create account');

    await signUpOnPhone(page, issuer, { username: uniqueName('a'), nickname: 'Ada Screens' });
    await expectAccessible(page, 'phone: home');
    await page.click('#scan-button');
    await page.locator('#app[data-screen="scan"]').waitFor();
    await page.waitForFunction(() => document.getElementById('camera-status')?.textContent !== 'Starting the camera…');
    await expectAccessible(page, 'phone: scan');
    await page.click('#scan-cancel');
    await page.locator('#app[data-screen="home"]').waitFor();

    // The outcome of a scan is said through the app's one live region, which outlives screens.
    const announced = await listenToLiveRegion(page, '#announcer');
    const confirmLogin = await beginLogin(p, site.config);
    await enterLinkOnPhone(page, (await confirmLogin.qr()).body.payload);
    await expectAccessible(page, 'phone: confirm');
    // Whoever pasted the link is now on the question itself.
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('confirm-title');
    await page.click('#confirm');
    await page.locator('#app[data-result="confirmed"]').waitFor();
    await expectAccessible(page, 'phone: result, confirmed');
    await expect.poll(() => announced.at(-1)).toBe('Login confirmed. Go back to the computer: it is logging you in to Phone Screens Site.');
    await confirmLogin.complete(); // the browser finishes: the app is now among the authorizations
    await page.click('#done');

    const denied = await beginLogin(p, site.config);
    await enterLinkOnPhone(page, (await denied.qr()).body.payload);
    await page.click('#deny');
    await page.locator('#app[data-result="denied"]').waitFor();
    await expectAccessible(page, 'phone: result, denied');
    await expect.poll(() => announced.at(-1)).toMatch(/^Login denied\. The computer was not logged in/);
    await page.click('#done');

    const taken = await beginLogin(p, site.config);
    const takenQr = (await taken.qr()).body.payload;
    await (await signedInPhone(p)).scan(takenQr);
    await enterLinkOnPhone(page, takenQr);
    await page.locator('#app[data-result="already_scanned"]').waitFor();
    await expectAccessible(page, 'phone: result, already scanned');
    await page.click('#done');

    await enterLinkOnPhone(page, `${issuer}/q/AAAAAAAAAAAAAAAAAAAAAAAA`);
    await page.locator('#app[data-result="qr_not_found"]').waitFor();
    await expectAccessible(page, 'phone: result, unknown code');
    await page.click('#done');

    await page.click('#tab-authorizations');
    await page.locator('#authorizations li.authorization').first().waitFor();
    await expectAccessible(page, 'phone: authorizations');
    await page.getByRole('button', { name: 'Revoke' }).first().click();
    await expectAccessible(page, 'phone: authorizations, revoke asked');
    await page.click('#tab-activity');
    await page.locator('#activity:not([aria-busy])').waitFor();
    await expectAccessible(page, 'phone: activity');

    await page.click('#tab-scan');
    await page.click('#lang-toggle');
    await page.locator('#app[data-screen="home"]').waitFor();
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('zh-CN');
    await expectAccessible(page, 'phone: home in Chinese');
  });

  it('every admin console screen', async () => {
    const page = await desktop();
    await page.goto(`${p.issuer}/admin`);
    await page.waitForURL(/\/admin\/login/);
    await expectAccessible(page, 'console: sign in');
    await page.fill('#f-username', ADMIN.username);
    await page.fill('#f-password', 'not the password');
    await page.click('#login-submit');
    await page.locator('.alert').waitFor();
    await expectAccessible(page, 'console: sign in, wrong password');
    await page.fill('#f-password', ADMIN.password);
    await page.click('#login-submit');
    await page.waitForURL(`${p.issuer}/admin/apps`);
    await expectAccessible(page, 'console: apps');

    await page.click('#new-app');
    await expectAccessible(page, 'console: new app');
    await page.fill('#f-name', 'Console A11y Site');
    await page.fill('#f-redirectUris', 'not a url');
    await page.click('#app-submit');
    await page.locator('.alert').waitFor();
    await expectAccessible(page, 'console: new app, refused');
    await page.fill('#f-redirectUris', 'https://a11y.example/callback');
    await page.click('#app-submit');
    await page.locator('#secret-box').waitFor();
    await expectAccessible(page, 'console: app, secret shown once');
    await page.click('#edit-app');
    await expectAccessible(page, 'console: edit app');
    await page.goBack();
    await page.click('#delete-app');
    await expectAccessible(page, 'console: delete app');

    await page.goto(`${p.issuer}/admin/developers`);
    await expectAccessible(page, 'console: developers');
    await page.goto(`${p.issuer}/admin/developers/dev_default`);
    await expectAccessible(page, 'console: developer');
    await page.goto(`${p.issuer}/admin/users`);
    await expectAccessible(page, 'console: users');
    await page.locator('table a').first().click();
    await expectAccessible(page, 'console: user');
    await page.goto(`${p.issuer}/admin/keys`);
    await expectAccessible(page, 'console: keys');
    await page.locator('table a').first().click();
    await expectAccessible(page, 'console: key');
    await page.goto(`${p.issuer}/admin/tokens`);
    await page.fill('#token-form #f-name', 'a11y');
    await page.click('#token-form button[type="submit"]');
    await page.locator('#token-box').waitFor();
    await expectAccessible(page, 'console: API tokens, token shown once');
    await page.goto(`${p.issuer}/admin/admins`);
    await expectAccessible(page, 'console: admins');
    await page.goto(`${p.issuer}/admin/no-such-page`);
    await expectAccessible(page, 'console: not found');
  });

  describe('with the keyboard alone', () => {
    /**
     * Presses Tab (or Shift+Tab) until the focused element matches `selector`, checking at every
     * stop that the focus can be seen. Returns the labels of the stops, for the failure message.
     */
    async function tabTo(page: Page, selector: string, opts: { back?: boolean; max?: number } = {}): Promise<string[]> {
      const stops: string[] = [];
      for (let i = 0; i < (opts.max ?? 30); i++) {
        await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
        const focus = await focusIndicator(page);
        stops.push(`${focus.tag} "${focus.text}"`);
        expect.soft(focus.ring, `a visible focus ring on ${focus.tag} "${focus.text}"`).not.toBeNull();
        expect.soft(focus.obscured, `${focus.tag} "${focus.text}" not hidden under something else`).toBe(false);
        if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return stops;
      }
      throw new Error(`Tab never reached ${selector}; stops: ${stops.join(' → ')}`);
    }

    it('signs in to the console, creates an app and moves between sections', async () => {
      const page = await desktop();
      await page.goto(`${p.issuer}/admin/login`);
      await tabTo(page, '#f-username');
      await page.keyboard.type(ADMIN.username);
      await tabTo(page, '#f-password');
      await page.keyboard.type(ADMIN.password);
      await page.keyboard.press('Enter');
      await page.waitForURL(`${p.issuer}/admin/apps`);

      // The first stop skips the navigation; the next is the page's own first control.
      await tabTo(page, 'a.skip', { max: 1 });
      await page.keyboard.press('Enter');
      await tabTo(page, '#new-app', { max: 1 });
      await page.keyboard.press('Enter');
      await page.waitForURL(`${p.issuer}/admin/apps/new`);
      await tabTo(page, '#f-name');
      await page.keyboard.type('Keyboard Site');
      await tabTo(page, '#f-redirectUris');
      await page.keyboard.type('https://keyboard.example/callback');
      // A select changes with the arrow keys; the form is sent from its button with Space.
      await tabTo(page, '#f-tokenEndpointAuthMethod');
      await page.keyboard.press('ArrowDown');
      await tabTo(page, '#app-submit');
      await page.keyboard.press('Space');
      await page.waitForURL(new RegExp(`^${p.issuer}/admin/apps/sm[0-9a-f]{16}$`));
      await expect(page.locator('.notice').textContent()).resolves.toBe('Created Keyboard Site.');
      await expect(page.locator('.settings').textContent()).resolves.toContain('client_secret_post');

      // Back up the page to the navigation, to another section.
      await tabTo(page, 'nav a[href="/admin/developers"]', { back: true, max: 40 });
      await page.keyboard.press('Enter');
      await page.waitForURL(`${p.issuer}/admin/developers`);
      await expect(page.locator('h1').textContent()).resolves.toBe('Developer accounts');
    });

    it('switches the QR page to Chinese, opens the link, refreshes an expired code and cancels', async () => {
      const page = await desktop();
      await page.goto(`${demo.url}/login`);
      await page.locator('#qr-root[data-status="pending"]').waitFor();
      await tabTo(page, '#qr-lang');
      await page.keyboard.press('Enter');
      await page.waitForURL(/lang=zh/);
      await page.locator('#qr-root[data-status="pending"]').waitFor();

      // "Can't scan?" opens with Enter and its link is the next stop.
      await tabTo(page, '.link summary');
      await page.keyboard.press('Enter');
      await expect(page.locator('details.link').getAttribute('open')).resolves.toBe('');
      await tabTo(page, '#qr-link', { max: 1 });

      await tabTo(page, '#qr-cancel');
      await page.keyboard.press('Enter');
      await page.waitForURL(new RegExp(`^${demo.url}/callback`));
      await expect(page.locator('h1').textContent()).resolves.toMatch(/cancel|denied/i);
    });

    it('reaches "Get a new code" on an expired QR page and uses it', async () => {
      const page = await desktop();
      const recover = await expiredQrPage(page);
      const first = await page.locator('#qr-root').getAttribute('data-qr-id');
      await recover();
      await tabTo(page, '#qr-refresh');
      await page.keyboard.press('Enter');
      // The server's code is still live (only this page was told otherwise): it is shown again.
      await page.locator('#qr-root[data-status="pending"]').waitFor();
      await expect(page.locator('#qr-root').getAttribute('data-qr-id')).resolves.toBe(first);
      await expect(page.locator('#qr-refresh').isHidden()).resolves.toBe(true);
      // …and once the live status is back, the status line says so.
      await page.getByRole('status').filter({ hasText: 'Scan with the Saoma app on your phone' }).waitFor({ timeout: 20_000 });
    });
  });
});
