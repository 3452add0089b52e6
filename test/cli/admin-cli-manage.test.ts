/**
 * `npm run admin` for everything beyond registering apps: deletion with confirmation, secret
 * grace periods, usage, developer accounts, people's authorizations, admin tokens and admin
 * accounts — over all three transports (database, the running provider's socket, HTTP with an
 * admin token). Child processes, as people run it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, runCli } from '../../provider/src/admin/cli/main.js';
import { createAdminTokens } from '../../provider/src/admin/tokens.js';
import { admin, failed, json } from '../support/cli.js';
import { fullLogin, REDIRECT_URI, signedInPhone, siteConfig } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { createTestDatabase, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const postgresMissing = await skipUnlessPostgres();
const servicesMissing = postgresMissing || (await skipUnlessRedis());

// Each command is a fresh Node process (~2 s, more on a loaded machine): generous per-test time.
describe.skipIf(postgresMissing)('admin CLI straight to PostgreSQL (no provider running)', { timeout: 180_000 }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-cli-')) };
  });
  afterAll(async () => {
    // Unassigned if beforeAll failed, whatever the types say.
    await (db as typeof db | undefined)?.drop();
    const dataDir = (env as typeof env | undefined)?.DATA_DIR;
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('developers:create/list/show/update, apps:create --developer and apps:list --developer', async () => {
    expect(json(await admin(['developers:create', '--name', 'Acme', '--id', 'dev_acme', '--json'], env))).toMatchObject({
      id: 'dev_acme',
      name: 'Acme',
      apps: 0,
    });
    failed(await admin(['developers:create', '--name', 'Again', '--id', 'dev_acme'], env), /already exists/);
    failed(await admin(['developers:create', '--id', 'dev_x'], env), /needs --name/);
    const app = json(await admin(['apps:create', '--name', 'Acme Shop', '--redirect-uri', REDIRECT_URI, '--developer', 'dev_acme', '--json'], env));
    failed(await admin(['apps:create', '--name', 'Typo', '--redirect-uri', REDIRECT_URI, '--developer', 'dev_acmee'], env), /no developer account "dev_acmee"/);
    expect(json(await admin(['apps:list', '--developer', 'dev_acme', '--json'], env)).apps.map((a: { appId: string }) => a.appId)).toEqual([app.appId]);
    expect(json(await admin(['developers:update', 'dev_acme', '--name', 'Acme Corp', '--json'], env))).toMatchObject({ name: 'Acme Corp', apps: 1 });
    const listed = await admin(['developers:list'], env);
    expect(listed.stdout).toMatch(/dev_acme\s+1\s+Acme Corp/);
    failed(await admin(['developers:delete', 'dev_acme', '--yes'], env), /still owns 1 app/);
  });

  it('apps:create/update --client-auth and --id-token-alg; an algorithm without a key is refused', async () => {
    const app = json(await admin(['apps:create', '--name', 'Posting', '--redirect-uri', REDIRECT_URI, '--client-auth', 'client_secret_post', '--json'], env));
    expect(app).toMatchObject({ tokenEndpointAuthMethod: 'client_secret_post', idTokenSignedResponseAlg: 'RS256' });
    const shown = await admin(['apps:update', app.appId, '--id-token-alg', 'ES256'], env);
    expect(shown.stdout).toMatch(/Client auth\s+client_secret_post\nID token alg\s+ES256/);
    failed(await admin(['apps:update', app.appId, '--id-token-alg', 'ES384'], env), /no signing key for ES384/);
    failed(await admin(['apps:update', app.appId, '--client-auth', 'none'], env), /tokenEndpointAuthMethod/);
  });

  it('apps:create/update --post-logout-redirect-uri sets where /session/end may send people back; a non-https one is refused', async () => {
    const app = json(
      await admin(['apps:create', '--name', 'Logout', '--redirect-uri', REDIRECT_URI, '--post-logout-redirect-uri', 'https://site.example/bye', '--json'], env),
    );
    expect(app.postLogoutRedirectUris).toEqual(['https://site.example/bye']);
    const shown = await admin(
      ['apps:update', app.appId, '--post-logout-redirect-uri', 'https://site.example/a', '--post-logout-redirect-uri', 'https://site.example/b'],
      env,
    );
    expect(shown.stdout).toMatch(/After logout\s+https:\/\/site\.example\/a\n\s+https:\/\/site\.example\/b/);
    failed(await admin(['apps:update', app.appId, '--post-logout-redirect-uri', 'http://site.example/'], env), /must use https/);
  });

  it('apps:delete refuses without confirmation (no terminal, no --yes), deletes with --yes', async () => {
    const app = json(await admin(['apps:create', '--name', 'Doomed', '--redirect-uri', REDIRECT_URI, '--json'], env));
    failed(await admin(['apps:delete', app.appId], env), /without confirmation: add --yes/);
    expect(json(await admin(['apps:show', app.appId, '--json'], env))).toMatchObject({ name: 'Doomed' });
    const out = await admin(['apps:delete', app.appId, '--yes'], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Deleted Doomed \(sm[0-9a-f]{16}\): 0 authorization\(s\)/);
    failed(await admin(['apps:show', app.appId], env), /No app with AppID/);
    failed(await admin(['apps:delete', 'sm0000000000000000', '--yes'], env), /No app with AppID "sm0000000000000000"/);
  });

  it('apps:rotate-secret --grace keeps the old secret until a printed deadline; bad values are refused', async () => {
    const app = json(await admin(['apps:create', '--name', 'Graceful', '--redirect-uri', REDIRECT_URI, '--json'], env));
    const out = await admin(['apps:rotate-secret', app.appId, '--grace', '3600'], env);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/The previous secret keeps working until \d{4}-\d\d-\d\dT/);
    expect(json(await admin(['apps:show', app.appId, '--json'], env)).previousSecretExpiresAt).toMatch(/^\d{4}-/);
    failed(await admin(['apps:rotate-secret', app.appId, '--grace', 'soon'], env), /--grace takes whole seconds/);
    failed(await admin(['apps:rotate-secret', app.appId, '--grace', '999999'], env), /graceSeconds is at most 604800/);
    expect((await admin(['apps:rotate-secret', app.appId], env)).stdout).toMatch(/The previous secret no longer works/);
  });

  it('apps:usage and apps:audit print the counts and the trail', async () => {
    const app = json(await admin(['apps:create', '--name', 'Counted', '--redirect-uri', REDIRECT_URI, '--json'], env));
    expect(json(await admin(['apps:usage', app.appId, '--json'], env))).toMatchObject({
      appId: app.appId,
      last24h: { scanned: 0, confirmed: 0, denied: 0, expired: 0, completed: 0 },
    });
    expect((await admin(['apps:usage', app.appId], env)).stdout).toMatch(/LOGINS\s+LAST 24 H\s+LAST 30 DAYS\nscanned\s+0\s+0/);
    expect((await admin(['apps:audit', app.appId], env)).stdout).toMatch(/app\.created\s+local/);
    failed(await admin(['apps:audit', app.appId, '--limit', '0'], env), /limit/);
  });

  it('tokens:create prints the token once; tokens:list never shows it; tokens:revoke by name', async () => {
    const created = await admin(['tokens:create', '--name', 'ci'], env);
    expect(created.code).toBe(0);
    const token = /\b(sat_[A-Za-z0-9_-]{43})\b/.exec(created.stdout)?.[1];
    expect(token).toBeTruthy();
    expect(created.stdout).toMatch(/will not be shown again/);
    const listed = await admin(['tokens:list'], env);
    expect(listed.stdout).toMatch(/tok_\S+\s+active\s+never\s+never\s+ci/);
    expect(listed.stdout + JSON.stringify(json(await admin(['tokens:list', '--json'], env)))).not.toContain(token!);
    expect(json(await admin(['tokens:revoke', 'ci', '--json'], env))).toMatchObject({ name: 'ci', status: 'revoked' });
    failed(await admin(['tokens:create'], env), /needs --name/);
    failed(await admin(['tokens:revoke', 'nothing'], env), /No admin token "nothing"/);
  });

  it('admins:create takes the password from stdin (never argv needed), refuses no password and short ones', async () => {
    expect(json(await admin(['admins:create', '--username', 'Alice', '--password-stdin', '--json'], env, 'a long enough password\n'))).toMatchObject({
      username: 'alice',
      status: 'active',
    });
    failed(await admin(['admins:create', '--username', 'bob'], env), /No password given: use --password-stdin/);
    failed(await admin(['admins:create', '--username', 'bob', '--password-stdin'], env, 'short\n'), /at least 12 characters/);
    failed(await admin(['admins:create', '--username', 'alice', '--password', 'another long password'], env), /already exists/);
    expect((await admin(['admins:list'], env)).stdout).toMatch(/alice\s+active/);
    failed(await admin(['admins:disable', 'alice'], env), /only active admin/);
    expect(json(await admin(['admins:password', 'alice', '--password-stdin', '--json'], env, 'a fresh long password'))).toMatchObject({ username: 'alice' });
  });
});

describe.skipIf(servicesMissing)('admin CLI against a running provider: socket and HTTP with an admin token', { timeout: 180_000 }, () => {
  const p = useProvider('services');
  let socketEnv: Record<string, string>;
  beforeAll(() => {
    socketEnv = { DATA_DIR: p.dataDir };
  });

  it("users:list/show find a person; authorizations:revoke ends the site's tokens for them at once", async () => {
    const app = json(await admin(['apps:create', '--name', 'Revoking Site', '--redirect-uri', REDIRECT_URI, '--json'], socketEnv));
    const phone = await signedInPhone(p);
    const { tokens } = await fullLogin(p, await siteConfig(p, app.appId, app.appSecret), phone);
    const found = json(await admin(['users:list', '--search', phone.username, '--json'], socketEnv));
    expect(found.users).toEqual([expect.objectContaining({ id: phone.user.id, authorizations: 1 })]);
    expect((await admin(['users:show', phone.username], socketEnv)).stdout).toMatch(new RegExp(`${app.appId}\\s+\\S+\\s+Revoking Site`));
    const revoked = await admin(['authorizations:revoke', phone.user.id, app.appId], socketEnv);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${phone.username}'s authorization for ${app.appId}`);
    expect((await fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    failed(await admin(['authorizations:revoke', phone.user.id, app.appId], socketEnv), /no active authorization/);
    failed(await admin(['authorizations:revoke', phone.user.id], socketEnv), /takes <user> <appId>/);
  });

  it('works over HTTP with SAOMA_ADMIN_URL + SAOMA_ADMIN_TOKEN, and says so when the token is wrong', async () => {
    const { token } = await createAdminTokens(p.saoma.db.prisma).create({ name: 'remote cli' }, 'local', null);
    const remote = { DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-remote-')), SAOMA_ADMIN_URL: p.issuer, SAOMA_ADMIN_TOKEN: token };
    try {
      const created = json(await admin(['apps:create', '--name', 'Remote', '--redirect-uri', REDIRECT_URI, '--json'], remote));
      expect(json(await admin(['apps:show', created.appId, '--json'], socketEnv))).toMatchObject({ name: 'Remote' });
      const trail = json(await admin(['apps:audit', created.appId, '--json'], socketEnv));
      expect(trail.events[0].detail.actor).toBe('token:remote cli');
      failed(await admin(['apps:list'], { ...remote, SAOMA_ADMIN_TOKEN: `sat_${'x'.repeat(43)}` }), /unknown or revoked/);
      failed(await admin(['apps:list', '--json'], { ...remote, SAOMA_ADMIN_TOKEN: '' }), /SAOMA_ADMIN_URL and SAOMA_ADMIN_TOKEN go together/);
    } finally {
      fs.rmSync(remote.DATA_DIR, { recursive: true, force: true });
    }
  });
});

describe('admin CLI help', { timeout: 60_000 }, () => {
  it('--help explains every command with its usage and options, and exits 0', async () => {
    const env = { DATA_DIR: path.join(os.tmpdir(), 'saoma-cli-help-unused') };
    const global = await admin(['--help'], env);
    expect(global.code).toBe(0);
    for (const c of commands) expect(global.stdout, c.name).toContain(c.name);
    // Per command in-process (the same runner; spawning ~30 processes adds nothing).
    const help = async (name: string) => {
      let out = '';
      const code = await runCli([name, '--help'], { out: (s) => (out += s), err: (s) => (out += s) }, env);
      return { code, stdout: out };
    };
    for (const c of commands) {
      const out = await help(c.name);
      expect(out.code, c.name).toBe(0);
      expect(out.stdout, c.name).toContain(`Usage: npm run admin -- ${c.name}`);
      expect(out.stdout, c.name).toContain('--json');
    }
    expect((await help('apps:rotate-secret')).stdout).toMatch(/--grace SECONDS/);
    expect((await help('apps:delete')).stdout).toMatch(/--yes/);
    expect((await help('admins:create')).stdout).toMatch(/--password-stdin/);
  });
});
