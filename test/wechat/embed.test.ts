import { beforeAll, describe, expect, it } from 'vitest';
import type { TestProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { CALLBACK, qrconnectUrl, signedInPhone, SITE, sns, wechatApp } from './support.js';
import { useProvider } from '../support/harness.js';

const servicesMissing = (await skipUnlessPostgres()) || (await skipUnlessRedis());

interface EmbedConfig {
  token: string;
  qrId: string;
  status: string;
  selfRedirect: boolean;
  parentOrigin: string | null;
}

/**
 * The embedded QR over plain HTTP, with no cookie jar at all: the iframe of a cross-site page
 * gets no provider cookie, so nothing here may depend on one.
 */
async function openEmbed(p: TestProvider, params: Record<string, string>, headers: Record<string, string> = { 'sec-fetch-dest': 'iframe' }) {
  const res = await fetch(qrconnectUrl(p, { login_type: 'jssdk', self_redirect: 'default', parent_origin: SITE, ...params }), { headers });
  const html = await res.text();
  const config = JSON.parse(/<script type="application\/json" id="wx-config">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? 'null') as EmbedConfig | null;
  const payload = /id="wx-qr-link" href="([^"]+)"/.exec(html)?.[1] ?? '';
  return { res, html, config, payload };
}

const noRedirect = { redirect: 'manual' } as const;

