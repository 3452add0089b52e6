import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

/**
 * DATA_DIR holds what must stay private to the account running the provider: the embedded
 * database (password hashes, refresh-token hashes, grants), keys.json (signing keys, cookie keys,
 * the identifier secret) and the admin socket. So the directory is 0700 and what is in it 0600
 * (directories 0700): created that way, and tightened at start when an older version (or a copy)
 * left it readable by others — with a warning, since someone may already have read it.
 *
 * The directory's own mode is the guarantee: no other account can reach anything below a 0700
 * directory, whatever the files' modes. Files are tightened as well (at start and when the
 * embedded database closes) because PGlite's file system layer creates its files 0666 whatever
 * the umask; the umask is narrowed anyway for everything else this process creates.
 */
const LOOSE = 0o077;

/** Makes every entry under `root` private; how many it had to change. */
export function tightenDataDir(root: string, notOwned: string[] = []): number {
  let tightened = 0;
  const visit = (p: string, depth: number) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return; // removed meanwhile (a WAL segment recycled)
    }
    if (st.isSymbolicLink()) return;
    if (st.mode & LOOSE) {
      try {
        fs.chmodSync(p, st.isDirectory() ? 0o700 : 0o600);
        tightened++;
      } catch (err) {
        // Not ours to change (a volume mounted by root for a non-root process): say so, go on.
        if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
        notOwned.push(p);
      }
    }
    if (st.isDirectory() && depth < 8) for (const name of fs.readdirSync(p)) visit(path.join(p, name), depth + 1);
  };
  visit(path.resolve(root), 0);
  return tightened;
}

/** Creates DATA_DIR private, or makes an existing one private (saying so): at start, before anything is written there. */
export function ensurePrivateDataDir(dir: string, log?: Pick<Logger, 'warn'>): void {
  const root = path.resolve(dir);
  // umask() without an argument is deprecated (racy across threads): set, then add the old bits back.
  process.umask(process.umask(LOOSE) | LOOSE);
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const notOwned: string[] = [];
  const tightened = tightenDataDir(root, notOwned);
  if (tightened)
    log?.warn(
      { dataDir: root, tightened },
      'DATA_DIR was readable by other accounts; made it private (0700, files 0600): treat keys and the embedded database as possibly read',
    );
  if (notOwned.length) {
    log?.warn(
      { dataDir: root, notOwned: notOwned.slice(0, 5) },
      'DATA_DIR (or something in it) is readable by other accounts and owned by another user: cannot make it private; use a directory this account owns (e.g. DATA_DIR=<volume>/saoma)',
    );
  }
}
