/**
 * How `npm run admin` reaches the admin API (API.md §5). Both transports speak the same HTTP
 * API to the same router (admin/routes.ts), so a command behaves identically either way:
 *  - socket: a running provider answers on DATA_DIR/admin.sock — use it (it holds the embedded
 *    database, and its client cache hears every change);
 *  - database: no provider here — open the database ourselves and serve the router in-process
 *    on a private socket for the duration of the command.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { pino } from 'pino';
import { createAudit } from '../accounts/audit.js';
import type { Config } from '../config.js';
import { jsonErrorHandler } from '../http/errors.js';
import { openDatabase } from '../storage/database.js';
import { createRedisStore } from '../storage/ephemeral.redis.js';
import { APPS_CHANGED, createApps } from './apps.js';
import { adminRoutes } from './routes.js';
import { adminSocketPath, answers } from './socket.js';

/** An error answer of the admin API: `{error, error_description}` with its status. */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export interface AdminConnection {
  via: 'socket' | 'database';
  /** One admin API call; `path` is below /api/admin. Throws AdminApiError on a non-2xx answer. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function connectAdmin(config: Config): Promise<AdminConnection> {
  const socketPath = adminSocketPath(config.dataDir);
  if (fs.existsSync(socketPath) && (await answers(socketPath))) {
    return { via: 'socket', request: (m, p, b) => requestOverSocket(socketPath, m, p, b), close: async () => {} };
  }
  return openDirect(config);
}

/** Must match app.ts's channel: running instances on the same Redis drop their cached client. */


async function openDirect(config: Config): Promise<AdminConnection> {
  // Log lines go to stderr so `--json` output on stdout stays parseable.
  const log = pino({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL }, pino.destination(2));
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, migrate: config.MIGRATE_ON_START });
  const store = config.REDIS_URL ? createRedisStore({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX }) : null;
  const apps = createApps(db.prisma, async (appId) => {
    await store?.publish(APPS_CHANGED, appId);
  });
  const app = express();
  app.use('/api/admin', adminRoutes({ apps, audit: createAudit(db.prisma, log) }));
  app.use(jsonErrorHandler(log));

  // A private directory (0700) holds the socket: nobody else on the machine can call it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-admin-'));
  const socketPath = path.join(dir, 'admin.sock');
  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  } catch (err) {
    await db.close();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    via: 'database',
    request: (m, p, b) => requestOverSocket(socketPath, m, p, b),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      fs.rmSync(dir, { recursive: true, force: true });
      await store?.close();
      await db.close();
    },
  };
}

function requestOverSocket<T>(socketPath: string, method: string, apiPath: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath,
        method,
        path: `/api/admin${apiPath}`,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
          } catch {
            json = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(json as T);
          reject(
            new AdminApiError(
              status,
              typeof json?.error === 'string' ? json.error : 'http_error',
              typeof json?.error_description === 'string' ? json.error_description : `The admin API answered HTTP ${status}.`,
            ),
          );
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