describe.skipIf(servicesMissing)('the embedded QR (login_type=jssdk): a login that needs no cookie (PostgreSQL + Redis)', () => {
  const p = useProvider('services');
  let app: Awaited<ReturnType<typeof wechatApp>>;
  beforeAll(async () => {
    app = await wechatApp(p);
  });

  const embed = (params: Record<string, string> = {}, headers?: Record<string, string>) =>
    openEmbed(p, { appid: app.appId, redirect_uri: CALLBACK, state: 'ST', ...params }, headers);
  const complete = (token: string) => fetch(`${p.issuer}/connect/embed/${token}/complete`, noRedirect);

  it("renders a QR page only the app's own origins may frame, and sets no cookie", async () => {
    const { res, config, payload } = await embed();
    expect(res.status).toBe(200);
    // The app's callback domain is 127.0.0.1 (loopback: http too; no port pinned: any).
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors https://127.0.0.1 https://127.0.0.1:* http://127.0.0.1 http://127.0.0.1:*;');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(config).toMatchObject({ status: 'pending', selfRedirect: false, parentOrigin: SITE });
    expect(config!.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(payload).toBe(`${p.issuer}/q/${config!.qrId}`);
  });

  it('after the phone confirms, completes to redirect_uri?code&state; the code exchanges at /sns', async () => {
    const phone = await signedInPhone(p);
    const { config, payload } = await embed();
    expect((await phone.scan(payload)).status).toBe(200);
    expect((await phone.confirm(config!.qrId)).status).toBe(200);
    const res = await complete(config!.token);
    expect(res.status).toBe(302);
    const landed = new URL(res.headers.get('location')!);
    expect(landed.origin + landed.pathname).toBe(CALLBACK);
    expect([...landed.searchParams.keys()]).toEqual(['code', 'state']);
    expect(landed.searchParams.get('state')).toBe('ST');
    const tokens = await sns(p, 'oauth2/access_token', {
      appid: app.appId,
      secret: app.appSecret,
      code: landed.searchParams.get('code')!,
      grant_type: 'authorization_code',
    });
    expect(tokens.body).toMatchObject({ scope: 'snsapi_login', expires_in: 7200 });
    const profile = await sns(p, 'userinfo', { access_token: String(tokens.body.access_token), openid: String(tokens.body.openid) });
    expect(profile.body.nickname).toBe(phone.user.nickname);
  });

  it('makes the completion single-use: a second visit shows an error page, never a second code', async () => {
    const phone = await signedInPhone(p);
    const { config, payload } = await embed();
    await phone.scan(payload);
    await phone.confirm(config!.qrId);
    expect((await complete(config!.token)).status).toBe(302);
    const again = await complete(config!.token);
    expect(again.status).toBe(410);
    expect(again.headers.get('location')).toBeNull();
    expect(again.headers.get('content-type')).toContain('text/html');
  });

  it('refuses to complete before the phone decided, without spending the login', async () => {
    const phone = await signedInPhone(p);
    const { config, payload } = await embed();
    const early = await complete(config!.token);
    expect([early.status, early.headers.get('location')]).toEqual([409, null]);
    await phone.scan(payload);
    await phone.confirm(config!.qrId);
    expect((await complete(config!.token)).status).toBe(302);
  });

  it('sends a denial to redirect_uri?state=STATE with no code', async () => {
    const phone = await signedInPhone(p);
    const { config, payload } = await embed({ state: 'DENIED' });
    await phone.scan(payload);
    await phone.deny(config!.qrId);
    const res = await complete(config!.token);
    expect(res.headers.get('location')).toBe(`${CALLBACK}?state=DENIED`);
  });

  it('long-polls the status: at once when it differs, and wakes up when the phone scans', async () => {
    const phone = await signedInPhone(p);
    const { config, payload } = await embed();
    const status = (last: string, wait: number) =>
      fetch(`${p.issuer}/connect/embed/${config!.token}/status?last=${last}&wait=${wait}`).then(
        (r) => r.json() as Promise<{ status: string; user?: { nickname: string } }>,
      );
    expect((await status('scanned', 5)).status).toBe('pending');
    const started = Date.now();
    const waiting = status('pending', 10);
    await new Promise((r) => setTimeout(r, 200));
    await phone.scan(payload);
    const woke = await waiting;
    expect(woke.status).toBe('scanned');
    expect(woke.user?.nickname).toBe(phone.user.nickname);
    expect(Date.now() - started).toBeLessThan(5000);
    const qr = (await (await fetch(`${p.issuer}/connect/embed/${config!.token}/qr`)).json()) as { qrId: string; svg: string; payload: string };
    expect(qr.qrId).toBe(config!.qrId);
    expect(qr.svg).toContain('<svg');
  });

  it('answers an unknown embed token with 404 JSON (iframe endpoints) and an error page (completion)', async () => {
    const token = 'x'.repeat(32);
    expect((await fetch(`${p.issuer}/connect/embed/${token}/qr`)).status).toBe(404);
    expect((await fetch(`${p.issuer}/connect/embed/${token}/status`)).status).toBe(404);
    const res = await complete(token);
    expect([res.status, res.headers.get('location')]).toEqual([410, null]);
  });

  it('posts the completion only to a parent page of the app itself', async () => {
    expect((await embed({ parent_origin: 'https://evil.example' })).config!.parentOrigin).toBeNull();
    expect((await embed({ parent_origin: `${SITE}/path` })).config!.parentOrigin).toBeNull();
    expect((await embed({ parent_origin: SITE })).config!.parentOrigin).toBe(SITE);
    expect((await embed({ self_redirect: 'true' })).config!.selfRedirect).toBe(true);
  });

  it('validates like qrconnect, with an error page that still shows inside the iframe', async () => {
    const { res, html, config } = await embed({ redirect_uri: 'https://evil.example/cb' });
    expect(res.status).toBe(400);
    expect(config).toBeNull();
    expect(html).toContain('redirect_uri');
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors *');
  });

  it("applies WeChat's style and href: white text, and a stylesheet only from the app's own origins, only while framed", async () => {
    const white = await embed({ style: 'white', href: `${SITE}/wx.css` });
    expect(white.html).toContain('wx-white');
    expect(white.html).toContain(`href="${SITE}/wx.css"`);
    expect(white.res.headers.get('content-security-policy')).toContain(`style-src 'self' ${SITE};`);
    const data = await embed({ href: 'data:text/css;base64,LmltcG93ZXJCb3h7fQ==' });
    expect(data.res.headers.get('content-security-policy')).toContain("style-src 'self' data:;");
    for (const href of ['https://cdn.example/wx.css', 'javascript:alert(1)']) {
      const refused = await embed({ href });
      expect(refused.html).not.toContain(href);
      expect(refused.res.headers.get('content-security-policy')).toContain("style-src 'self';");
    }
    // Opened top-level (a link anyone can send): no stylesheet, not even the app's own.
    const topLevel = await embed({ href: 'data:text/css;base64,LmltcG93ZXJCb3h7fQ==' }, { 'sec-fetch-dest': 'document' });
    expect(topLevel.html).not.toContain('data:text/css');
    expect(topLevel.res.headers.get('content-security-policy')).toContain("img-src 'self' data:;");
  });

  it('re-checks the app when completing: a disabled app gets an error page, not a code', async () => {
    const doomed = await wechatApp(p, { name: 'Disabled mid-login' });
    const phone = await signedInPhone(p);
    const { config, payload } = await openEmbed(p, { appid: doomed.appId, redirect_uri: CALLBACK, state: 'S' });
    await phone.scan(payload);
    await phone.confirm(config!.qrId);
    await p.saoma.apps.setStatus(doomed.appId, 'disabled');
    const res = await complete(config!.token);
    expect([res.status, res.headers.get('location')]).toEqual([400, null]);
  });

  it('serves wxLogin.js: WeChat’s WxLogin constructor, pointed at this provider, loadable by other sites', async () => {
    const res = await fetch(`${p.issuer}/connect/wxLogin.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const js = await res.text();
    expect(js).toMatch(/\(window\)\.WxLogin = WxLogin/);
    expect(js).toContain(JSON.stringify(p.issuer));
  });
});
