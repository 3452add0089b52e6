/**
 * How `npm run admin` reaches the admin API (API.md §5). Every transport speaks the same HTTP
 * API to the same router (admin/api/routes.ts), so a command behaves identically either way:
 *  - http: SAOMA_ADMIN_URL and SAOMA_ADMIN_TOKEN are set — call a provider elsewhere over
 *    HTTP(S) with that bearer admin token;
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
import type { Config } from '../../config.js';
import { errorHandler, renderJson } from '../../http/render.js';
import { openDatabase } from '../../storage/database.js';
import { keyCipher } from '../../keys/cipher.js';
import { createKeyring } from '../../keys/keyring.js';
import { systemClock } from '../../login/clock.js';
import { configuredIdentifierSecret, configuredSigningAlgorithms } from '../../oidc/keys.js';
import { createServices } from '../../services.js';
import { createMemoryStore } from '../../storage/ephemeral.memory.js';
import { createRedisStore } from '../../storage/ephemeral.redis.js';
import { adminSocketPath, answers } from '../api/socket.js';

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
  via: 'http' | 'socket' | 'database';
  /** One admin API call; `path` is below /api/admin. Throws AdminApiError on a non-2xx answer. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

/** Where a remote provider's admin API is, for the http transport (not provider settings: CLI only). */
export interface RemoteAdmin {
  SAOMA_ADMIN_URL?: string;
  SAOMA_ADMIN_TOKEN?: string;
}

export async function connectAdmin(config: Config, remote: RemoteAdmin = {}): Promise<AdminConnection> {
  if (remote.SAOMA_ADMIN_URL || remote.SAOMA_ADMIN_TOKEN) return connectHttp(remote);
  const socketPath = adminSocketPath(config.dataDir);
  if (fs.existsSync(socketPath) && (await answers(socketPath))) {
    return { via: 'socket', request: (m, p, b) => requestOverSocket(socketPath, m, p, b), close: async () => {} };
  }
  return openDirect(config);
}

function connectHttp(remote: RemoteAdmin): AdminConnection {
  if (!remote.SAOMA_ADMIN_URL || !remote.SAOMA_ADMIN_TOKEN)
    throw new Error("SAOMA_ADMIN_URL and SAOMA_ADMIN_TOKEN go together: the provider's URL and an admin token (tokens:create).");
  let base: URL;
  try {
    base = new URL(remote.SAOMA_ADMIN_URL.replace(/\/+$/, '') + '/api/admin');
  } catch {
    throw new Error(`SAOMA_ADMIN_URL "${remote.SAOMA_ADMIN_URL}" is not a URL.`);
  }
  const token = remote.SAOMA_ADMIN_TOKEN;
  return {
    via: 'http',
    async request<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
      const res = await fetch(base.href + apiPath, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).catch((err: unknown) => {
        const e = err as Error & { cause?: { code?: string; message?: string } }; // fetch fails with a TypeError whose cause is the socket's error
        throw new Error(`Cannot reach ${base.origin} (SAOMA_ADMIN_URL): ${e.cause?.code ?? e.cause?.message ?? e.message}`, { cause: err });
      });
      return answer(res.status, await res.text()) as T;
    },
    close: async () => {},
  };
}

async function openDirect(config: Config): Promise<AdminConnection> {
  // Log lines go to stderr so `--json` output on stdout stays parseable.
  const log = pino({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL }, pino.destination(2));
  const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, migrate: config.MIGRATE_ON_START });
  // Running instances on the same Redis hear every change (apps, revocations); without Redis
  // nothing else can be running on this database, and a private memory store stands in.
  const redis = config.redis ? createRedisStore({ connection: config.redis, prefix: config.REDIS_PREFIX }) : null;
  const store = redis ?? createMemoryStore();
  // Keys are sealed with IDENTIFIER_SECRET: without it (no keys.json here) they can be listed, not made.
  const secret = configuredIdentifierSecret(config);
  const keyring = createKeyring({ prisma: db.prisma, store: redis, cipher: secret ? keyCipher(secret) : null, clock: systemClock });
  const services = await createServices({
    config,
    prisma: db.prisma,
    store,
    shared: !!redis,
    log,
    signingAlgs: configuredSigningAlgorithms(config),
    keyring,
    identifierSecret: secret,
  });
  const { administration } = services;
  const app = express();
  app.use('/api/admin', administration.api);
  app.use(errorHandler(log, renderJson));

  // A private directory (0700) holds the socket: nobody else on the machine can call it.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-admin-'));
  const socketPath = path.join(dir, 'admin.sock');
  const server = http.createServer(app);
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  } catch (err) {
    await services.close();
    await store.close();
    await db.close();
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
      await services.close();
      await store.close();
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
          try {
            resolve(answer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')) as T);
          } catch (err) {
            reject(err);
          }
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The API's answer: the JSON on 2xx, an AdminApiError with its `{error, error_description}` otherwise. */
function answer(status: number, text: string): unknown {
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  if (status >= 200 && status < 300) return json;
  throw new AdminApiError(
    status,
    typeof json?.error === 'string' ? json.error : 'http_error',
    typeof json?.error_description === 'string' ? json.error_description : `The admin API answered HTTP ${status}.`,
  );
}
