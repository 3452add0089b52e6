/**
 * The QR page over time: a QR that expires is replaced by a fresh one without a reload, the old
 * link then says "expired" on the phone, and failures show a way out instead of a dead page.
 * The provider runs with QR_TTL=3 so this takes seconds.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { decodeQrOnPage, enterLinkOnPhone, screenshot, signUpOnPhone, skipUnlessChromium, uniqueName, useBrowserStack } from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('the QR page refreshes an expired QR by itself (QR_TTL=3)', { timeout: 60_000 }, () => {
  const stack = useBrowserStack({ env: { QR_TTL: '3' } });

  async function qrPage(): Promise<Page> {
    const context = await stack.desktop();
    const page = await context.newPage();
    await page.goto(`${stack.demo.url}/login`);
    await page.locator('#qr-root[data-status="pending"]').waitFor();
    return page;
  }

  const qrIdOn = (page: Page) => page.locator('#qr-root').getAttribute('data-qr-id');
  const nextQr = (page: Page, old: string | null) =>
    page
      .waitForFunction(
        (previous) => {
          const root = document.getElementById('qr-root');
          return root?.dataset.status === 'pending' && root.dataset.qrId !== previous ? root.dataset.qrId : null;
        },
        old,
        { timeout: 15_000 },
      )
      .then((handle) => handle.jsonValue() as Promise<string>);

  it('shows a new QR with a different qrId when the old one expires, and the old link answers "expired"', async () => {
    const page = await qrPage();
    const firstId = await qrIdOn(page);
    const firstLink = await decodeQrOnPage(page);
    expect(firstLink).toBe(`${stack.provider.issuer}/q/${firstId}`);

    // Hold the refresh back a moment so the expired state can be seen (and photographed).
    await page.route('**/interaction/*/qr', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.locator('#qr-root[data-status="expired"]').waitFor({ timeout: 10_000 });
    await expect(page.locator('#overlay-text').textContent()).resolves.toBe('QR code expired');
    await screenshot(page, 'qr-page-expired');
    await page.unrouteAll({ behavior: 'wait' }); // let the held request through

    const secondId = await nextQr(page, firstId);
    expect(secondId).not.toBe(firstId);
    // The image changed too, not only the attribute: the decoder reads the new link.
    const secondLink = await decodeQrOnPage(page);
    expect(secondLink).toBe(`${stack.provider.issuer}/q/${secondId}`);
    expect(await page.locator('#qr-link').getAttribute('href')).toBe(secondLink);

    const phone = await stack.phone();
    const phonePage = await phone.newPage();
    await signUpOnPhone(phonePage, stack.provider.issuer, { username: uniqueName('x'), nickname: 'Late Scanner' });
    await enterLinkOnPhone(phonePage, firstLink);
    await expect(phonePage.locator('#app').getAttribute('data-result')).resolves.toBe('qr_expired');
    await screenshot(phonePage, 'phone-result-expired');
  });

  it('keeps rotating while nobody scans, and offers a button when fetching a new QR fails', async () => {
    const page = await qrPage();
    const a = await qrIdOn(page);
    const b = await nextQr(page, a);
    const c = await nextQr(page, b);
    expect(new Set([a, b, c]).size).toBe(3);

    await page.route('**/interaction/*/qr', (route) => route.abort('connectionfailed'));
    await page.locator('#qr-refresh:visible').waitFor({ timeout: 10_000 });
    await screenshot(page, 'qr-page-refresh-failed');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.click('#qr-refresh');
    const d = await nextQr(page, c);
    expect(d).not.toBe(c);
    await expect(page.locator('#qr-refresh').isVisible()).resolves.toBe(false);
  });

  it('says the login request is over when the browser no longer holds it, instead of spinning', async () => {
    const page = await qrPage();
    // Without the interaction cookie the provider no longer lets this browser continue.
    await page.context().clearCookies();
    await page.locator('#qr-root[data-status="gone"]').waitFor({ timeout: 15_000 });
    await expect(page.locator('#qr-status').textContent()).resolves.toMatch(/has ended/);
    await screenshot(page, 'qr-page-gone');
  });
});
