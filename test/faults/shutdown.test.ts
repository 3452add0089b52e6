/**
 * Graceful shutdown: the provider runs as its own process (`tsx provider/src/main.ts`), a
 * browser holds an SSE stream and a long-poll, and the process gets SIGTERM. Defined behaviour:
 * it stops accepting connections at once, answers the long-poll in flight with the current
 * status (the page simply polls again, on another instance), ends the SSE stream cleanly (the
 * EventSource reconnects by itself) and exits 0 within a few seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nanoid } from 'nanoid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApps } from '../../provider/src/apps/registry.js';
import { openDatabase } from '../../provider/src/storage/database.js';
import { TestBrowser } from '../support/browser.js';
import { createTestDatabase, REDIS_URL, skipUnlessPostgres, skipUnlessRedis } from '../support/services.js';
import { HIGH_LIMITS } from '../hardening/support.js';
import { freePort } from './servers.js';

const skip = (await skipUnlessPostgres()) || (await skipUnlessRedis());
const REDIRECT = 'http://127.0.0.1:5999/callback';

describe.skipIf(skip)('SIGTERM (the provider as a child process, shared PostgreSQL + Redis)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataDir: string;
  let app: { appId: string };
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    // The database is ready (migrated, one app) before the provider process starts.
    const database = await openDatabase({ databaseUrl: db.url, dataDir: os.tmpdir(), migrate: true });
    app = await createApps(database.prisma, { revoke: () => Promise.resolve(0) }).create({ name: 'Shutdown Site', redirectUris: [REDIRECT] });
    await database.close();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-shutdown-'));
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await (db as typeof db | undefined)?.drop(); // unassigned if beforeAll failed, whatever the types say
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function startChild() {
    const port = await freePort();
    const issuer = `http://localhost:${port}`;
    child = spawn(path.resolve('node_modules/.bin/tsx'), ['provider/src/main.ts'], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        ...HIGH_LIMITS,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: issuer,
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_PREFIX: `saoma-test:${nanoid(8)}:`,
        LOG_LEVEL: 'info',
        WORKERS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!output.includes('provider listening')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`provider did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return issuer;
  }

  it('finishes the long-poll in flight, ends the SSE stream cleanly and exits 0 within seconds', async () => {
    const issuer = await startChild();
    const browser = new TestBrowser();
    const authorize = new URL(`${issuer}/auth`);
    authorize.search = new URLSearchParams({
      client_id: app.appId,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT,
      state: 's',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const { url, res } = await browser.navigate(authorize);
    expect(res?.status, output).toBe(200);
    const base = url.href;

    const sse = await browser.fetch(`${base}/qr/events`);
    const reader = sse.body!.getReader();
    let streamed = '';
    const streamEnd = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return 'clean';
          streamed += new TextDecoder().decode(value);
        }
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    })();
    while (!streamed.includes('event: status')) await new Promise((r) => setTimeout(r, 50));
    const longPoll = browser.fetch(`${base}/qr/status?last=pending&wait=25`).then(
      async (r) => ({ status: r.status, body: await r.text() }),
      (err: unknown) => ({ status: 0, body: `error: ${(err as Error).message}` }),
    );
    await new Promise((r) => setTimeout(r, 300)); // both are waiting in the server

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    child!.kill('SIGTERM');

    const answered = await longPoll;
    const answeredAfter = Date.now() - t0;
    expect(answered.status, `long-poll: ${answered.body}`).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ status: 'pending' });
    expect(answeredAfter, 'the long-poll is answered promptly, not held to its wait').toBeLessThan(2_000);

    expect(await streamEnd, 'the SSE stream ends cleanly').toBe('clean');
    expect(Date.now() - t0).toBeLessThan(2_000);

    await expect(fetch(`${issuer}/healthz`), 'no new connections once shutting down').rejects.toThrow();
    const code = await exited;
    expect(code, output.slice(-2000)).toBe(0);
    expect(Date.now() - t0, 'exits within a few seconds').toBeLessThan(5_000);
    expect(output).toContain('shutting down');
  }, 60_000);
});
