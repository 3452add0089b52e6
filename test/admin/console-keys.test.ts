/**
 * The provider's keys in the web console: the same keyring as `keys:*` and /api/admin/keys,
 * through forms with the console's CSRF checks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useProvider } from '../support/harness.js';
import { until } from '../support/services.js';
import { ADMIN, adminApi, adminToken, ConsoleClient, type AdminApi } from './support.js';

type Key = { id: string; kind: string; alg: string | null; state: string };

describe('admin console: keys', () => {
  const p = useProvider('embedded', { ADMIN_BOOTSTRAP_USERNAME: ADMIN.username, ADMIN_BOOTSTRAP_PASSWORD: ADMIN.password });
  let c: ConsoleClient;
  let api: AdminApi;
  beforeAll(async () => {
    c = new ConsoleClient(p);
    await c.signIn();
    api = adminApi(p, await adminToken(p));
  });
  const keys = async () => (await api<{ keys: Key[] }>('GET', '/keys')).body.keys;
  const published = async () => ((await (await fetch(`${p.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);

  it('lists every key with its state, and rotates: a bad lead time is shown on the form, a good one publishes new keys', async () => {
    const listed = await c.page('/admin/keys');
    expect(listed.status).toBe(200);
    for (const k of await keys()) expect(listed.html).toContain(`<code>${k.id}</code>`);

    const bad = await c.post('/admin/keys/rotate', { _csrf: await c.csrf(), kind: 'cookie', lead: 'soon' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('role="alert"');
    expect(bad.html).toContain('value="soon"');
    expect(/role="alert">([^<]*)</.exec(bad.html)?.[1]).toMatch(/leadSeconds/);
    expect((await keys()).filter((k) => k.kind === 'cookie')).toHaveLength(1);

    const before = new Set((await keys()).map((k) => k.id));
    const rotated = await c.post('/admin/keys/rotate', { _csrf: await c.csrf(), kind: 'signing', lead: '600' });
    expect(rotated.status, rotated.html.slice(0, 300)).toBe(303);
    const fresh = (await keys()).filter((k) => !before.has(k.id));
    expect(fresh.map((k) => [k.kind, k.state])).toEqual([
      ['signing', 'pending'],
      ['signing', 'pending'],
    ]);
    expect((await c.page('/admin/keys')).html).toContain('Rotated: ');
  });

  it('removes a leaked key only once its id is typed: out of the JWKS at once, the pending key of its algorithm signing instead', async () => {
    const signing = (await keys()).find((k) => k.kind === 'signing' && k.state === 'active' && k.alg === 'RS256')!;
    const pending = (await keys()).find((k) => k.kind === 'signing' && k.state === 'pending' && k.alg === 'RS256')!; // the rotation before
    expect(pending).toBeDefined();
    const detail = await c.page(`/admin/keys/${signing.id}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toContain(`data-expected="${signing.id}"`);

    const unconfirmed = await c.post(`/admin/keys/${signing.id}/remove`, { _csrf: await c.csrf(), confirm: 'yes' });
    expect(unconfirmed.status).toBe(400);
    expect(await published()).toContain(signing.id);
    const noCsrf = await c.post(`/admin/keys/${signing.id}/remove`, { confirm: signing.id });
    expect(noCsrf.status).toBe(403);
    expect(await published()).toContain(signing.id);

    const removed = await c.post(`/admin/keys/${signing.id}/remove`, { _csrf: await c.csrf(), confirm: signing.id });
    expect(removed.status, removed.html.slice(0, 300)).toBe(303);
    await until('the key out of the JWKS', async () => !(await published()).includes(signing.id), 10_000);
    const now = await keys();
    expect(now.map((k) => k.id)).not.toContain(signing.id);
    expect(now.find((k) => k.id === pending.id)?.state).toBe('active');
    expect((await c.page(`/admin/keys/${signing.id}`)).status).toBe(404);
  });
});
