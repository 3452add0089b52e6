/**
 * /metrics with WORKERS=2 (node:cluster): whichever worker a scrape lands on, and on the
 * primary's METRICS_PORT, the answer covers both workers. Requests on separate connections are
 * spread over the workers (round robin), so a count that equals all of them shows aggregation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminTokens } from '../../provider/src/admin/tokens.js';
import { openDatabase } from '../../provider/src/storage/database.js';
import { HIGH_LIMITS } from '../hardening/support.js';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { parseSamples, total } from './prometheus.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());

/** One GET on a connection of its own (no keep-alive: each may land on another worker). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers: { connection: 'close', ...headers } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe.skipIf(skip)('/metrics with WORKERS=2', () => {
  let child: ChildProcess | undefined;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let token: string;
  let output = '';
  const prefix = `saoma-test:${nanoid(8)}:`;
  let base: string;
  let metricsUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const database = await openDatabase({ databaseUrl: db.url, dataDir: os.tmpdir(), migrate: true });
    token = (await createAdminTokens(database.prisma).create({ name: 'scraper' }, 'local', null)).token;
    await database.close();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-metrics-cluster-'));
    const [port, metricsPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    child = spawn(path.resolve('node_modules/.bin/tsx'), ['provider/src/main.ts'], {
      env: {
        ...process.env,
        ...HIGH_LIMITS,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: base,
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        LOG_LEVEL: 'info',
        WORKERS: '2',
        METRICS_PORT: String(metricsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    while ((output.match(/provider listening/g) ?? []).length < 2) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`cluster did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);
  afterAll(async () => {
    const running = child;
    if (running && running.exitCode === null) {
      const exited = new Promise<'exited'>((r) => running.once('exit', () => r('exited')));
      running.kill('SIGTERM');
      const outcome = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000))]);
      if (outcome === 'late') running.kill('SIGKILL');
    }
    await (db as typeof db | undefined)?.drop(); // unassigned if beforeAll failed, whatever the types say
    await deleteRedisPrefix(prefix).catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts the requests of both workers in every answer, on METRICS_PORT and on the main port', async () => {
    for (let i = 0; i < 20; i++) expect((await get(`${base}/healthz`)).status).toBe(200);
    const healthz = (text: string) => total(parseSamples(text), 'saoma_http_request_duration_seconds_count', { route: '/healthz' });

    const primary = await get(metricsUrl);
    expect(primary.status).toBe(200);
    expect(healthz(primary.body)).toBe(20);
    expect(total(parseSamples(primary.body), 'saoma_backend_up', { backend: 'store' })).toBe(1);

    // Four scrapes on fresh connections reach both workers; each answers for both.
    for (let i = 0; i < 4; i++) {
      const viaWorker = await get(`${base}/metrics`, { authorization: `Bearer ${token}` });
      expect(viaWorker.status, viaWorker.body).toBe(200);
      expect(healthz(viaWorker.body)).toBe(20);
    }
    expect((await get(`${base}/metrics`)).status).toBe(401);
  });
});
