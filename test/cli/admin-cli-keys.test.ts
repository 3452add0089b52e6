/**
 * `npm run admin -- keys:*` as people run it: a child process, over the running provider's
 * admin socket (embedded default), and straight to a database whose keys it cannot read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { admin } from '../support/cli.js';
import { useProvider } from '../support/harness.js';

type Key = { id: string; kind: string; alg: string | null; state: string; activeAt: string; retireAt: string | null };

describe('admin CLI: keys:list and keys:rotate', () => {
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
