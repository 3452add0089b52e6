/**
 * SIGTERM with SHUTDOWN_DELAY: readiness goes first — /readyz answers 503 "shutting down" at
 * once while the instance keeps serving everything else (liveness, logins) for the delay, so a
 * load balancer polling readiness stops sending before connections are refused; then the usual
 * drain (test/faults/shutdown.test.ts) and exit 0. The provider runs as its own process, one
 * instance on the embedded default and a WORKERS=2 cluster on PostgreSQL + Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { nanoid } from 'nanoid';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, deleteRedisPrefix, freePort, REDIS_URL, skipUnlessPostgres, skipUnlessRedis, until } from '../support/services.js';
import { cleanupsAfterEach } from '../support/harness.js';

const skipServices = (await skipUnlessPostgres()) || (await skipUnlessRedis());
// Long enough that the checks below fit inside it on a loaded machine (they take well under 1 s when idle).
const DELAY_S = 4;

/** GET on a fresh connection each time (in a cluster, each may reach another worker). */
function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (body += d))
          .on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

const cleanups = cleanupsAfterEach();

async function startChild(env: Record<string, string>) {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-drain-'));
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  let output = '';
  const child: ChildProcess = spawn(path.resolve('node_modules/.bin/tsx'), ['provider/src/main.ts'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', SHUTDOWN_DELAY: String(DELAY_S), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until(
    'the provider to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`provider exited:\n${output}`);
      return (await get(port, '/readyz')).status === 200;
    },
    60_000,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${output.slice(-2000)}`, { cause: err });
  });
  return { child, port, exited, output: () => output };
}

async function expectDrainingThenExit(run: Awaited<ReturnType<typeof startChild>>, samples: number) {
  const t0 = Date.now();
  run.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200)); // the signal is handled asynchronously
  for (let i = 0; i < samples; i++) {
    const ready = await get(run.port, '/readyz');
    expect(ready.status, ready.body).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'shutting_down', reason: 'shutting down' });
  }
  expect(Date.now() - t0, 'readiness went first, well inside the delay').toBeLessThan(DELAY_S * 1000);
  expect((await get(run.port, '/healthz')).status, 'still alive').toBe(200);
  expect((await get(run.port, '/.well-known/openid-configuration')).status, 'still serving').toBe(200);

  let refusedAfter = -1;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const answered = await get(run.port, '/healthz').then(
      () => true,
      () => false,
    );
    if (!answered) {
      refusedAfter = Date.now() - t0;
      break;
    }
  }
  expect(refusedAfter, 'the listener closes after the delay').toBeGreaterThan(0);
  expect(refusedAfter, 'not before the delay').toBeGreaterThanOrEqual(DELAY_S * 1000);
  expect(await run.exited, run.output().slice(-2000)).toBe(0);
}

describe('SIGTERM: readiness first, then the drain', () => {
  it('one instance (embedded default): /readyz 503 at once, everything else served for SHUTDOWN_DELAY, then refused; exit 0', async () => {
    const run = await startChild({});
    await expectDrainingThenExit(run, 3);
    expect(run.output()).toContain(`"delaySeconds":${DELAY_S}`);
  }, 90_000);

  it.skipIf(skipServices)(
    'WORKERS=2 (PostgreSQL + Redis): every worker answers 503 during the delay; exit 0',
    async () => {
      const db = await createTestDatabase();
      cleanups.push(() => db.drop());
      const prefix = `saoma-test:drain-${nanoid(6)}:`;
      cleanups.push(() => deleteRedisPrefix(prefix));
      const run = await startChild({ WORKERS: '2', DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: prefix });
      await until('both workers listening', () => Promise.resolve((run.output().match(/provider listening/g) ?? []).length >= 2), 60_000);
      await expectDrainingThenExit(run, 8);
    },
    120_000,
  );
});
