/**
 * Headers and cookies (http/security.ts wired in app.ts): a strict CSP on our pages, no framing
 * except the WeChat embed, Secure cookies behind a TLS proxy, and Origin checks on
 * state-changing browser requests. The Chromium test proves the pages really run under the CSP.
 */
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requireSameOrigin, securityHeaders, setFramedPageHeaders } from '../../provider/src/http/security.js';
import { errorHandler, renderJson } from '../../provider/src/http/render.js';
import { launchChromium, skipUnlessChromium } from '../browser/support.js';
import { authorizationUrl, beginLogin, REDIRECT_URI, registerSite } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

function csp(header: string | null): Record<string, string[]> {
  expect(header, 'Content-Security-Policy header').toBeTruthy();
  return Object.fromEntries(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...values]) => [name, values]),
  );
}

/** Every `<script>` loads a same-origin file or is a JSON data block; no handlers, no style attributes. */
function expectNoInlineCode(html: string) {
  for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) {
    const external = /\ssrc="\/[^/]/.test(tag);
    const data = /\stype="application\/json"/.test(tag);
    expect(external || data, tag).toBe(true);
  }
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/\sstyle\s*=/i);
  expect(html).not.toMatch(/javascript:/i);
}

function expectStrictPolicy(headers: Headers) {
  const policy = csp(headers.get('content-security-policy'));
  expect(policy['default-src']).toEqual(["'self'"]);
  expect(policy['script-src']).toEqual(["'self'"]);
  expect(policy['style-src']).toEqual(["'self'"]);
  expect(policy['img-src']).toEqual(["'self'", 'data:', 'https:', 'blob:']);
  expect(policy['frame-ancestors']).toEqual(["'none'"]);
  expect(policy['object-src']).toEqual(["'none'"]);
  expect(headers.get('content-security-policy')).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('same-origin');
}

