/**
 * The whole login in a real browser: the desktop at the demo site, the phone at /app, the QR
 * read off the desktop screen by a decoder, and the desktop logged in at the end.
 */
import { describe, expect, it } from 'vitest';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { decodeQrOnPage, enforceStrictCsp, enterLinkOnPhone, screenshot, signUpOnPhone, skipUnlessChromium, uniqueName, useBrowserStack } from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('QR login in Chromium: demo site on one origin, provider on another, phone app', { timeout: 90_000 }, () => {
  const stack = useBrowserStack();

  async function desktopAtQrPage(cspViolations?: string[]) {
    const desktop = await stack.desktop();
    if (cspViolations) cspViolations.push(...(await enforceStrictCsp(desktop, stack.provider.issuer)));
    const page = await desktop.newPage();
    await page.goto(stack.demo.url);
    await page.getByRole('link', { name: /Log in with Saoma/ }).click();
    await page.waitForURL(/\/interaction\/[^/]+$/);
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    return page;
  }

  async function signedInPhone(nickname: string) {
    const phone = await stack.phone();
    const violations = await enforceStrictCsp(phone, stack.provider.issuer);
    const page = await phone.newPage();
    await signUpOnPhone(page, stack.provider.issuer, { username: uniqueName('p'), nickname });
    return { page, violations };
  }

  it('logs the desktop in at the demo site after the phone decodes the on-screen QR and confirms', async () => {
    const desktopCsp: string[] = [];
    const desktop = await desktopAtQrPage(desktopCsp);
    // The page names the app asking, and the QR image encodes exactly the link shown under it.
    await expect(desktop.locator('#qr-app-name').textContent()).resolves.toBe('Saoma Demo Site');
    const link = await decodeQrOnPage(desktop);
    expect(link).toMatch(new RegExp(`^${stack.provider.issuer}/q/[A-Za-z0-9_-]{22,}$`));
    expect(await desktop.locator('#qr-link').getAttribute('href')).toBe(link);
    await expect(desktop.locator('#qr-countdown').textContent()).resolves.toMatch(/^[12]:\d\d$/);
    await screenshot(desktop, 'qr-page-pending', { docs: 'qr-page.png' });

    const { page: phone, violations: phoneCsp } = await signedInPhone('Lin Wei');
    await screenshot(phone, 'phone-home');
    await enterLinkOnPhone(phone, link);
    const confirm = phone.locator('#app[data-screen="confirm"]');
    await expect(confirm.count()).resolves.toBe(1);
    // What RFC 10027 asks the confirm screen to show, in plain words.
    await expect(phone.locator('#confirm-title').textContent()).resolves.toBe('Log in to Saoma Demo Site?');
    await expect(phone.locator('#confirm-domain').textContent()).resolves.toBe(new URL(stack.demo.url).host);
    await expect(phone.locator('#confirm-scopes li').allTextContents()).resolves.toEqual(['your identity', 'nickname and avatar']);
    await expect(phone.locator('#requester-ip').textContent()).resolves.toMatch(/127\.0\.0\.1|::1/);
    await expect(phone.locator('#requester-ua').textContent()).resolves.toBe('Chrome on Linux');
    await expect(phone.locator('#requester-time').textContent()).resolves.toMatch(/ago|now/);
    await expect(phone.locator('#confirm-countdown').textContent()).resolves.toMatch(/^Expires in [12]:\d\d$/);
    await expect(phone.locator('#network-warning').count()).resolves.toBe(0); // same machine, same network
    // "Deny" is as prominent as "Confirm": same size, both visible without scrolling.
    const [deny, ok] = await Promise.all([phone.locator('#deny').boundingBox(), phone.locator('#confirm').boundingBox()]);
    expect(deny && ok && Math.abs(deny.width - ok.width) < 2 && Math.abs(deny.height - ok.height) < 2).toBe(true);
    expect(deny!.y + deny!.height).toBeLessThanOrEqual(844);
    await screenshot(phone, 'phone-confirm', { docs: 'phone-confirm.png' });

    // The desktop shows who scanned, over the QR, as WeChat does.
    await desktop.locator('#qr-root[data-status="scanned"]').waitFor();
    await expect(desktop.locator('#scanner-name').textContent()).resolves.toBe('Lin Wei');
    await expect(desktop.locator('#qr-overlay').isVisible()).resolves.toBe(true);
    await screenshot(desktop, 'qr-page-scanned');

    await phone.click('#confirm');
    await phone.locator('#app[data-screen="result"][data-result="confirmed"]').waitFor();
    await screenshot(phone, 'phone-result-confirmed');

    await desktop.waitForURL(`${stack.demo.url}/profile`);
    await expect(desktop.locator('h1').first().textContent()).resolves.toBe('Lin Wei');
    await screenshot(desktop, 'demo-profile');
    expect([...desktopCsp, ...phoneCsp]).toEqual([]);
  });

  it('shows the denial on the desktop, then the demo site says the login was denied', async () => {
    const desktop = await desktopAtQrPage();
    const link = await decodeQrOnPage(desktop);
    const { page: phone } = await signedInPhone('Deny Person');
    await enterLinkOnPhone(phone, link);
    await desktop.locator('#qr-root[data-status="scanned"]').waitFor();
    await phone.click('#deny');
    await phone.locator('#app[data-screen="result"][data-result="denied"]').waitFor();
    await screenshot(phone, 'phone-result-denied');
    await desktop.locator('#qr-root[data-status="denied"]').waitFor();
    await expect(desktop.locator('#qr-status').textContent()).resolves.toBe('You denied this login on your phone.');
    await screenshot(desktop, 'qr-page-denied');
    await desktop.waitForURL(new RegExp(`^${stack.demo.url}/callback`));
    await expect(desktop.locator('h1').first().textContent()).resolves.toMatch(/denied/i);
    await screenshot(desktop, 'demo-denied');
  });

  it('tells a second phone that the QR was already scanned by someone else', async () => {
    const desktop = await desktopAtQrPage();
    const link = await decodeQrOnPage(desktop);
    const { page: first } = await signedInPhone('First Phone');
    await enterLinkOnPhone(first, link);
    await expect(first.locator('#app').getAttribute('data-screen')).resolves.toBe('confirm');

    const { page: second } = await signedInPhone('Second Phone');
    await enterLinkOnPhone(second, link);
    await expect(second.locator('#app').getAttribute('data-result')).resolves.toBe('already_scanned');
    await expect(second.locator('#result-title').textContent()).resolves.toBe('Already scanned by someone else');
    await screenshot(second, 'phone-result-already-scanned');
    // The desktop still shows the first scanner, untouched by the second attempt.
    await expect(desktop.locator('#scanner-name').textContent()).resolves.toBe('First Phone');
  });

  it('warns on the confirm screen when the computer is on another network than the phone', async () => {
    const desktop = await desktopAtQrPage();
    const link = await decodeQrOnPage(desktop);
    const { page: phone } = await signedInPhone('Far Away');
    // Both browsers run on this machine, so the server sees one network; the answer is altered
    // to what it says for a computer elsewhere, to check what the screen does with it.
    await phone.route('**/api/mobile/scans', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      await route.fulfill({ response, json: { ...body, requester: { ...body.requester, sameNetworkAsPhone: false } } });
    });
    await enterLinkOnPhone(phone, link);
    await expect(phone.locator('#network-warning').textContent()).resolves.toMatch(/different network/);
    await expect(phone.locator('#network-warning').getAttribute('role')).resolves.toBe('alert');
    await screenshot(phone, 'phone-confirm-network-warning');
  });
});
