/**
 * `npm run admin` as people run it: a child process, over the running provider's admin socket
 * (embedded default) or, with no provider, straight to the database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySecret } from '../../provider/src/accounts/secrets.js';
import { loadConfig } from '../../provider/src/config.js';
import { createLogger } from '../../provider/src/log.js';
import { startProvider } from '../../provider/src/main.js';
import { openDatabase } from '../../provider/src/storage/database.js';
import { admin, json } from '../support/cli.js';
import { beginLogin, finishAtSite, fullLogin, REDIRECT_URI, signedInPhone, siteConfig, type Phone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { createTestDatabase, skipUnlessPostgres } from '../support/services.js';

const postgresMissing = await skipUnlessPostgres();

/** The OAuth error code openid-client surfaced: a 401 comes as a WWW-Authenticate challenge, others as a body. */
function oauthErrorCode(err: unknown): string | undefined {
  if (err instanceof oidc.WWWAuthenticateChallengeError) return err.cause[0]?.parameters.error;
  if (err instanceof oidc.ResponseBodyError) return err.error;
  return undefined;
}

describe('admin CLI against a running provider (embedded default, through DATA_DIR/admin.sock)', () => {
  const p = useProvider('embedded');
  let phone: Phone;
  let env: Record<string, string>;
  beforeAll(async () => {
    phone = await signedInPhone(p);
    env = { DATA_DIR: p.dataDir };
  });

  it('apps:create --json prints an AppID and AppSecret a site can log people in with', async () => {
    const created = json(
      await admin(['apps:create', '--name', 'CLI Site', '--redirect-uri', REDIRECT_URI, '--homepage', 'https://cli.example', '--json'], env),
    ) as { appId: string; appSecret: string; name: string };
    expect(created.appId).toMatch(/^sm[0-9a-f]{16}$/);
    expect(created.appSecret.length).toBeGreaterThanOrEqual(32);
    const { claims, profile } = await fullLogin(p, await siteConfig(p, created.appId, created.appSecret), phone);
    expect(claims.aud).toBe(created.appId);
    expect(profile.nickname).toBe(phone.user.nickname);
  });

  it('apps:create without --json shows the secret once, with a warning that it is not shown again', async () => {
    const out = await admin(['apps:create', '--name', 'Human', '--redirect-uri', REDIRECT_URI], env);
    expect(out.code).toBe(0);
    const appId = /AppID\s+(sm[0-9a-f]{16})/.exec(out.stdout)?.[1];
    const secret = /AppSecret\s+(\S+)/.exec(out.stdout)?.[1];
    expect(appId && secret).toBeTruthy();
    expect(out.stdout).toMatch(/not be shown again/);
    // …and apps:show never shows it.
    const shown = await admin(['apps:show', appId!], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Human');
    expect(shown.stdout).not.toContain(secret!);
  });

  it('apps:rotate-secret: the old secret is refused at the token endpoint (invalid_client), the new one works', async () => {
    const created = json(await admin(['apps:create', '--name', 'Rotating', '--redirect-uri', REDIRECT_URI, '--json'], env)) as {
      appId: string;
      appSecret: string;
    };
    const oldConfig = await siteConfig(p, created.appId, created.appSecret);
    const login = await beginLogin(p, oldConfig);
    const { body } = await login.qr();
    expect((await phone.scan(body.payload)).status).toBe(200);
    expect((await phone.confirm(body.qrId)).status).toBe(200);
    const { url: callback } = await login.complete();

    const rotated = json(await admin(['apps:rotate-secret', created.appId, '--keep-tokens', '--json'], env)) as {
      appId: string;
      appSecret: string;
      tokensRevoked: boolean;
    };
    expect(rotated.appId).toBe(created.appId);
    expect(rotated.appSecret).not.toBe(created.appSecret);
    expect(rotated.tokensRevoked).toBe(false);

    const refused = await finishAtSite(oldConfig, callback, login).then(
      () => null,
      (err: unknown) => err,
    );
    expect(oauthErrorCode(refused)).toBe('invalid_client');
    // Client authentication fails before the code is looked at, so the same code still redeems.
    const { claims } = await finishAtSite(await siteConfig(p, created.appId, rotated.appSecret), callback, login);
    expect(claims.aud).toBe(created.appId);

    // Without --keep-tokens (a leaked secret): what was issued is revoked, codes included.
    const again = await beginLogin(p, await siteConfig(p, created.appId, rotated.appSecret));
    const qr = await again.qr();
    expect((await phone.scan(qr.body.payload)).status).toBe(200);
    expect((await phone.confirm(qr.body.qrId)).status).toBe(200);
    const { url: pending } = await again.complete();
    const revoking = json(await admin(['apps:rotate-secret', created.appId, '--json'], env)) as {
      appSecret: string;
      tokensRevoked: boolean;
      revokedGrants: number;
    };
    expect(revoking).toMatchObject({ tokensRevoked: true, revokedGrants: 2 });
    const stale = await finishAtSite(await siteConfig(p, created.appId, revoking.appSecret), pending, again).then(
      () => null,
      (err: unknown) => err,
    );
    expect(oauthErrorCode(stale)).toBe('invalid_grant');
  });

  it('bad input exits 1 with a clear message and creates no app', async () => {
    const before = (await p.saoma.apps.list()).length;
    const cases: [string[], RegExp][] = [
      [['apps:create', '--name', 'Bad', '--redirect-uri', 'not-a-url'], /redirect URI "not-a-url" is not an absolute URL/],
      [['apps:create', '--redirect-uri', REDIRECT_URI], /needs --name/],
      [['apps:create', '--name', 'Bad', '--redirect-uri', 'http://example.com/callback'], /must use https \(http is allowed for localhost only\)/],
      [['apps:create', '--name', 'Bad', '--redirect-uri', REDIRECT_URI, '--bogus'], /Unknown option '--bogus'/],
      [['apps:show', 'sm0000000000000000'], /No app with AppID "sm0000000000000000"/],
      [['apps:nope'], /Unknown command "apps:nope"/],
    ];
    for (const [args, message] of cases) {
      const out = await admin(args, env);
      expect(out.code, args.join(' ')).toBe(1);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    const asJson = await admin(['apps:create', '--name', 'Bad', '--redirect-uri', 'not-a-url', '--json'], env);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('not-a-url') });
    expect((await p.saoma.apps.list()).length).toBe(before);
  });

  it('apps:list --json lists every app; apps:update and apps:disable/enable change what the provider does', async () => {
    const created = json(await admin(['apps:create', '--name', 'Listed', '--redirect-uri', REDIRECT_URI, '--json'], env)) as {
      appId: string;
      appSecret: string;
    };
    const { apps } = json(await admin(['apps:list', '--json'], env)) as { apps: { appId: string; name: string; status: string }[] };
    expect(apps.map((a) => a.appId)).toContain(created.appId);
    expect(apps.find((a) => a.appId === created.appId)).toMatchObject({ name: 'Listed', status: 'active' });
    expect(JSON.stringify(apps)).not.toMatch(/secretHash|appSecret/);

    const updated = json(await admin(['apps:update', created.appId, '--name', 'Renamed', '--json'], env));
    expect(updated).toMatchObject({ appId: created.appId, name: 'Renamed' });

    const config = await siteConfig(p, created.appId, created.appSecret);
    expect(json(await admin(['apps:disable', created.appId, '--json'], env))).toMatchObject({ status: 'disabled' });
    await expect(beginLogin(p, config)).rejects.toThrow(/expected the QR page/);
    expect(json(await admin(['apps:enable', created.appId, '--json'], env))).toMatchObject({ status: 'active' });
    const { claims } = await fullLogin(p, config, phone);
    expect(claims.aud).toBe(created.appId);
  });

  it('--help explains every command, globally and per command, and exits 0', async () => {
    const global = await admin(['--help'], env);
    expect(global.code).toBe(0);
    for (const name of [
      'apps:create',
      'apps:list',
      'apps:show',
      'apps:update',
      'apps:rotate-secret',
      'apps:disable',
      'apps:enable',
      'apps:delete',
      'apps:usage',
      'apps:audit',
      'developers:create',
      'users:list',
      'authorizations:revoke',
      'tokens:create',
      'admins:create',
    ]) {
      expect(global.stdout).toContain(name);
    }
    const create = await admin(['apps:create', '--help'], env);
    expect(create.code).toBe(0);
    expect(create.stdout).toMatch(/--redirect-uri URI .*\(required\)/);
    expect(create.stdout).toContain('--json');
    const rotate = await admin(['apps:rotate-secret', '--help'], env);
    expect(rotate.stdout).toContain('apps:rotate-secret <appId>');
  });
});

