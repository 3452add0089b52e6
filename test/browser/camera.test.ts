/**
 * The in-page camera, for real: Chromium's fake camera plays a video of the desktop's QR (made
 * from a screenshot of it), the phone app scans it with its camera pipeline, and the login
 * completes. This is the path a person on HTTPS (or localhost) uses.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { decodeQrOnPage, launchChromium, phoneContext, screenshot, signUpOnPhone, skipUnlessChromium, uniqueName, useBrowserStack } from './support.js';

const skip = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

/**
 * One 640×480 I420 frame in a Y4M file (Chromium loops it): the image, scaled up (integer factor,
 * nearest-neighbour) to at most ~60% of the frame, centred on white. Grey only: U and V stay at 128.
 */
export function pngToY4m(png: PNG, file: string, width = 640, height = 480): void {
  // Like a person framing the code inside the app's viewfinder: at most ~60% of the frame, so it
  // sits within qr-scanner's default scan region (the centred 2/3 square) with its quiet zone.
  const scale = Math.max(1, Math.floor(Math.min(width / png.width, height / png.height) * 0.6));
  const left = Math.floor((width - png.width * scale) / 2);
  const top = Math.floor((height - png.height * scale) / 2);
  const y = Buffer.alloc(width * height, 255);
  for (let row = 0; row < png.height * scale; row++) {
    for (let col = 0; col < png.width * scale; col++) {
      const i = (Math.floor(row / scale) * png.width + Math.floor(col / scale)) * 4;
      const luma = 0.299 * png.data[i] + 0.587 * png.data[i + 1] + 0.114 * png.data[i + 2];
      y[(top + row) * width + left + col] = Math.round(luma);
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  fs.writeFileSync(file, Buffer.concat([header, Buffer.from('FRAME\n'), y, chroma, chroma]));
}

describe.skipIf(skip)('scanning with the phone camera (Chromium fake camera playing the desktop QR)', { timeout: 90_000 }, () => {
  // The desktop's browser; the phone's is launched in the test with the video as its camera (closing it closes its context).
  const stack = useBrowserStack();
  let phoneBrowser: Browser | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-camera-'));

  afterAll(async () => {
    await phoneBrowser?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the QR through the camera and logs the desktop in (Chinese phone)', async () => {
    const desktopCtx = await stack.desktop();
    const desktop = await desktopCtx.newPage();
    await desktop.goto(`${stack.demo.url}/login`);
    await desktop.locator('#qr-root[data-status="pending"]').waitFor();
    const link = await decodeQrOnPage(desktop);

    // What the phone camera sees: the QR as the desktop draws it.
    const video = path.join(dir, 'qr.y4m');
    pngToY4m(PNG.sync.read(await desktop.locator('#qr-svg').screenshot()), video);
    phoneBrowser = await launchChromium({
      args: ['--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`, '--use-fake-ui-for-media-stream'],
    });
    const phone = await phoneContext(phoneBrowser, { locale: 'zh-CN' });
    await phone.grantPermissions(['camera'], { origin: stack.provider.issuer });
    const page = await phone.newPage();
    await signUpOnPhone(page, stack.provider.issuer, { username: uniqueName('cam'), nickname: '王小明' });

    await page.click('#scan-button');
    await page.locator('#app[data-screen="confirm"]').waitFor({ timeout: 20_000 });
    // The camera path ran (not the paste field), with one of the two decoders.
    expect(['camera:qr-scanner', 'camera:barcode-detector']).toContain(await page.locator('#app').getAttribute('data-via'));
    await expect(page.locator('#confirm-title').textContent()).resolves.toBe('登录 Saoma Demo Site？');
    await expect(page.locator('#confirm-scopes li').allTextContents()).resolves.toEqual(['你的身份', '昵称和头像']);
    await expect(page.locator('#requester-ua').textContent()).resolves.toBe('Linux 上的 Chrome');
    await screenshot(page, 'phone-confirm-zh');
    await desktop.locator('#qr-root[data-status="scanned"]').waitFor();
    await expect(desktop.locator('#scanner-name').textContent()).resolves.toBe('王小明');
    expect(await desktop.locator('#qr-link').getAttribute('href')).toBe(link);

    await page.click('#confirm');
    await page.locator('#app[data-result="confirmed"]').waitFor();
    await screenshot(page, 'phone-result-confirmed-zh');
    await desktop.waitForURL(`${stack.demo.url}/profile`);
    await expect(desktop.locator('h1').first().textContent()).resolves.toBe('王小明');
  });
});
