/**
 * The web console over HTTP (no browser): bootstrap admin, sign-in and its rate limit, the
 * session cookie, CSRF (Origin check + synchronizer token), the secret shown once, delete
 * confirmation, sign-out and disabled admins. Sessions live in Redis here.
 */
import { describe, expect, it } from 'vitest';
import { bootstrapAdmin, createAdminAccounts } from '../../provider/src/admin/admins.js';
import { fullLogin, REDIRECT_URI, signedInPhone, siteConfig } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { ADMIN, ConsoleClient } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('admin console over HTTP (PostgreSQL + Redis)', () => {
  const p = useProvider('services', { ADMIN_BOOTSTRAP_USERNAME: ADMIN.username, ADMIN_BOOTSTRAP_PASSWORD: ADMIN.password, TRUST_PROXY: '1' });

  const signedIn = async () => {
    const c = new ConsoleClient(p);
    await c.signIn();
    return c;
  };
  const appCount = () => p.saoma.db.prisma.app.count();

  describe('admin bootstrap', () => {
    it('creates the ADMIN_BOOTSTRAP_* admin on first start, and never touches admins afterwards', async () => {
      const admins = await createAdminAccounts(p.saoma.db.prisma).list();
      expect(admins.map((a) => a.username)).toEqual([ADMIN.username]);
      expect(await bootstrapAdmin(p.saoma.db.prisma, { ADMIN_BOOTSTRAP_USERNAME: 'other', ADMIN_BOOTSTRAP_PASSWORD: 'other long password' })).toBe('exists');
      expect(await bootstrapAdmin(p.saoma.db.prisma, {})).toBe('skipped');
      expect((await createAdminAccounts(p.saoma.db.prisma).list()).length).toBe(1);
      await expect(bootstrapAdmin(p.saoma.db.prisma, { ADMIN_BOOTSTRAP_USERNAME: 'half' })).rejects.toThrow(/set both or neither/);
    });
  });

  describe('signing in', () => {
    it('redirects to the sign-in page, then back to the page asked for', async () => {
      const c = new ConsoleClient(p);
      const page = await c.page('/admin/apps/new');
      expect(page.status).toBe(303);
      expect(page.location).toBe('/admin/login?next=%2Fadmin%2Fapps%2Fnew');
      const login = await c.page(page.location!);
      expect(login.status).toBe(200);
      expect(login.html).toContain('name="next" value="/admin/apps/new"');
      const out = await c.post('/admin/login', { username: ADMIN.username, password: ADMIN.password, next: '/admin/apps/new' });
      expect(out.status).toBe(303);
      expect(out.location).toBe('/admin/apps/new');
      expect((await c.page('/admin/apps/new')).status).toBe(200);
    });

    it('sets an HttpOnly, SameSite=Strict session cookie, Secure when the request came over TLS', async () => {
      const plain = await new ConsoleClient(p).signIn();
      const cookie = plain.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^saoma_admin=[A-Za-z0-9_-]{43};/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\/admin/);
      expect(cookie).not.toMatch(/Secure/);
      const res = await fetch(`${p.issuer}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://admin.example',
          'x-forwarded-proto': 'https',
          'x-forwarded-host': 'admin.example',
        },
        body: new URLSearchParams({ username: ADMIN.username, password: ADMIN.password }),
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('set-cookie')).toMatch(/; Secure/);
    });

    it('refuses a wrong password with 401 and the form again, and records the failure', async () => {
      const c = new ConsoleClient(p);
      const out = await c.post('/admin/login', { username: ADMIN.username, password: 'not the password' });
      expect(out.status).toBe(401);
      expect(out.html).toContain('Wrong username or password.');
      expect(out.headers.get('set-cookie')).toBeNull();
      expect(await p.saoma.db.prisma.auditEvent.count({ where: { type: 'admin.sign_in_failed' } })).toBeGreaterThan(0);
      expect((await c.post('/admin/login', { username: ADMIN.username })).status).toBe(400);
    });

    it('never redirects outside the console after sign-in', async () => {
      for (const next of ['//evil.example/x', 'https://evil.example', '/interaction/x', '/admin/../api']) {
        const out = await new ConsoleClient(p).post('/admin/login', { username: ADMIN.username, password: ADMIN.password, next });
        expect(out.location, next).toBe('/admin/apps');
      }
    });

    it('rate-limits wrong passwords per username: after 5 failures even the right one gets 429 with Retry-After', async () => {
      const accounts = createAdminAccounts(p.saoma.db.prisma);
      await accounts.create({ username: 'limited', password: 'limited long password' });
      const c = new ConsoleClient(p);
      for (let i = 0; i < 5; i++) expect((await c.post('/admin/login', { username: 'limited', password: `wrong ${i} password` })).status).toBe(401);
      const blocked = await c.post('/admin/login', { username: 'limited', password: 'limited long password' });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.headers.get('content-type')).toMatch(/text\/html/);
      expect(blocked.html).toMatch(/Too many/);
      // Another admin from the same address is not locked out by it.
      expect((await new ConsoleClient(p).post('/admin/login', { username: ADMIN.username, password: ADMIN.password })).status).toBe(303);
    });
  });

  describe('CSRF protection', () => {
    it('refuses a state change without the form token, with a wrong one, or from another origin; creates nothing', async () => {
      const c = await signedIn();
      const csrf = await c.csrf();
      const before = await appCount();
      const form = { name: 'Forged', redirectUris: REDIRECT_URI };
      const attempts: Array<[string, Record<string, string>, Parameters<ConsoleClient['post']>[2]]> = [
        ['no token', form, {}],
        ['a wrong token', { ...form, _csrf: `${csrf.slice(0, -2)}xx` }, {}],
        ['another origin', { ...form, _csrf: csrf }, { origin: 'https://evil.example' }],
        ['Origin: null', { ...form, _csrf: csrf }, { origin: 'null' }],
        ['a cross-site fetch', { ...form, _csrf: csrf }, { origin: null, secFetchSite: 'cross-site' }],
        ['no Origin and no Sec-Fetch-Site', { ...form, _csrf: csrf }, { origin: null }],
      ];
      for (const [what, body, opts] of attempts) {
        const out = await c.post('/admin/apps', body, opts);
        expect(out.status, what).toBe(403);
        expect(out.headers.get('content-type'), what).toMatch(/text\/html/);
      }
      expect(await appCount()).toBe(before);
      expect((await c.post('/admin/apps', { ...form, _csrf: csrf })).status).toBe(303);
      expect(await appCount()).toBe(before + 1);
    });

    it('refuses a sign-in posted from another site (login CSRF)', async () => {
      const out = await new ConsoleClient(p).post('/admin/login', { username: ADMIN.username, password: ADMIN.password }, { origin: 'https://evil.example' });
      expect(out.status).toBe(403);
      expect(out.headers.get('set-cookie')).toBeNull();
    });

    it('does not accept a console session as credentials for /api/admin', async () => {
      const c = await signedIn();
      const res = await c.browser.fetch(`${p.issuer}/api/admin/apps`);
      expect(res.status).toBe(401);
    });
  });

  describe('pages', () => {
    it('are served with a strict CSP and contain no inline script, handler or style', async () => {
      const c = await signedIn();
      const app = await p.saoma.apps.create({ name: 'Paged', redirectUris: [REDIRECT_URI] });
      const anonymous = await new ConsoleClient(p).page('/admin/login');
      expect(anonymous.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
      expect(anonymous.html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      for (const path of [
        '/admin/apps',
        '/admin/apps/new',
        `/admin/apps/${app.appId}`,
        `/admin/apps/${app.appId}/edit`,
        `/admin/apps/${app.appId}/delete`,
        '/admin/developers',
        '/admin/users',
        '/admin/tokens',
        '/admin/admins',
        '/admin/nope',
      ]) {
        const page = await c.page(path);
        expect([200, 404], path).toContain(page.status);
        expect(page.headers.get('content-security-policy'), path).toMatch(/script-src 'self'/);
        expect(page.headers.get('content-security-policy'), path).not.toMatch(/unsafe-inline/);
        expect(page.headers.get('cache-control'), path).toBe('no-store');
        expect(page.headers.get('x-frame-options'), path).toBe('DENY');
        expect(page.html, path).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
        expect(page.html, path).not.toMatch(/\son[a-z]+\s*=/i);
        expect(page.html, path).not.toMatch(/\sstyle\s*=/i);
      }
    });

    it('escapes what admins and people typed', async () => {
      const c = await signedIn();
      const app = await p.saoma.apps.create({ name: '<script>alert(1)</script>', redirectUris: [REDIRECT_URI], description: '"><img src=x>' });
      const page = await c.page(`/admin/apps/${app.appId}`);
      expect(page.html).not.toContain('<script>alert(1)</script>');
      expect(page.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(page.html).not.toContain('"><img src=x>');
    });
  });

  describe('apps in the console', () => {
    it('shows a bad form again with the rule broken and the values kept', async () => {
      const c = await signedIn();
      const out = await c.post('/admin/apps', { _csrf: await c.csrf(), name: 'Kept Name', redirectUris: 'http://example.com/cb' });
      expect(out.status).toBe(400);
      expect(out.html).toContain('must use https (http is allowed for localhost only)');
      expect(out.html).toContain('value="Kept Name"');
      expect(out.html).toContain('http://example.com/cb</textarea>');
      const nul = await c.post('/admin/apps', { _csrf: await c.csrf(), name: 'a\u0000b', redirectUris: REDIRECT_URI });
      expect(nul.status).toBe(400);
      expect(nul.html).toContain('must not contain NUL');
      expect((await c.page('/admin/apps/%00')).status).toBe(400);
    });

    it('shows the AppSecret on the page after creation only, once; the secret works', async () => {
      const c = await signedIn();
      const created = await c.post('/admin/apps', {
        _csrf: await c.csrf(),
        name: 'Once Only',
        redirectUris: `${REDIRECT_URI}\nhttps://once.example/cb`,
        homepage: '',
        developerId: 'dev_default',
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      expect(created.status).toBe(303);
      const appId = /^\/admin\/apps\/(sm[0-9a-f]{16})$/.exec(created.location!)?.[1];
      expect(appId).toBeTruthy();
      const first = await c.page(created.location!);
      const secret = /<code id="app-secret">([^<]+)<\/code>/.exec(first.html)?.[1];
      expect(secret).toBeTruthy();
      const again = await c.page(created.location!);
      expect(again.status).toBe(200);
      expect(again.html).not.toContain(secret!);
      expect(again.html).not.toContain('id="app-secret"');
      const row = await p.saoma.db.prisma.app.findUniqueOrThrow({ where: { appId: appId! } });
      expect(row.redirectUris).toEqual([REDIRECT_URI, 'https://once.example/cb']);
      expect(row.homepage).toBeNull();
      const phone = await signedInPhone(p);
      expect((await fullLogin(p, await siteConfig(p, appId!, secret!), phone)).claims.aud).toBe(appId);
    });

    it('sets the client authentication and the ID token algorithm; an app not yet pinned stays so when edited', async () => {
      const c = await signedIn();
      const app = await p.saoma.apps.create({ name: 'Old App', redirectUris: [REDIRECT_URI] });
      await p.saoma.db.prisma.app.update({ where: { appId: app.appId }, data: { tokenEndpointAuthMethod: null } });
      const form = await c.page(`/admin/apps/${app.appId}/edit`);
      expect(form.html).toContain('Not yet pinned: the first method the site uses');
      expect(form.html).toMatch(/<option value="ES256"/);
      const base = { _csrf: await c.csrf(), name: 'Old App Renamed', redirectUris: REDIRECT_URI, developerId: 'dev_default' };
      expect((await c.post(`/admin/apps/${app.appId}`, { ...base, tokenEndpointAuthMethod: '', idTokenSignedResponseAlg: 'ES256' })).status).toBe(303);
      expect(await p.saoma.apps.get(app.appId)).toMatchObject({ name: 'Old App Renamed', tokenEndpointAuthMethod: null, idTokenSignedResponseAlg: 'ES256' });
      expect(
        (
          await c.post(`/admin/apps/${app.appId}`, {
            ...base,
            _csrf: await c.csrf(),
            tokenEndpointAuthMethod: 'client_secret_post',
            idTokenSignedResponseAlg: 'RS256',
          })
        ).status,
      ).toBe(303);
      expect(await p.saoma.apps.get(app.appId)).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_post', idTokenSignedResponseAlg: 'RS256' });
      expect((await c.page(`/admin/apps/${app.appId}`)).html).toMatch(/client_secret_post[\s\S]*RS256/);
    });

    it('deletes only when the app name is typed exactly', async () => {
      const c = await signedIn();
      const app = await p.saoma.apps.create({ name: 'Delete Me', redirectUris: [REDIRECT_URI] });
      const wrong = await c.post(`/admin/apps/${app.appId}/delete`, { _csrf: await c.csrf(), confirmName: 'Delete me' });
      expect(wrong.status).toBe(400);
      expect(wrong.html).toContain('Type the app&#39;s name exactly');
      expect(await p.saoma.db.prisma.app.count({ where: { appId: app.appId } })).toBe(1);
      const right = await c.post(`/admin/apps/${app.appId}/delete`, { _csrf: await c.csrf(), confirmName: 'Delete Me' });
      expect(right.status).toBe(303);
      expect(right.location).toBe('/admin/apps');
      expect(await p.saoma.db.prisma.app.count({ where: { appId: app.appId } })).toBe(0);
      expect((await c.page('/admin/apps')).html).toContain(`Deleted Delete Me (${app.appId}).`);
    });

    it('creates an admin token shown once on the tokens page, usable on /api/admin', async () => {
      const c = await signedIn();
      const out = await c.post('/admin/tokens', { _csrf: await c.csrf(), name: 'from console' });
      expect(out.status).toBe(303);
      const token = /<code id="admin-token">(sat_[^<]+)<\/code>/.exec((await c.page('/admin/tokens')).html)?.[1];
      expect(token).toBeTruthy();
      expect((await c.page('/admin/tokens')).html).not.toContain(token!);
      expect((await fetch(`${p.issuer}/api/admin/apps`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    });
  });

  describe('sessions', () => {
    it('sign-out ends the session: the old cookie no longer works', async () => {
      const c = await signedIn();
      const cookie = c.browser.cookieHeader(new URL(`${p.issuer}/admin/apps`));
      const out = await c.post('/admin/logout', { _csrf: await c.csrf() });
      expect(out.status).toBe(303);
      expect(out.headers.get('set-cookie')).toMatch(/saoma_admin=;/);
      const replay = await fetch(`${p.issuer}/admin/apps`, { headers: { cookie }, redirect: 'manual' });
      expect(replay.status).toBe(303);
      expect(replay.headers.get('location')).toMatch(/^\/admin\/login/);
    });

    it("ends a disabled admin's open session at their next request", async () => {
      const accounts = createAdminAccounts(p.saoma.db.prisma);
      await accounts.create({ username: 'soon_disabled', password: 'soon disabled password' });
      const c = new ConsoleClient(p);
      await c.signIn({ username: 'soon_disabled', password: 'soon disabled password' });
      expect((await c.page('/admin/apps')).status).toBe(200);
      await accounts.setDisabled('soon_disabled', true);
      expect((await c.page('/admin/apps')).status).toBe(303);
      expect((await c.post('/admin/login', { username: 'soon_disabled', password: 'soon disabled password' })).status).toBe(401);
    });
  });
});
