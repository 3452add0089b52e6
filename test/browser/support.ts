/**
 * Real-browser tests: Debian's Chromium driven by playwright-core (never a downloaded browser),
 * the provider on `localhost:<port>` and the demo site on `127.0.0.1:<port>` (two origins, as a
 * real site and provider are), a desktop context and a phone context.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type LaunchOptions, type Page } from 'playwright-core';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll } from 'vitest';
import { startDemo, type RunningDemo } from '../../relying-party-demo/src/main.js';
import { startTestProvider, type StorageKind, type TestProvider } from '../support/harness.js';
import { freePort, skipOrFail } from '../support/services.js';

// jsqr is CommonJS whose typings claim an ES default export: take whichever is the function.
type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
const jsQR: JsQr = ((jsQRModule as unknown as { default?: JsQr }).default ?? jsQRModule) as unknown as JsQr;

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-artifacts/screenshots');
export const DOCS_SCREENSHOTS = path.resolve('docs/screenshots');

/** The launch arguments the project settled on for headless Chromium in containers and CI. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-gpu',
];

/**
 * For `describe.skipIf(skipUnlessChromium())`: true (skip, with a warning) when Chromium is not
 * installed; under REQUIRE_SERVICES=1 / CI a missing browser fails instead.
 */
export function skipUnlessChromium(): boolean {
  if (fs.existsSync(CHROMIUM)) return false;
  return skipOrFail('browser', `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
}

export function launchChromium(extra: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, ...extra, args: [...CHROMIUM_ARGS, ...(extra.args ?? [])] });
}

export const PHONE_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36';
export const DESKTOP_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

export function desktopContext(browser: Browser, opts: { locale?: string } = {}, extra: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent: DESKTOP_UA, locale: opts.locale ?? 'en-US', ...extra });
}

/** A phone: 390×844, touch, a mobile Chrome user agent; 2× pixels so screenshots are crisp. */
export function phoneContext(
  browser: Browser,
  opts: { locale?: string; width?: number; height?: number } = {},
  extra: BrowserContextOptions = {},
): Promise<BrowserContext> {
  return browser.newContext({
    ...extra,
    viewport: { width: opts.width ?? 390, height: opts.height ?? 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_UA,
    locale: opts.locale ?? 'en-US',
  });
}

/**
 * A provider on real PostgreSQL + Redis, an app for the demo site (its callback domain too, as
 * `npm start` seeds it, so the WeChat-style paths work), and the demo site itself.
 */
export interface Stack {
  provider: TestProvider;
  demo: RunningDemo;
  appId: string;
  appSecret: string;
  close(): Promise<void>;
}

export async function startStack(kind: StorageKind = 'services', env: Record<string, string> = {}): Promise<Stack> {
  const provider = await startTestProvider(kind, env);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const app = await provider.saoma.apps.create({
    name: 'Saoma Demo Site',
    redirectUris: [`${publicUrl}/callback`],
    callbackDomain: `127.0.0.1:${port}`,
    homepage: publicUrl,
  });
  const demo = await startDemo({ issuer: provider.issuer, clientId: app.appId, clientSecret: app.appSecret, publicUrl, port, host: '127.0.0.1' });
  return {
    provider,
    demo,
    appId: app.appId,
    appSecret: app.appSecret,
    async close() {
      await demo.close();
      await provider.close();
    },
  };
}

/** Chromium and a {@link Stack} for a describe block, and the browser contexts its tests open. */
export interface BrowserStack extends Stack {
  browser: Browser;
  /** A new {@link desktopContext}, closed after the block. */
  desktop(opts?: Parameters<typeof desktopContext>[1], extra?: BrowserContextOptions): Promise<BrowserContext>;
  /** A new {@link phoneContext}, closed after the block. */
  phone(opts?: Parameters<typeof phoneContext>[1], extra?: BrowserContextOptions): Promise<BrowserContext>;
}

/**
 * The browser tests' setup: Chromium (`launch` adds to its options) and {@link startStack} started
 * in beforeAll; the contexts the tests opened, Chromium and the stack closed in afterAll. Like
 * `useProvider`, returns a stand-in to read inside tests and hooks only.
 */
export function useBrowserStack(opts: { kind?: StorageKind; env?: Record<string, string>; launch?: LaunchOptions } = {}): BrowserStack {
  let browser: Browser | undefined;
  let stack: Stack | undefined;
  const contexts: BrowserContext[] = [];
  const keep = (context: BrowserContext) => (contexts.push(context), context);
  let current: BrowserStack | undefined;
  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(opts.launch), startStack(opts.kind, opts.env)]);
    const b = browser;
    current = {
      ...stack,
      browser: b,
      desktop: async (o, extra) => keep(await desktopContext(b, o, extra)),
      phone: async (o, extra) => keep(await phoneContext(b, o, extra)),
    };
  });
  afterAll(async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    // A beforeAll that failed leaves either unassigned.
    await browser?.close();
    await stack?.close();
    current = undefined;
  });
  return new Proxy({} as BrowserStack, {
    get(_target, prop) {
      if (!current) throw new Error(`the browser stack starts in beforeAll: read .${String(prop)} inside a test or a hook`);
      return Reflect.get(current, prop) as unknown;
    },
  });
}

/** Saves a screenshot under test-artifacts/screenshots/ (and optionally docs/screenshots/). */
export async function screenshot(page: Page, name: string, opts: { docs?: string; fullPage?: boolean } = {}): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? false, animations: 'disabled' });
  if (opts.docs) {
    fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(DOCS_SCREENSHOTS, opts.docs));
  }
  return file;
}

/**
 * Reads the QR the desktop page shows, the way a phone camera would: a screenshot of the
 * rendered `#qr-svg`, decoded by jsQR. Returns the encoded text (the `/q/:qrId` URL).
 */
export async function decodeQrOnPage(page: Page, selector = '#qr-svg'): Promise<string> {
  const png = PNG.sync.read(await page.locator(selector).screenshot({ animations: 'disabled' }));
  const padded = withQuietZone(png, 24);
  const result = jsQR(new Uint8ClampedArray(padded.data), padded.width, padded.height);
  if (!result) throw new Error(`no QR code could be decoded from ${selector}`);
  return result.data;
}

/** A white border around an image: decoders want a quiet zone wider than the SVG's 1 module. */
export function withQuietZone(src: PNG, border: number): PNG {
  const out = new PNG({ width: src.width + 2 * border, height: src.height + 2 * border });
  out.data.fill(255);
  PNG.bitblt(src, out, 0, 0, src.width, src.height, border, border);
  return out;
}

/**
 * A strict CSP on the provider's pages (the one the provider will adopt): the tests then fail
 * on any inline script, inline handler or inline style attribute the pages still contain.
 */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; connect-src 'self'; worker-src 'self' blob:; manifest-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

export async function enforceStrictCsp(context: BrowserContext, origin: string): Promise<string[]> {
  const violations: string[] = [];
  // Only our own HTML pages (the QR page and the phone app); redirects pass untouched.
  const isPage = (url: URL) => url.origin === origin && /^\/(app\/?$|q\/[^/]+$|interaction\/[^/]+$)/.test(url.pathname);
  await context.route(isPage, async (route) => {
    if (route.request().method() !== 'GET' || route.request().resourceType() !== 'document') return route.continue();
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': STRICT_CSP } });
  });
  context.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) violations.push(msg.text());
  });
  return violations;
}

