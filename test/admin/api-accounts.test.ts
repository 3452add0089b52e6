/**
 * The admin API for developer accounts, people (users) and their authorizations, admin tokens
 * and admin accounts, over HTTP with a bearer token on PostgreSQL + Redis.
 */
import * as oidc from 'openid-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { fullLogin, REDIRECT_URI, signedInPhone, siteConfig, type Phone } from '../support/flow.js';
import { type TestProvider, useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { adminApi, adminToken, ConsoleClient, ensureAdmin, type AdminApi } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const userinfo = (p: TestProvider, token: string) => fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });

describe.skipIf(skip)('admin API: developers, users, tokens and admins (PostgreSQL + Redis)', () => {
  const p = useProvider('services');
  let api: AdminApi;
  let phone: Phone;
  beforeAll(async () => {
    api = adminApi(p, await adminToken(p, 'accounts'));
    phone = await signedInPhone(p);
  });

  const createApp = async (body: Record<string, unknown> = {}) => {
    const out = await api<{ appId: string; appSecret: string }>('POST', '/apps', { name: 'Dev App', redirectUris: [REDIRECT_URI], ...body });
    expect(out.status, JSON.stringify(out.body)).toBe(201);
    return out.body;
  };

  describe('developer accounts', () => {
    it('creates, lists, shows and renames; refuses duplicates and bad input', async () => {
      const created = await api('POST', '/developers', { id: 'dev_acme', name: 'Acme' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ id: 'dev_acme', name: 'Acme', apps: 0 });
      const generated = await api('POST', '/developers', { name: 'Generated' });
      expect(generated.body.id).toMatch(/^dev_[0-9a-f]{12}$/);
      expect((await api('POST', '/developers', { id: 'dev_acme', name: 'Again' })).body).toMatchObject({ error: 'developer_exists' });
      for (const [what, body, message] of [
        ['missing name', { id: 'dev_x' }, /name/],
        ['blank name', { name: '  ' }, /name is required/],
        ['bad id', { id: 'has space', name: 'x' }, /developer id/],
        ['short id', { id: 'ab', name: 'x' }, /developer id/],
        ['unknown field', { name: 'x', owner: 'y' }, /owner/],
      ] as const) {
        const out = await api('POST', '/developers', body);
        expect(out.status, what).toBe(400);
        expect(out.body.error_description, what).toMatch(message);
      }
      expect((await api('PATCH', '/developers/dev_acme', { name: 'Acme Corp' })).body).toMatchObject({ name: 'Acme Corp' });
      expect((await api('GET', '/developers/dev_acme')).body).toMatchObject({ id: 'dev_acme', name: 'Acme Corp' });
      expect((await api<{ developers: Array<{ id: string }> }>('GET', '/developers')).body.developers.map((d) => d.id)).toEqual(
        expect.arrayContaining(['dev_acme', generated.body.id]),
      );
      expect((await api('GET', '/developers/dev_nobody')).status).toBe(404);
    });

    it("scopes unionid: the same person gets one unionid across one account's apps and another under a second account", async () => {
      await api('POST', '/developers', { id: 'dev_one', name: 'One' });
      await api('POST', '/developers', { id: 'dev_two', name: 'Two' });
      const a = await createApp({ developerId: 'dev_one' });
      const b = await createApp({ developerId: 'dev_one' });
      const c = await createApp({ developerId: 'dev_two' });
      const profiles = [];
      for (const app of [a, b, c]) profiles.push((await fullLogin(p, await siteConfig(p, app.appId, app.appSecret), phone)).profile);
      expect(profiles[0].unionid).toBeTruthy();
      expect(profiles[0].unionid).toBe(profiles[1].unionid);
      expect(profiles[2].unionid).not.toBe(profiles[0].unionid);
      expect(profiles[0].sub).not.toBe(profiles[1].sub); // openid stays per app
      expect((await api<{ apps: Array<{ appId: string }> }>('GET', '/apps?developerId=dev_one')).body.apps.map((x) => x.appId).sort()).toEqual(
        [a.appId, b.appId].sort(),
      );
    });

    it('deletes only an account without apps; moving an app needs an existing account', async () => {
      await api('POST', '/developers', { id: 'dev_busy', name: 'Busy' });
      const app = await createApp({ developerId: 'dev_busy' });
      const refused = await api('DELETE', '/developers/dev_busy');
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ error: 'developer_has_apps' });
      expect((await api('PATCH', `/apps/${app.appId}`, { developerId: 'dev_ghost' })).body.error_description).toMatch(/no developer account "dev_ghost"/);
      await api('POST', '/developers', { id: 'dev_new_home', name: 'New home' });
      expect((await api('PATCH', `/apps/${app.appId}`, { developerId: 'dev_new_home' })).body).toMatchObject({ developerId: 'dev_new_home' });
      expect((await api('DELETE', '/developers/dev_busy')).body).toMatchObject({ id: 'dev_busy', deleted: true });
      expect((await api('GET', '/developers/dev_busy')).status).toBe(404);
    });
  });

  describe('people and their authorizations', () => {
    it('finds people by username, nickname or id; validates the query', async () => {
      const person = await signedInPhone(p, 'findable_person');
      for (const q of ['findable', 'NICK FINDABLE', person.user.id]) {
        const out = await api<{ users: Array<{ id: string; username: string; authorizations: number }> }>('GET', `/users?q=${encodeURIComponent(q)}`);
        expect(
          out.body.users.map((u) => u.id),
          q,
        ).toEqual([person.user.id]);
      }
      expect((await api<{ users: unknown[] }>('GET', '/users?q=nobody-has-this-name')).body.users).toEqual([]);
      expect((await api<{ users: unknown[] }>('GET', '/users?limit=1')).body.users).toHaveLength(1);
      for (const bad of ['limit=0', 'limit=201', 'limit=many', `q=${'x'.repeat(101)}`]) expect((await api('GET', `/users?${bad}`)).status, bad).toBe(400);
      expect(JSON.stringify((await api('GET', '/users')).body)).not.toMatch(/passwordHash|scrypt/);
      expect((await api('GET', '/users/usr_nobody')).status).toBe(404);
    });

    it("shows a person's authorizations; revoking one ends that app's tokens for them at once", async () => {
      const person = await signedInPhone(p);
      const app = await createApp({ name: 'Revocable' });
      const config = await siteConfig(p, app.appId, app.appSecret);
      const { tokens } = await fullLogin(p, config, person);
      const shown = await api<{ authorizations: Array<{ appId: string; name: string }> }>('GET', `/users/${person.username}`);
      expect(shown.body.authorizations).toEqual([expect.objectContaining({ appId: app.appId, name: 'Revocable' })]);
      expect((await api('GET', `/apps/${app.appId}/authorizations`)).body.authorizations).toEqual([
        expect.objectContaining({ user: expect.objectContaining({ id: person.user.id }) }),
      ]);

      const revoked = await api('DELETE', `/users/${person.user.id}/authorizations/${app.appId}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ userId: person.user.id, appId: app.appId, revoked: true });
      expect((await userinfo(p, tokens.access_token)).status).toBe(401);
      await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toThrow();
      expect((await api('GET', `/users/${person.user.id}/authorizations`)).body.authorizations).toEqual([]);
      const again = await api('DELETE', `/users/${person.user.id}/authorizations/${app.appId}`);
      expect(again.status).toBe(404);
      expect(again.body.error_description).toMatch(/no active authorization/);
      const trail = await api<{ events: Array<{ type: string; detail: { actor?: string } }> }>('GET', `/users/${person.user.id}/audit`);
      expect(trail.body.events[0]).toMatchObject({ type: 'authorization.revoked', detail: { actor: 'token:accounts', by: 'admin' } });
      // The person can log in again; the site simply asks anew.
      expect((await fullLogin(p, config, person)).claims.aud).toBe(app.appId);
    });
  });

  describe('admin tokens', () => {
    it('shows a new token once (sat_…, named, by whom); lists never contain it; revocation is by id or unique name', async () => {
      const created = await api<{ id: string; token: string; name: string; createdBy: string }>('POST', '/tokens', { name: 'deploy pipeline' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'deploy pipeline',
        createdBy: 'token:accounts',
        status: 'active',
        token: expect.stringMatching(/^sat_[A-Za-z0-9_-]{43}$/),
      });
      expect((await adminApi(p, created.body.token)('GET', '/apps')).status).toBe(200);
      const row = await p.saoma.db.prisma.adminToken.findUniqueOrThrow({ where: { id: created.body.id } });
      expect(row.tokenHash).not.toContain(created.body.token);
      expect(JSON.stringify((await api('GET', '/tokens')).body)).not.toContain(created.body.token);
      expect((await api('DELETE', '/tokens/deploy%20pipeline')).body).toMatchObject({ id: created.body.id, status: 'revoked' });
      expect((await adminApi(p, created.body.token)('GET', '/apps')).status).toBe(401);
      expect((await api('POST', '/tokens', { name: '' })).status).toBe(400);
      expect((await api('POST', '/tokens', {})).status).toBe(400);
      expect((await api('DELETE', '/tokens/tok_nothing')).status).toBe(404);
    });
  });

  describe('admin accounts', () => {
    it('creates admins with scrypt-hashed passwords; refuses short passwords, bad usernames and duplicates', async () => {
      const created = await api('POST', '/admins', { username: 'Alice', password: 'a long enough password' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ username: 'alice', status: 'active' });
      const row = await p.saoma.db.prisma.adminAccount.findUniqueOrThrow({ where: { username: 'alice' } });
      expect(row.passwordHash).toMatch(/^scrypt\$/);
      expect(row.passwordHash).not.toContain('a long enough password');
      for (const [what, body, message] of [
        ['short password', { username: 'bob', password: 'short' }, /at least 12 characters/],
        ['bad username', { username: 'b b', password: 'a long enough password' }, /username may contain/],
        ['missing password', { username: 'bob' }, /password/],
      ] as const) {
        const out = await api('POST', '/admins', body);
        expect(out.status, what).toBe(400);
        expect(out.body.error_description, what).toMatch(message);
      }
      expect((await api('POST', '/admins', { username: 'ALICE', password: 'another long password' })).body).toMatchObject({ error: 'admin_exists' });
      expect(JSON.stringify((await api('GET', '/admins')).body)).not.toMatch(/passwordHash|scrypt/);
    });

    it('disables and enables admins but never the last active one', async () => {
      const only = await p.saoma.db.prisma.adminAccount.findMany({ where: { disabledAt: null } });
      for (const a of only) if (a.username !== 'alice') await api('POST', `/admins/${a.username}/disable`);
      const last = await api('POST', '/admins/alice/disable');
      expect(last.status).toBe(409);
      expect(last.body).toMatchObject({ error: 'last_admin' });
      await api('POST', '/admins', { username: 'carol', password: 'carol has a long password' });
      expect((await api('POST', '/admins/alice/disable')).body).toMatchObject({ username: 'alice', status: 'disabled' });
      expect((await api('POST', '/admins/alice/enable')).body).toMatchObject({ status: 'active' });
      expect((await api('POST', '/admins/alice/password', { password: 'short' })).status).toBe(400);
      expect((await api('POST', '/admins/alice/password', { password: 'a brand new long password' })).status).toBe(200);
      expect((await api('POST', '/admins/nobody/disable')).status).toBe(404);
    });
  });
});

describe.skipIf(skip)('admin tokens act for an admin and stop with them (issue 11, item 6)', () => {
  const p = useProvider('services');

  /** A console admin signs in and makes an API token (the token then acts for them). */
  async function tokenOfAdmin(username: string) {
    const who = { username, password: 'correct horse battery staple' };
    await ensureAdmin(p, who);
    const console = new ConsoleClient(p);
    await console.signIn(who);
    await console.post('/admin/tokens', { _csrf: await console.csrf(), name: `${username}-token` });
    const page = await console.page('/admin/tokens');
    const token = /sat_[A-Za-z0-9_-]{43}/.exec(page.html)?.[0];
    expect(token, 'the new token is shown once on the tokens page').toBeTruthy();
    return token!;
  }

  it("stops a disabled admin's tokens at once, and the tokens they made with them", async () => {
    await ensureAdmin(p, { username: 'keeper', password: 'correct horse battery staple' }); // someone stays active
    const own = adminApi(p, await tokenOfAdmin('mallory'));
    expect((await own('GET', '/apps')).status).toBe(200);
    const child = await own<{ token: string; ownerId: string }>('POST', '/tokens', { name: 'made by a token' });
    expect(child.status).toBe(201);
    const viaChild = adminApi(p, child.body.token);
    const root = adminApi(p, await adminToken(p, 'root-made'));
    expect((await root('POST', '/admins/mallory/disable')).status).toBe(200);
    expect((await own('GET', '/apps')).status).toBe(401);
    expect((await viaChild('GET', '/apps')).status).toBe(401);
    // What the disabled admin could do before must not work now: create another admin.
    expect((await viaChild('POST', '/admins', { username: 'sleeper', password: 'correct horse battery staple' })).status).toBe(401);
    expect((await root('POST', '/admins/mallory/enable')).status).toBe(200);
    expect((await own('GET', '/apps')).status).toBe(200); // enabled again: their tokens work again
  });

  it("deletes an admin's tokens with the admin", async () => {
    await ensureAdmin(p, { username: 'keeper', password: 'correct horse battery staple' });
    const own = adminApi(p, await tokenOfAdmin('leaver'));
    const root = adminApi(p, await adminToken(p, 'root-deletes'));
    expect((await root('DELETE', '/admins/leaver')).body).toMatchObject({ username: 'leaver', deleted: true });
    expect((await own('GET', '/apps')).status).toBe(401);
    expect((await root<{ tokens: Array<{ name: string }> }>('GET', '/tokens')).body.tokens.map((t) => t.name)).not.toContain('leaver-token');
  });

  it('gives a token an expiry when asked, and refuses it afterwards', async () => {
    const root = adminApi(p, await adminToken(p, 'root-expiry'));
    const made = await root<{ token: string; id: string; expiresAt: string }>('POST', '/tokens', { name: 'short-lived', expiresInSeconds: 60 });
    expect(made.status).toBe(201);
    expect(Date.parse(made.body.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const short = adminApi(p, made.body.token);
    expect((await short('GET', '/apps')).status).toBe(200);
    await p.saoma.db.prisma.adminToken.update({ where: { id: made.body.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await short('GET', '/apps')).status).toBe(401);
    expect((await root('POST', '/tokens', { name: 'too short', expiresInSeconds: 5 })).status).toBe(400);
  });
});

describe.skipIf(skip)("the console's password change (issue 11, item 13)", () => {
  const p = useProvider('services');

  it('asks for the current password, and signs out every other session of that admin', async () => {
    const who = { username: 'rotator', password: 'correct horse battery staple' };
    await ensureAdmin(p, who);
    const [here, elsewhere] = [new ConsoleClient(p), new ConsoleClient(p)];
    await here.signIn(who);
    await elsewhere.signIn(who);
    // An open session alone (someone at an unlocked screen) cannot change it.
    const wrong = await here.post('/admin/admins/password', {
      _csrf: await here.csrf(),
      currentPassword: 'not the password at all',
      password: 'a brand new long password',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('current password');
    const changed = await here.post('/admin/admins/password', {
      _csrf: await here.csrf(),
      currentPassword: who.password,
      password: 'a brand new long password',
    });
    expect(changed.status).toBe(303);
    expect((await here.page('/admin/apps')).status).toBe(200); // this browser carries on
    const other = await elsewhere.page('/admin/apps');
    expect(other.status).toBe(303);
    expect(other.location).toMatch(/^\/admin\/login/);
  });
});
