/**
 * People and sign-in sources in the web console over HTTP (issue 14 item 4): the same
 * services as the admin API and CLI, through forms with the console's CSRF checks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertion, signingKey, signInWithAssertion } from '../identity/support.js';
import { signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { ADMIN, ConsoleClient } from './support.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('admin console: people and sign-in sources', () => {
  const p = useProvider('services', { ADMIN_BOOTSTRAP_USERNAME: ADMIN.username, ADMIN_BOOTSTRAP_PASSWORD: ADMIN.password });
  let c: ConsoleClient;
  beforeAll(async () => {
    c = new ConsoleClient(p);
    await c.signIn();
  });
  const idOf = (location: string | null) => location!.split('/').pop()!;

  it('adds a trusted sign-in source with inline keys and an SSO source whose secret never reaches a page', async () => {
    const key = await signingKey('ES256');
    const bad = await c.post('/admin/sources', {
      _csrf: await c.csrf(),
      kind: 'assertion',
      name: 'Bank',
      issuer: 'https://bank.example',
      audience: p.issuer,
      jwks: '{not json',
      algorithms: 'ES256',
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('not valid JSON');
    expect(bad.html).toContain('value="Bank"');
    const created = await c.post('/admin/sources', {
      _csrf: await c.csrf(),
      kind: 'assertion',
      id: 'bank',
      name: 'Bank',
      issuer: 'https://bank.example',
      audience: p.issuer,
      jwks: JSON.stringify({ keys: [key.publicJwk] }),
      algorithms: 'ES256',
    });
    expect(created.status, created.html.slice(0, 500)).toBe(303);
    expect(created.location).toBe('/admin/sources/bank');
    expect((await signInWithAssertion(p.issuer, 'bank', await assertion(key, { iss: 'https://bank.example', aud: p.issuer, sub: 'c-1' }))).status).toBe(200);

    const secret = 'console-secret-never-shown-9';
    const sso = await c.post('/admin/sources', {
      _csrf: await c.csrf(),
      kind: 'oidc',
      id: 'bank-sso',
      name: 'Bank SSO',
      issuer: 'https://sso.bank.example',
      clientId: 'saoma',
      clientSecret: secret,
      scopes: 'openid profile',
    });
    expect(sso.status).toBe(303);
    const page = await c.page('/admin/sources/bank-sso');
    expect(page.html).toContain(`${p.issuer}/app/sso/bank-sso/callback`);
    expect(page.html).toContain('Set (never shown)');
    expect(page.html).not.toContain(secret);
    // Saved without a secret: the secret stays.
    expect(
      (
        await c.post('/admin/sources/bank-sso', {
          _csrf: await c.csrf(),
          name: 'Bank Single Sign-On',
          issuer: 'https://sso.bank.example',
          clientId: 'saoma',
          clientSecret: '',
          scopes: 'openid profile',
        })
      ).status,
    ).toBe(303);
    expect(await p.saoma.identity.sources.show('bank-sso')).toMatchObject({ name: 'Bank Single Sign-On', hasClientSecret: true });
    const listed = await c.page('/admin/sources');
    expect(listed.html).toContain('Bank Single Sign-On');
    expect(listed.html).not.toContain(secret);
    for (const path of ['/admin/sources', '/admin/sources/bank', '/admin/sources/bank-sso']) {
      const shown = await c.page(path);
      expect(shown.html, path).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=/i);
      expect(new Set([...shown.html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1])).size, `${path}: ids are unique`).toBe(
        [...shown.html.matchAll(/\sid="([^"]+)"/g)].length,
      );
    }
    expect((await c.post('/admin/sources/bank-sso/disable', { _csrf: await c.csrf() })).status).toBe(303);
    expect((await p.saoma.identity.sources.show('bank-sso')).status).toBe('disabled');
    expect((await c.post('/admin/sources/bank-sso/delete', { _csrf: await c.csrf(), confirm: 'wrong' })).status).toBe(400);
    expect((await c.post('/admin/sources/bank-sso/delete', { _csrf: await c.csrf(), confirm: 'bank-sso' })).location).toBe('/admin/sources');
  });

  it('provisions a person, links and unlinks their identity, disables (their phone stops), enables and deletes them', async () => {
    const created = await c.post('/admin/users', { _csrf: await c.csrf(), username: 'teller_1', nickname: 'Teller One', password: '' });
    expect(created.status, created.html.slice(0, 300)).toBe(303);
    const userId = idOf(created.location);
    const again = await c.post('/admin/users', { _csrf: await c.csrf(), username: 'teller_1' });
    expect(again.status).toBe(400);
    expect(again.html).toContain('That username is already taken.');

    const linked = await c.post(`/admin/users/${userId}/identities`, { _csrf: await c.csrf(), sourceId: 'bank', subject: 'c-1' });
    expect(linked.status).toBe(400); // c-1 signed in above: it is someone already
    expect(linked.html).toContain('already linked to another person');
    expect((await c.post(`/admin/users/${userId}/identities`, { _csrf: await c.csrf(), sourceId: 'bank', subject: 'teller-1' })).status).toBe(303);
    let page = await c.page(`/admin/users/${userId}`);
    expect(page.html).toMatch(/Password: <strong>none<\/strong>/);
    expect(page.html).toContain('<code>teller-1</code>');
    const unlinkPath = /action="(\/admin\/users\/[^"]+\/identities\/[^"]+\/unlink)"/.exec(page.html)![1];
    expect((await c.post(unlinkPath, { _csrf: await c.csrf() })).status).toBe(303);
    expect((await c.page(`/admin/users/${userId}`)).html).toContain('No linked identities.');

    const phone = await signedInPhone(p);
    expect((await c.post(`/admin/users/${phone.user.id}/disable`, { _csrf: await c.csrf() })).status).toBe(303);
    expect((await phone.call('GET', '/me')).status).toBe(401);
    page = await c.page(`/admin/users/${phone.user.id}`);
    expect(page.html).toContain('1 phone session(s) ended');
    expect(page.html).toContain('<span class="badge disabled">disabled</span>');
    expect((await c.post(`/admin/users/${phone.user.id}/enable`, { _csrf: await c.csrf() })).status).toBe(303);
    expect((await c.page('/admin/users')).html).toContain('Status');

    expect((await c.post(`/admin/users/${userId}/delete`, { _csrf: await c.csrf(), confirm: 'nope' })).status).toBe(400);
    expect((await c.post(`/admin/users/${userId}/delete`, { _csrf: await c.csrf(), confirm: 'teller_1' })).location).toBe('/admin/users');
    expect((await c.page(`/admin/users/${userId}`)).status).toBe(404);
    // Without the form token nothing happens.
    expect((await c.post(`/admin/users/${phone.user.id}/disable`, {})).status).toBe(403);
  });

  it("shows a person's signed-in devices and signs out the lost one", async () => {
    const phone = await signedInPhone(p);
    let page = await c.page(`/admin/users/${phone.user.id}`);
    const signOut = /action="(\/admin\/users\/[^"]+\/devices\/[^"]+\/sign-out)"/.exec(page.html)![1];
    expect(page.html).toContain('test phone');
    expect((await c.post(signOut, {})).status).toBe(403); // no form token: nothing happens
    expect((await phone.call('GET', '/me')).status).toBe(200);
    expect((await c.post(signOut, { _csrf: await c.csrf() })).status).toBe(303);
    expect((await phone.call('GET', '/me')).status).toBe(401);
    page = await c.page(`/admin/users/${phone.user.id}`);
    expect(page.html).toContain('No device signed in.');
  });
});