/** Signs a new account up through the phone app's own screens; ends on the home screen. */
export async function signUpOnPhone(page: Page, issuer: string, who: { username: string; nickname: string; password?: string }): Promise<void> {
  await page.goto(`${issuer}/app`);
  await page.locator('#app[data-screen="signin"]').waitFor();
  await page.click('#auth-switch');
  await page.fill('#username', who.username);
  await page.fill('#nickname', who.nickname);
  await page.fill('#password', who.password ?? 'correct horse battery');
  await page.click('#auth-submit');
  await page.locator('#app[data-screen="home"]').waitFor();
}

/** Enters a login link in the phone app's paste field; ends on the confirm (or a result) screen. */
export async function enterLinkOnPhone(page: Page, link: string): Promise<void> {
  await page.fill('#payload', link);
  await page.click('#payload-submit');
  await page.locator('#app[data-screen="confirm"], #app[data-screen="result"]').waitFor();
}

export const uniqueName = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 8)}`;

/**
 * The QR inside an embedded (wxLogin.js) iframe, read the way a phone camera does: a raw CDP
 * capture of the iframe's box, decoded. Nothing runs script in the iframe: Playwright's
 * evaluations and screenshots act with a user gesture, which would let a cross-origin frame
 * navigate the top window itself and hide whether wxLogin.js does it.
 */
export async function decodeIframeQr(page: Page, selector = '#login_container iframe'): Promise<string> {
  const box = (await page.locator(selector).boundingBox())!;
  const cdp = await page.context().newCDPSession(page);
  const { data } = await cdp.send('Page.captureScreenshot', { format: 'png', clip: { ...box, scale: 1 } });
  await cdp.detach();
  const png = PNG.sync.read(Buffer.from(data, 'base64'));
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!decoded) throw new Error('no QR code found in the embedded iframe');
  return decoded.data;
}

export { freePort };
