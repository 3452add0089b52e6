/**
 * DATA_DIR holds the embedded database (password hashes, grants, refresh-token hashes), keys.json
 * and the admin socket: private to the account running the provider (issue 11, item 4).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../provider/src/config.js';
import { createLogger } from '../../provider/src/log.js';
import { startProvider } from '../../provider/src/main.js';
import { freePort } from '../support/services.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Every entry under `root` whose mode lets another account in (group or other bits). */
function loose(root: string): string[] {
  const found: string[] = [];
  const visit = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o077) found.push(`${path.relative(root, p) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) fs.readdirSync(p).forEach((n) => visit(path.join(p, n)));
  };
  visit(root);
  return found;
}

async function start(dataDir: string, lines: string[]) {
  const port = await freePort();
  const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const log = createLogger(
    'warn',
    new Writable({
      write: (chunk: Buffer, _enc, done) => {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return startProvider(config, log);
}

describe('DATA_DIR on the embedded default: private to the provider’s account', () => {
  it('creates DATA_DIR and every directory in it 0700 (no other account reaches a file), and leaves every file 0600', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-perm-'));
    dirs.push(parent);
    const dataDir = path.join(parent, 'data');
    const lines: string[] = [];
    const running = await start(dataDir, lines);
    try {
      await running.saoma.apps.create({ name: 'Perm Site', redirectUris: ['http://127.0.0.1:5999/callback'] });
      expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
      expect(fs.existsSync(path.join(dataDir, 'keys.json'))).toBe(true);
      expect(fs.readdirSync(path.join(dataDir, 'pglite')).length).toBeGreaterThan(0);
      // While running: every directory is private (the guarantee: nothing below is reachable).
      expect(loose(dataDir).filter((entry) => fs.statSync(path.join(dataDir, entry.split(' ')[0])).isDirectory())).toEqual([]);
    } finally {
      await running.close();
    }
    // Stopped: every file too, the database's WAL and the files written by the login above included.
    expect(loose(dataDir)).toEqual([]);
  });

  it('tightens a DATA_DIR an older version left readable by others, and says so', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-perm-'));
    dirs.push(dataDir);
    await (await start(dataDir, [])).close();
    // As before this fix: the directory 0755, the files 0666.
    const loosen = (p: string) => {
      const st = fs.statSync(p);
      fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o666);
      if (st.isDirectory()) fs.readdirSync(p).forEach((n) => loosen(path.join(p, n)));
    };
    loosen(dataDir);
    expect(loose(dataDir).length).toBeGreaterThan(10);
    const lines: string[] = [];
    const running = await start(dataDir, lines);
    await running.close();
    expect(loose(dataDir)).toEqual([]);
    expect(lines.join('')).toMatch(/DATA_DIR was readable by other accounts/);
  });
});