describe('admin CLI with no provider running (it opens the database itself)', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-cli-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(postgresMissing)('on PostgreSQL (DATABASE_URL): creates and rotates; the stored hash matches the secret it printed', async () => {
    const db = await createTestDatabase();
    try {
      const env = { DATABASE_URL: db.url, DATA_DIR: tempDir() };
      const created = json(await admin(['apps:create', '--name', 'Direct PG', '--redirect-uri', REDIRECT_URI, '--json'], env)) as {
        appId: string;
        appSecret: string;
      };
      const { apps } = json(await admin(['apps:list', '--json'], env)) as { apps: { appId: string }[] };
      expect(apps.map((a) => a.appId)).toEqual([created.appId]);
      const rotated = json(await admin(['apps:rotate-secret', created.appId, '--json'], env)) as { appSecret: string };

      const check = await openDatabase({ databaseUrl: db.url, dataDir: env.DATA_DIR, migrate: false });
      try {
        const row = await check.prisma.app.findUniqueOrThrow({ where: { appId: created.appId } });
        expect(row.name).toBe('Direct PG');
        expect(verifySecret(rotated.appSecret, row.secretHash)).toBe(true);
        expect(verifySecret(created.appSecret, row.secretHash)).toBe(false);
        expect(await check.prisma.auditEvent.count({ where: { appId: created.appId } })).toBe(2); // created + rotated
      } finally {
        await check.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('on the embedded default: writes DATA_DIR itself, releases it, and a provider started there afterwards has the app', async () => {
    const dataDir = tempDir();
    const created = json(await admin(['apps:create', '--name', 'Before Start', '--redirect-uri', REDIRECT_URI, '--json'], { DATA_DIR: dataDir })) as {
      appId: string;
      appSecret: string;
    };
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
    const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const running = await startProvider(config, createLogger('silent'));
    try {
      expect(await running.saoma.apps.get(created.appId)).toMatchObject({ name: 'Before Start', status: 'active' });
      // And with the provider up, the same command goes through its socket instead of the (now locked) database.
      const { apps } = json(await admin(['apps:list', '--json'], { DATA_DIR: dataDir })) as { apps: { appId: string }[] };
      expect(apps.map((a) => a.appId)).toEqual([created.appId]);
    } finally {
      await running.close();
    }
    // Two CLI processes (tsx) each open and migrate PGlite: slow on a busy 2-core box.
  }, 90_000);
});
