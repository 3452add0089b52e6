/**
 * `npm run admin` for people and identity sources (issue 14 item 4): users:create, disable,
 * enable, delete, link, unlink; sources:create, list, show, update, disable, enable, delete.
 * In-process (runCli) against a running provider's admin socket: the transport is the one the
 * child-process tests (admin-cli-manage.test.ts) already cover.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../provider/src/admin/cli/main.js';
import type { Prompter } from '../../provider/src/admin/cli/kit.js';
import { assertion, signingKey, signInWithAssertion } from '../identity/support.js';
import { signedInPhone } from '../support/flow.js';
import { useProvider } from '../support/harness.js';
import { skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

describe.skipIf(skip)('admin CLI: people and identity sources', () => {
  const p = useProvider('services');
  let dir: string;

  /** One CLI run: exit code, stdout, stderr; `stdin` is what a pipe would give. */
  async function cli(args: string[], stdin = '') {
    let out = '';
    let err = '';
    const prompt: Prompter = { interactive: false, secret: () => Promise.resolve(''), line: () => Promise.resolve(''), stdin: () => Promise.resolve(stdin) };
    const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s) }, { DATA_DIR: p.dataDir, LOG_LEVEL: 'warn' }, prompt);
    return { code, out, err, json: () => JSON.parse(out) };
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-cli-keys-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('registers a trusted sign-in source from a key file and an SSO source with its secret from stdin, never printing it', async () => {
    const key = await signingKey('ES256');
    const file = path.join(dir, 'jwks.json');
    fs.writeFileSync(file, JSON.stringify({ keys: [key.publicJwk] }));
    const created = await cli([
      'sources:create',
      '--kind',
      'assertion',
      '--id',
      'game',
      '--name',
      'Game Studio app',
      '--issuer',
      'https://accounts.game.example',
      '--audience',
      p.issuer,
      '--jwks-file',
      file,
      '--alg',
      'ES256',
    ]);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toMatch(/POST \/api\/mobile\/login\/assertion/);
    const person = await (
      await signInWithAssertion(
        p.issuer,
        'game',
        await assertion(key, { iss: 'https://accounts.game.example', aud: p.issuer, sub: 'player-7', name: 'Player Seven' }),
      )
    ).json();
    expect(person.user.nickname).toBe('Player Seven');

    const secret = 'cli-secret-never-printed-42';
    const sso = await cli(
      [
        'sources:create',
        '--kind',
        'oidc',
        '--id',
        'game-sso',
        '--name',
        'Game SSO',
        '--issuer',
        'https://sso.game.example',
        '--client-id',
        'saoma',
        '--client-secret-stdin',
        '--json',
      ],
      `${secret}\n`,
    );
    expect(sso.code, sso.err).toBe(0);
    expect(sso.json()).toMatchObject({ id: 'game-sso', hasClientSecret: true, redirectUri: `${p.issuer}/app/sso/game-sso/callback` });
    expect(sso.out).not.toContain(secret);
    const list = await cli(['sources:list']);
    expect(list.out).toMatch(/game\s+assertion\s+active\s+1\s+Game Studio app/);
    expect((await cli(['sources:show', 'game-sso'])).out).toMatch(/Client secret\s+set \(never shown\)/);
    expect((await cli(['sources:update', 'game-sso', '--name', 'Game Studio SSO', '--json'])).json()).toMatchObject({
      name: 'Game Studio SSO',
      hasClientSecret: true,
    });
    expect((await cli(['sources:disable', 'game-sso'])).out).toBe('Game Studio SSO (game-sso) is now disabled.');
    expect((await cli(['sources:enable', 'game-sso'])).out).toMatch(/now active/);
    const bad = await cli([
      'sources:create',
      '--kind',
      'assertion',
      '--name',
      'x',
      '--issuer',
      'i',
      '--audience',
      'a',
      '--jwks-url',
      'https://x.example/j',
      '--alg',
      'HS256',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/algorithms/);
    expect((await cli(['sources:create', '--kind', 'assertion', '--name', 'x', '--jwks-file', path.join(dir, 'missing.json')])).err).toMatch(/--jwks-file/);
    expect((await cli(['sources:delete', 'game-sso'])).err).toMatch(/add --yes/);
    expect((await cli(['sources:delete', 'game-sso', '--yes'])).out).toMatch(/Deleted Game Studio SSO/);
  });

  it('provisions a person, links their identity, shows how they sign in, disables, enables, unlinks and deletes them', async () => {
    const created = await cli(['users:create', '--username', 'player_eight', '--nickname', 'Player Eight', '--json']);
    expect(created.code, created.err).toBe(0);
    const id = created.json().id as string;
    const linked = await cli(['users:link', 'player_eight', '--source', 'game', '--subject', 'player-8']);
    expect(linked.out).toMatch(/Linked player_eight to Game Studio app as "player-8"/);
    const shown = await cli(['users:show', 'player_eight']);
    expect(shown.out).toMatch(/Sign-in\s+Game Studio app \(player-8\)/);
    expect(shown.out).toMatch(/Status\s+active/);
    const linkId = /^(idl_\S+)\s+game\s+player-8/m.exec(shown.out)?.[1];
    expect(linkId).toBeTruthy();

    const phone = await signedInPhone(p);
    expect((await cli(['users:disable', phone.username])).out).toBe(
      `${phone.username} is now disabled. 1 phone session(s) ended, 0 site authorization(s) revoked.`,
    );
    expect((await phone.call('GET', '/me')).status).toBe(401);
    expect((await cli(['users:list', '--search', phone.username])).out).toMatch(new RegExp(`${phone.username}\\s+disabled`));
    expect((await cli(['users:enable', phone.username])).out).toBe(`${phone.username} is now active.`);

    const other = await signedInPhone(p); // signed in: one device
    const deviceId = new RegExp(`^(dev_\\S+)\\s+\\S+\\s+\\S+\\s+test phone$`, 'm').exec((await cli(['users:show', other.username])).out)?.[1];
    expect(deviceId).toBeTruthy();
    expect((await cli(['users:sign-out', other.username, deviceId!])).out).toBe(
      `Signed out ${deviceId} of ${other.username}; it can no longer approve logins.`,
    );
    expect((await other.call('GET', '/me')).status).toBe(401);
    expect((await cli(['users:show', other.username])).out).toContain('No device signed in.');

    expect((await cli(['users:unlink', 'player_eight', linkId!])).out).toBe(`Unlinked ${linkId} from player_eight.`);
    expect((await cli(['users:unlink', 'player_eight', linkId!])).err).toMatch(/no such linked identity/);
    const withPassword = await cli(['users:create', '--username', 'player_nine', '--password-stdin', '--json'], 'a long enough password\n');
    expect(withPassword.json().signInMethods.password).toBe(true);
    expect((await cli(['users:delete', 'player_eight'])).err).toMatch(/add --yes/);
    expect((await cli(['users:delete', 'player_eight', '--yes'])).out).toMatch(new RegExp(`Deleted player_eight \\(${id}\\)`));
    expect((await cli(['users:show', 'player_eight'])).code).toBe(1);
    expect((await cli(['users:create', '--username', 'x'])).err).toMatch(/username/);
  });
});
