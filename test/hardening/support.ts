/**
 * Helpers for the hardening and fault tests: a provider whose log lines are captured, and a
 * keep-alive HTTP client for many cheap requests (fuzzing, races) without a socket per request.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { nanoid } from 'nanoid';
import { pino } from 'pino';
import { loadConfig } from '../../provider/src/config.js';
import { RATE_LIMIT_NAMES } from '../../provider/src/http/rate-limit.js';
import { createLogger } from '../../provider/src/log.js';
import { startProvider } from '../../provider/src/main.js';
import type { TestProvider } from '../support/harness.js';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL } from '../support/services.js';

/** A logger whose output lands in `lines` (pino's documented stream symbol, so createLogger's own redaction applies). */
export function capturingLogger(level = 'trace') {
  const lines: string[] = [];
  const log = createLogger(level);
  (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = { write: (line: string) => void lines.push(line) };
  return { log, lines };
}

/** Generous limits: every test request comes from 127.0.0.1. */
export const HIGH_LIMITS = Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, '1000000/60']));

export interface StartOptions {
  env?: Record<string, string>;
  /** Own services (fault tests): no test database is created, nothing is dropped. */
  databaseUrl?: string;
  redisUrl?: string;
  log?: ReturnType<typeof createLogger>;
}

/**
 * Like harness.startTestProvider('services'), with a logger of our choice and optionally other
 * PostgreSQL/Redis servers.
 */
export async function startProviderWith(opts: StartOptions = {}): Promise<TestProvider> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-hardening-'));
  const db = opts.databaseUrl ? null : await createTestDatabase();
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const redisPrefix = `saoma-test:${nanoid(8)}:`;
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://localhost:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    DATABASE_URL: opts.databaseUrl ?? db!.url,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: redisPrefix,
    ...HIGH_LIMITS,
    ...opts.env,
  });
  const running = await startProvider(config, opts.log ?? createLogger(config.LOG_LEVEL));
  return {
    ...running,
    issuer: config.issuer,
    kind: 'services',
    redisPrefix,
    dataDir,
    async close() {
      await running.close();
      await db?.drop();
      await deleteRedisPrefix(redisPrefix, redisUrl).catch(() => undefined);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Raw HTTP over a bounded keep-alive pool: any method, any path bytes, any header value Node
 * lets through. `timeoutMs` bounds each request (a hang is a finding, not a stuck test).
 */
export function httpClient(base: string, opts: { maxSockets?: number; timeoutMs?: number; socketPath?: string } = {}) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 32 });
  function once(method: string, pathAndQuery: string, init: RequestInit, fresh: boolean): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const target = opts.socketPath ? { socketPath: opts.socketPath } : { host: url.hostname, port: url.port };
      const req = http.request(
        { ...target, method, path: pathAndQuery, agent: fresh ? false : agent, headers: init.headers, timeout: opts.timeoutMs ?? 15_000 },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= (init.readLimit ?? 1 << 20)) chunks.push(c);
            // Streams (SSE) never end: the head and first bytes are all a test needs.
            if (init.readLimit !== undefined && size >= init.readLimit) res.destroy();
          });
          const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`timeout: ${method} ${pathAndQuery.slice(0, 200)}`), { code: 'TIMEOUT' })));
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      if (init.body !== undefined) req.write(init.body);
      req.end();
    });
  }
  async function request(method: string, pathAndQuery: string, init: RequestInit = {}): Promise<RawResponse> {
    // Big bodies on their own connection: a server may answer before reading them all and then
    // close, which would poison a pooled socket for the next request.
    const big = (init.body?.length ?? 0) > 16_000;
    try {
      return await once(method, pathAndQuery, init, big);
    } catch (err) {
      // A kept-alive socket the server closed meanwhile (Node's documented retry case).
      if ((err as { reusedSocket?: boolean }).reusedSocket) return once(method, pathAndQuery, init, true);
      throw err;
    }
  }
  return { request, close: () => agent.destroy() };
}

interface RequestInit {
  headers?: Record<string, string>;
  body?: string | Buffer;
  readLimit?: number;
}

/** Text that must never reach a client: stack frames, source paths, dependency paths. */
export const LEAK = /\bat [\w$.<>]+ \(|\bat (file:|\/)|node_modules|\/work\/|provider\/src\/|\.ts:\d+/;

/**
 * The WeChat facade, as app.ts mounts it (with its /sns quota in front). True once it answers
 * in WeChat's shape; a provider without it is a failure, not a reason to fuzz less.
 */
export async function mountWechat(p: TestProvider): Promise<boolean> {
  const probe = await fetch(`${p.issuer}/sns/auth`);
  if ((probe.headers.get('content-type') ?? '').includes('json') && 'errcode' in ((await probe.json()) as object)) return true;
  throw new Error('the WeChat facade (/sns) does not answer: app.ts must mount wechatRoutes');
}

export { freePort };