describe.skipIf(skip)('security headers on our pages (PostgreSQL + Redis, http issuer)', () => {
  const p = useProvider('services');

  it('serves the QR page with a strict CSP, no framing and no inline code', async () => {
    const { config } = await registerSite(p);
    const login = await beginLogin(p, config);
    const res = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}`);
    expectStrictPolicy(res.headers);
    expectNoInlineCode(await res.text());
    // Plain http: no HSTS and no upgrade of subresources (a LAN phone may reach us over http).
    expect(res.headers.get('strict-transport-security')).toBeNull();
    expect(csp(res.headers.get('content-security-policy'))['upgrade-insecure-requests']).toBeUndefined();
    // Sites may open the login in a popup and wait on window.opener: no COOP here.
    expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
  });

  it('serves the phone app with the same CSP, isolated from other windows', async () => {
    for (const path of ['/app', '/q/AAAAAAAAAAAAAAAAAAAAAAAA']) {
      const res = await fetch(`${p.issuer}${path}`);
      expect(res.status, path).toBe(200);
      expectStrictPolicy(res.headers);
      expect(csp(res.headers.get('content-security-policy'))['worker-src']).toEqual(["'self'", 'blob:']);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expectNoInlineCode(await res.text());
    }
  });

  it('puts the headers on error pages, JSON APIs and oidc-provider responses too', async () => {
    for (const path of ['/interaction/unknown', '/api/mobile/me', '/.well-known/openid-configuration', '/auth?client_id=nope']) {
      const res = await fetch(`${p.issuer}${path}`, { redirect: 'manual' });
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(csp(res.headers.get('content-security-policy'))['frame-ancestors'], path).toEqual(["'none'"]);
      if ((res.headers.get('content-type') ?? '').includes('html')) expectNoInlineCode(await res.text());
    }
  });

  describe('the cancel button (POST /interaction/:uid/abort) checks where the request comes from', () => {
    const abort = async (headers: Record<string, string>) => {
      const { config } = await registerSite(p);
      const login = await beginLogin(p, config);
      const res = await login.browser.fetch(`${p.issuer}/interaction/${login.uid}/abort`, { method: 'POST', headers });
      return { login, res };
    };

    it('refuses a post from another site, and the login goes on', async () => {
      const { login, res } = await abort({ origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('invalid_origin');
      expect((await login.qr()).status).toBe(200);
    });

    it.each([
      ['Origin: null (sandboxed frame)', { origin: 'null' }],
      ['a sibling subdomain', { 'sec-fetch-site': 'same-site' }],
      ['a cross-site fetch', { 'sec-fetch-site': 'cross-site' }],
    ])('refuses %s', async (_name, headers) => {
      expect((await abort(headers)).res.status).toBe(403);
    });

    it('lets our own page cancel: the site hears access_denied', async () => {
      for (const headers of [{ origin: p.issuer, 'sec-fetch-site': 'same-origin' }, {}] as Record<string, string>[]) {
        const { login, res } = await abort(headers);
        expect(res.status).toBe(303);
        const { url } = await login.browser.navigate(new URL(res.headers.get('location')!, p.issuer), (u) => u.href.startsWith(REDIRECT_URI));
        expect(url.searchParams.get('error')).toBe('access_denied');
        expect(url.searchParams.get('state')).toBe(login.state);
      }
    });
  });

  describe.skipIf(skipUnlessChromium())('in Chromium', () => {
    it('runs the QR page and the phone app under the CSP without a single violation, and Cancel works', async () => {
      const { config } = await registerSite(p);
      const browser = await launchChromium();
      try {
        const context = await browser.newContext();
        const violations: string[] = [];
        await context.exposeBinding('reportViolation', (_source, text: string) => void violations.push(text));
        await context.addInitScript(() => {
          document.addEventListener('securitypolicyviolation', (e) =>
            (window as unknown as { reportViolation(t: string): void }).reportViolation(
              `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`,
            ),
          );
        });
        const page = await context.newPage();
        page.on('console', (m) => {
          if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
        });
        const { url } = await authorizationUrl(config, { state: 's' });
        const res = await page.goto(url.href);
        expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
        // The page script ran: the countdown shows minutes and seconds.
        await page.waitForFunction(() => /\d+:\d\d/.test(document.getElementById('qr-countdown')?.textContent ?? ''), undefined, { timeout: 10_000 });
        const app = await page.goto(`${p.issuer}/app`);
        expect(app?.headers()['content-security-policy']).toContain("script-src 'self'");
        await page.waitForFunction(() => (document.getElementById('app')?.children.length ?? 0) > 0 && !document.querySelector('#app noscript'), undefined, {
          timeout: 10_000,
        });
        await page.waitForTimeout(300);
        expect(violations).toEqual([]);
        // A real browser's cancel post passes the origin check (it sends our Origin, not "null").
        await page.goto(url.href);
        const landed = page.waitForRequest((r) => r.url().startsWith(REDIRECT_URI), { timeout: 10_000 });
        await page.locator('form[action$="/abort"] button').click();
        const callback = new URL((await landed).url());
        expect(callback.searchParams.get('error')).toBe('access_denied');
      } finally {
        await browser.close();
      }
    });
  });
});

describe.skipIf(skip)('cookies and transport behind a TLS-terminating proxy (TRUST_PROXY=1, https issuer)', () => {
  const p = useProvider('services', { TRUST_PROXY: '1', PUBLIC_URL: 'https://login.example.test' });

  async function authorize(headers: Record<string, string>) {
    const app = await p.saoma.apps.create({ name: 'TLS Site', redirectUris: [REDIRECT_URI] });
    const url = new URL(`${p.url}/auth`);
    url.search = new URLSearchParams({
      client_id: app.appId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    return fetch(url, { headers: { host: 'login.example.test', ...headers }, redirect: 'manual' });
  }

  it('marks the interaction cookies Secure when the proxy says the request came over https', async () => {
    const res = await authorize({ 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie();
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) {
      expect(c, c).toMatch(/;\s*secure/i);
      expect(c, c).toMatch(/;\s*httponly/i);
      expect(c, c).toMatch(/;\s*samesite=(lax|strict|none)/i);
    }
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(csp(res.headers.get('content-security-policy'))['upgrade-insecure-requests']).toEqual([]);
  });

  it('keeps the cookies Secure with an https PUBLIC_URL even when the proxy omits X-Forwarded-Proto (decided)', async () => {
    const res = await authorize({});
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie();
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c, c).toMatch(/;\s*secure/i);
  });
});

describe('the origin check and the embed policy, on their own', () => {
  const issuer = 'https://login.example.test';
  const app = express();
  app.set('trust proxy', 1);
  app.use(securityHeaders({ issuer }));
  app.post('/form', requireSameOrigin({ issuer, strict: true }), (_req, res) => void res.json({ ok: true }));
  app.post('/api', requireSameOrigin({ issuer, allowedOrigins: ['http://192.168.1.5:3000'] }), (_req, res) => void res.json({ ok: true }));
  app.get('/connect/embed/page', (_req, res) => {
    setFramedPageHeaders(res, { issuer }, { ancestors: ['https://site.example', 'https://site.example:*'], styleSources: ['https://site.example'] });
    res.type('html').send('<p>qr</p>');
  });
  app.use(errorHandler({ error() {} } as never, renderJson));

  it('accepts the issuer origin and configured origins, refuses others with 403 invalid_origin', async () => {
    expect((await request(app).post('/form').set('Origin', issuer)).status).toBe(200);
    expect((await request(app).post('/api').set('Origin', 'http://192.168.1.5:3000')).status).toBe(200);
    const evil = await request(app).post('/form').set('Origin', 'https://login.example.test.evil.example');
    expect(evil.status).toBe(403);
    expect(evil.body).toEqual({ error: 'invalid_origin', error_description: expect.any(String) });
    expect((await request(app).post('/form').set('Origin', 'http://login.example.test')).status).toBe(403); // scheme matters
  });

  it('in strict mode (cookie-authenticated forms) refuses a request that proves no origin at all', async () => {
    expect((await request(app).post('/form')).status).toBe(403);
    expect((await request(app).post('/form').set('Sec-Fetch-Site', 'same-origin')).status).toBe(200);
    expect((await request(app).post('/api')).status).toBe(200); // lenient: a non-browser client
  });

  it("lets only the app's own origins frame the WeChat embed page, with no image or font from elsewhere, and nothing else", async () => {
    const embed = await request(app).get('/connect/embed/page');
    const policy = csp(embed.headers['content-security-policy']);
    expect(policy['frame-ancestors']).toEqual(['https://site.example', 'https://site.example:*']);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['style-src']).toEqual(["'self'", 'https://site.example']);
    expect(policy['img-src']).toEqual(["'self'", 'data:']);
    expect(policy['font-src']).toEqual(["'self'"]);
    expect(policy['connect-src']).toEqual(["'self'"]);
    expect(embed.headers['x-frame-options']).toBeUndefined();
    expect(embed.headers['cross-origin-resource-policy']).toBe('cross-origin');
    const other = await request(app).post('/form').set('Origin', issuer);
    expect(other.headers['x-frame-options']).toBe('DENY');
    expect(other.headers['cross-origin-resource-policy']).toBe('same-origin');
  });
});
