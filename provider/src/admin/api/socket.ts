import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import type { Logger } from '../../log.js';
import { errorHandler, renderJson } from '../../http/render.js';
import { ensurePrivateDataDir } from '../../storage/data-dir.js';
import type { Router } from 'express';

/**
 * The local admin socket: the running provider serves the admin API on a Unix socket in
 * DATA_DIR (mode 0600), so `npm run admin` works while the server holds the embedded
 * database (PGlite is single-process) — and on PostgreSQL the CLI uses it too, so the server's
 * client cache hears every change. Access is the filesystem's: whoever may read DATA_DIR may
 * administer, as with the database files themselves. No secret is stored for it.
 */
export const adminSocketPath = (dataDir: string) => path.join(dataDir, 'admin.sock');

export async function serveAdminSocket(dataDir: string, router: Router, log: Logger): Promise<{ close(): Promise<void> }> {
  const socketPath = adminSocketPath(dataDir);
  ensurePrivateDataDir(dataDir, log);
  if (fs.existsSync(socketPath)) {
    // Only our own leftover from a crash can be here: the database lock proves no live server owns it.
    if (await answers(socketPath)) throw new Error(`another provider is already serving ${socketPath}`);
    fs.unlinkSync(socketPath);
  }
  const app = express();
  app.use('/api/admin', router);
  app.use(errorHandler(log, renderJson));
  const server = http.createServer(app);
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  } finally {
    process.umask(previous);
  }
  fs.chmodSync(socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        fs.rmSync(socketPath, { force: true });
      }),
  };
}

/** True when a server answers on the socket. */
export function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/api/admin/apps', timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}
