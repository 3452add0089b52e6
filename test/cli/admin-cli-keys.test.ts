/**
 * `npm run admin -- keys:*` as people run it: a child process, over the running provider's
 * admin socket (embedded default), and straight to a database whose keys it cannot read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { admin, failed, json } from '../support/cli.js';
import { useProvider } from '../support/harness.js';
import { until } from '../support/services.js';

type Key = { id: string; kind: string; alg: string | null; state: string; activeAt: string; retireAt: string | null };

describe('admin CLI: keys:list, keys:rotate and keys:remove', () => {
  const p = useProvider('embedded');

  it('rotates the signing key of one algorithm with a lead time, and lists it pending beside the one still signing', async () => {
    const rotated = await admin(['keys:rotate', '--alg', 'ES256', '--lead', '600', '--json'], { DATA_DIR: p.dataDir });
    expect(rotated.code, rotated.stderr).toBe(0);
    const { created, replaced } = JSON.parse(rotated.stdout) as { created: Key[]; replaced: Key[] };
    expect(created.map((k) => [k.kind, k.alg, k.state])).toEqual([['signing', 'ES256', 'pending']]);
    expect(replaced.map((k) => k.alg)).toEqual(['ES256']);

    const listed = await admin(['keys:list'], { DATA_DIR: p.dataDir });
    expect(listed.code, listed.stderr).toBe(0);
    const line = (id: string) => listed.stdout.split('\n').find((l) => l.startsWith(id)) ?? '';
    expect(line(created[0].id)).toMatch(/signing\s+ES256\s+pending/);
    expect(line(replaced[0].id)).toMatch(/signing\s+ES256\s+active/);
    expect(listed.stdout).not.toMatch(/"d"|PRIVATE/);
  });

  it('removes a leaked signing key at once: out of the JWKS, a new key of its kind signing in its place; asks first, and knows it no more after', async () => {
    const env = { DATA_DIR: p.dataDir };
    const keys = json(await admin(['keys:list', '--json'], env)).keys as Key[];
    const leaked = keys.find((k) => k.alg === 'RS256' && k.state === 'active')!;
    failed(await admin(['keys:remove', leaked.id], env), /without confirmation: add --yes/);

    const { removed, signing } = json(await admin(['keys:remove', leaked.id, '--yes', '--json'], env)) as { removed: Key; signing: Key };
    expect(removed).toMatchObject({ id: leaked.id, state: 'retired' });
    expect(signing).toMatchObject({ kind: 'signing', alg: 'RS256', state: 'active' });
    expect(signing.id).not.toBe(leaked.id);
    const published = async () => ((await (await fetch(`${p.issuer}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    await until('the provider dropping the key', async () => !(await published()).includes(leaked.id), 10_000);
    expect(await published()).toContain(signing.id);
    expect((json(await admin(['keys:list', '--json'], env)).keys as Key[]).map((k) => k.id)).not.toContain(leaked.id);

    failed(await admin(['keys:remove', leaked.id, '--yes'], env), /No key .* is in use/);
  });

  it('refuses a lead that is not a number of seconds', async () => {
    const out = await admin(['keys:rotate', '--lead', 'soon'], { DATA_DIR: p.dataDir });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('--lead is a whole number of seconds');
  });
});

describe('admin CLI: keys:rotate where IDENTIFIER_SECRET is unknown', () => {
  it('makes no key without IDENTIFIER_SECRET (no keys.json here), and says why', async () => {
    // A fresh embedded database with no provider and no keys.json: nothing to seal keys with.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-cli-keys-'));
    try {
      const out = await admin(['keys:rotate', '--kind', 'cookie'], { DATA_DIR: dataDir });
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('IDENTIFIER_SECRET is unknown');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
