/**
 * The demo site's WeChat-style path, as a migrating site runs it: the unmodified `wechat-oauth`
 * npm library pointed at Saoma (/connect/qrconnect, /sns/oauth2/access_token, /sns/userinfo),
 * and WeChat's embedded QR (wxLogin.js) in real Chromium. Demo on 127.0.0.1, provider on
 * localhost: two sites, as in a real deployment. Real PostgreSQL + Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeIframeQr, skipUnlessChromium, startStack, useBrowserStack, type Stack } from '../browser/support.js';
import { TestBrowser } from '../support/browser.js';
import { signedInPhone, type Phone } from '../support/flow.js';
import { closeStarted } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

const field = (html: string, id: string) => new RegExp(`id="${id}">([^<]*)<`).exec(html)?.[1];
const noStackTrace = (html: string) => expect(html).not.toMatch(/\n\s+at |Error:.*\.ts|node_modules/);

/** `/wechat/login` in a browser: the demo's redirect (built by wechat-oauth), then the provider's QR page. */
async function startAtDemo(s: Stack, browser = new TestBrowser()) {
  const first = await browser.fetch(`${s.demo.url}/wechat/login`);
  expect(first.status).toBe(302);
  const authorize = new URL(first.headers.get('location')!);
  const state = authorize.searchParams.get('state')!;
  const { url, res } = await browser.navigate(authorize);
  expect(res?.status).toBe(200);
  const uid = /\/interaction\/([^/?#]+)$/.exec(url.pathname)?.[1];
  expect(url.origin).toBe(s.provider.issuer);
  expect(uid).toBeTruthy();
  return { browser, authorize, state, uid: uid! };
}

/** The phone decides, the browser goes to /complete and stops at the demo's callback URL. */
async function decideOnPhone(s: Stack, login: { browser: TestBrowser; uid: string }, phone: Phone, decision: 'confirm' | 'deny') {
  const qr = (await (await login.browser.fetch(`${s.provider.issuer}/interaction/${login.uid}/qr`)).json()) as { qrId: string; payload: string };
  expect((await phone.scan(qr.payload)).status).toBe(200);
  expect((await (decision === 'confirm' ? phone.confirm(qr.qrId) : phone.deny(qr.qrId))).status).toBe(200);
  const { url } = await login.browser.navigate(`${s.provider.issuer}/interaction/${login.uid}/complete`, (u) =>
    u.href.startsWith(`${s.demo.url}/wechat/callback`),
  );
  return url;
}

/** Follow the callback into the demo; returns where the browser ends up and the page. */
async function land(browser: TestBrowser, url: URL | string) {
  const done = await browser.navigate(url);
  return { url: done.url, status: done.res?.status, html: done.res ? await done.res.text() : '' };
}

/** The same person's openid/unionid at this app, read independently through /sns/userinfo. */
async function snsUserinfo(s: Stack, phone: Phone) {
  const login = await startAtDemo(s);
  const callback = await decideOnPhone(s, login, phone, 'confirm');
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  const token = (await (
    await fetch(
      `${s.provider.issuer}/sns/oauth2/access_token?${q({ appid: s.appId, secret: s.appSecret, code: callback.searchParams.get('code')!, grant_type: 'authorization_code' })}`,
    )
  ).json()) as { access_token: string; openid: string };
  return (await (await fetch(`${s.provider.issuer}/sns/userinfo?${q({ access_token: token.access_token, openid: token.openid })}`)).json()) as {
    openid: string;
    unionid: string;
    nickname: string;
  };
}

describe.skipIf(servicesMissing)('the demo site logs people in the WeChat way, through the wechat-oauth library (PostgreSQL + Redis)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await closeStarted(s);
  });

  it('offers both WeChat-style entries on the home page', async () => {
    const html = await (await fetch(s.demo.url)).text();
    expect(html).toContain('href="/wechat/login">WeChat-style login (wechat-oauth)</a>');
    expect(html).toContain('href="/wechat/embedded">Embedded QR (wxLogin.js)</a>');
    expect(html).toMatch(/Log in with Saoma/);
  });

  it('/wechat/login → QR page → phone approves → /wechat/callback → a profile with the /sns/userinfo openid and nickname', async () => {
    const phone = await signedInPhone(s.provider);
    const login = await startAtDemo(s);
    // What wechat-oauth built, with only the host rewritten: WeChat's exact URL shape.
    expect(`${login.authorize.origin}${login.authorize.pathname}`).toBe(`${s.provider.issuer}/connect/qrconnect`);
    expect(login.authorize.hash).toBe('#wechat_redirect');
    expect(Object.fromEntries(login.authorize.searchParams)).toEqual({
      appid: s.appId,
      redirect_uri: `${s.demo.url}/wechat/callback`,
      response_type: 'code',
      scope: 'snsapi_login',
      state: login.state,
    });
    expect(login.state).toMatch(/^[\w-]{20,}$/);

    const callback = await decideOnPhone(s, login, phone, 'confirm');
    expect([...callback.searchParams.keys()]).toEqual(['code', 'state']);
    expect(callback.searchParams.get('state')).toBe(login.state);
    const page = await land(login.browser, callback);
    expect(page.url.href).toBe(`${s.demo.url}/wechat/profile`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('WeChat-compatible API');
    expect(page.html).toMatch(/wechat-oauth@\d+\.\d+\.\d+/);
    expect(field(page.html, 'wechat-nickname')).toBe(phone.user.nickname);

    const sns = await snsUserinfo(s, phone);
    expect(field(page.html, 'wechat-openid')).toBe(sns.openid);
    expect(field(page.html, 'wechat-unionid')).toBe(sns.unionid);
    expect(sns.nickname).toBe(phone.user.nickname);
    // The raw /sns/userinfo answer is shown, WeChat's fields included.
    expect(page.html).toContain('&quot;sex&quot;: 0');
    expect(page.html).toContain('&quot;privilege&quot;: []');
    // Signed in for the home page, until logout.
    expect(await (await login.browser.fetch(`${s.demo.url}/`)).text()).toContain(`Welcome back, ${phone.user.nickname}`);
    await login.browser.navigate(`${s.demo.url}/logout`, () => false, { method: 'POST' });
    expect((await login.browser.fetch(`${s.demo.url}/wechat/profile`)).headers.get('location')).toBe('/');
  });

  it('a denial on the phone (callback with state and no code) lands on the friendly "denied" page', async () => {
    const phone = await signedInPhone(s.provider);
    const login = await startAtDemo(s);
    const callback = await decideOnPhone(s, login, phone, 'deny');
    expect(callback.search).toBe(`?state=${login.state}`);
    const page = await land(login.browser, callback);
    expect(page.status).toBe(403);
    expect(page.html).toContain('You cancelled / denied the login');
    expect(page.html).toContain('href="/wechat/login"');
    noStackTrace(page.html);
  });

  it('refuses a callback whose state this browser was not given, before redeeming the code; the real callback still works', async () => {
    const phone = await signedInPhone(s.provider);
    const login = await startAtDemo(s);
    const callback = await decideOnPhone(s, login, phone, 'confirm');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'attacker-state');
    const refused = await land(login.browser, forged);
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('The login could not be verified');
    noStackTrace(refused.html);

    // The code was not spent and the browser's own login is still in progress.
    const page = await land(login.browser, callback);
    expect(page.url.pathname).toBe('/wechat/profile');
    expect(field(page.html, 'wechat-nickname')).toBe(phone.user.nickname);
    // …and used up: the same callback again has no login to finish.
    const again = await land(login.browser, callback);
    expect(again.status).toBe(400);
    expect(again.html).toContain('This login has expired');
  });

  it('a callback in a browser with no WeChat login in progress gets the friendly "expired" page', async () => {
    const page = await land(new TestBrowser(), `${s.demo.url}/wechat/callback?code=forged&state=forged`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('This login has expired');
    noStackTrace(page.html);
  });

  it("a reused code shows the library's error (40163 code been used) in a friendly page", async () => {
    const phone = await signedInPhone(s.provider);
    const login = await startAtDemo(s);
    const callback = await decideOnPhone(s, login, phone, 'confirm');
    expect((await land(login.browser, callback)).url.pathname).toBe('/wechat/profile');

    // A fresh login in the same browser, answered with the first login's code.
    const next = await startAtDemo(s, login.browser);
    const page = await land(login.browser, `${s.demo.url}/wechat/callback?code=${encodeURIComponent(callback.searchParams.get('code')!)}&state=${next.state}`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('This login code was already used');
    expect(page.html).toContain('errcode 40163: code been used');
    expect(page.html).toContain('href="/wechat/login"');
    noStackTrace(page.html);
  });

  it("a missing (empty) code shows the library's error (41008 missing code) in a friendly page", async () => {
    const login = await startAtDemo(s);
    const page = await land(login.browser, `${s.demo.url}/wechat/callback?code=&state=${login.state}`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('errcode 41008: missing code');
    noStackTrace(page.html);
  });

  it('serves the embedded QR page with no inline script: wxLogin.js from the provider, the WxLogin call from the demo', async () => {
    const res = await fetch(`${s.demo.url}/wechat/embedded`);
    const csp = res.headers.get('content-security-policy')!;
    const scriptSrc = /script-src ([^;]*)/.exec(csp)![1];
    expect(scriptSrc.split(' ').sort()).toEqual([`'self'`, s.provider.issuer].sort());
    expect(csp).toContain(`frame-src ${s.provider.issuer}`);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => /src="([^"]+)"/.exec(m[1])?.[1])).toEqual([`${s.provider.issuer}/connect/wxLogin.js`, '/wechat/embedded.js']);
    expect(scripts.every((m) => m[2].trim() === '')).toBe(true);
    expect(html).toContain(`data-appid="${s.appId}"`);
    expect(html).toContain(`data-redirect-uri="${s.demo.url}/wechat/callback"`);
    const js = await fetch(`${s.demo.url}/wechat/embedded.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).toContain('new w.WxLogin(');
  });
});

describe.skipIf(servicesMissing || skipUnlessChromium())("the demo site's embedded QR (wxLogin.js) in Chromium, across sites (PostgreSQL + Redis)", () => {
  const s = useBrowserStack();

  it("after the phone confirms, the top window lands on the demo's /wechat/callback and the profile shows the person", async () => {
    const phone = await signedInPhone(s.provider);
    const context = await s.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => /Content Security Policy/i.test(m.text()) && cspViolations.push(m.text()));
    const frameHtml = page.waitForResponse((r) => r.url().startsWith(`${s.provider.issuer}/connect/qrconnect?`)).then((r) => r.text());
    const polling = page.waitForRequest((r) => /\/connect\/embed\/[^/]+\/status/.test(r.url()));
    const navigations: string[] = [];
    page.on('request', (r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && navigations.push(r.url()));

    await page.goto(`${s.demo.url}/wechat/embedded`);
    await polling; // the iframe's script is live
    await page.locator('#login_container[data-wx-ready="true"] iframe').waitFor();

    const payload = await decodeIframeQr(page);
    expect(payload.startsWith(`${s.provider.issuer}/q/`)).toBe(true);
    // The same link the iframe offers under "Can't scan?" (read off the wire, not in the frame).
    expect(/id="wx-qr-link" href="([^"]+)"/.exec(await frameHtml)?.[1]).toBe(payload);

    const { qrId } = (await (await phone.scan(payload)).json()) as { qrId: string };
    await phone.confirm(qrId);
    await page.waitForURL(`${s.demo.url}/wechat/profile`, { timeout: 15_000 });

    // Top-level (each redirect hop is a request): embedded page → provider's /complete → the demo's callback → the profile.
    expect(navigations.some((u) => u.startsWith(`${s.provider.issuer}/connect/embed/`) && u.includes('/complete'))).toBe(true);
    const callback = navigations.map((u) => new URL(u)).find((u) => u.pathname === '/wechat/callback');
    expect(callback?.origin).toBe(s.demo.url);
    expect([...callback!.searchParams.keys()]).toEqual(['code', 'state']);
    await expect(page.locator('#wechat-nickname').textContent()).resolves.toBe(phone.user.nickname);
    await expect(page.locator('#wechat-profile').getAttribute('data-via')).resolves.toBe('wechat');
    await expect(page.locator('body').textContent()).resolves.toContain('wxLogin.js');
    const openid = await page.locator('#wechat-openid').textContent();
    expect(openid).toBe((await snsUserinfo(s, phone)).openid);
    expect(cspViolations).toEqual([]);
    await context.close();
  });
});
