/**
 * `npm start` as a person uses it: the script runs as a child process on the embedded default
 * (temp DATA_DIR, free ports), a browser logs in at the demo site, and the command-line phone
 * approves. Provider on localhost, demo on 127.0.0.1: two sites, as in a real deployment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser } from '../support/browser.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'node_modules/.bin');
const DEMO_APP_ID = 'smdemo0000000001';

function childEnv(extra: Record<string, string>) {
  const { DATABASE_URL: _d, REDIS_URL: _r, DATA_DIR: _dd, PUBLIC_URL: _p, ...inherited } = process.env;
  // npm scripts put node_modules/.bin (Node 24) first; so do we.
  return { ...inherited, PATH: `${BIN}:${process.env.PATH}`, ...extra };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Every child we start, so afterAll can end them whatever happened. */
const children = new Set<ChildProcess>();

/** Its own process group (detached), so a hard kill also reaches the node process tsx spawns. */
function killHard(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(BIN, 'tsx'), [script, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => killHard(child), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

interface Stack {
  issuer: string;
  demoUrl: string;
  appSecret: string;
  output: () => string;
  /** SIGTERM (what Ctrl+C does) and the exit code. */
  stop(): Promise<number | null>;
}

/** Runs scripts/start.ts and waits for its banner. */
async function startStack(dataDir: string, ports: { provider: number; demo: number }, env: Record<string, string> = {}): Promise<Stack> {
  const issuer = `http://localhost:${ports.provider}`;
  const demoUrl = `http://127.0.0.1:${ports.demo}`;
  const child = spawn(path.join(BIN, 'tsx'), ['scripts/start.ts'], {
    cwd: ROOT,
    env: childEnv({
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(ports.provider),
      PUBLIC_URL: issuer,
      DEMO_PORT: String(ports.demo),
      DEMO_PUBLIC_URL: demoUrl,
      LOG_LEVEL: 'warn',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => /Ctrl\+C stops everything/.test(out) && resolve(true);
      child.stdout.on('data', check);
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50_000)),
  ]);
  if (!ready) {
    killHard(child);
    throw new Error(`npm start did not come up:\n${out}`);
  }
  const appSecret = /Demo AppSecret:\s+(\S+)/.exec(out)?.[1];
  if (!appSecret) throw new Error(`no AppSecret in the banner:\n${out}`);
  return {
    issuer,
    demoUrl,
    appSecret,
    output: () => out,
    async stop() {
      child.kill('SIGTERM'); // tsx forwards it to the script, which shuts down in order
      const timer = setTimeout(() => killHard(child), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A browser at the demo: /login → the provider's QR page → the CLI phone decides → /complete → back at the demo. */
async function loginAtDemo(stack: Stack, decision: 'approve' | 'deny') {
  const browser = new TestBrowser();
  const started = performance.now();
  const { url: qrPage, res } = await browser.navigate(`${stack.demoUrl}/login`);
  expect(res?.status).toBe(200);
  expect(qrPage.origin).toBe(stack.issuer);
  const uid = /\/interaction\/([^/?#]+)$/.exec(qrPage.pathname)?.[1];
  const qr = (await (await browser.fetch(`${stack.issuer}/interaction/${uid}/qr`)).json()) as { payload: string };
  const phoneStarted = performance.now();
  const phone = await run('scripts/phone.ts', [decision, qr.payload]);
  const phoneMs = performance.now() - phoneStarted;
  expect(phone.code, phone.stderr).toBe(0);
  const done = await browser.navigate(`${stack.issuer}/interaction/${uid}/complete`);
  const html = done.res ? await done.res.text() : '';
  return { url: done.url, status: done.res?.status, html, phone, browser, ms: { total: performance.now() - started, phoneCli: phoneMs } };
}

describe('npm start (embedded default): provider + seeded demo user and app + demo site', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-start-'));
  let ports: { provider: number; demo: number };
  let stack: Stack;

  beforeAll(async () => {
    ports = { provider: await freePort(), demo: await freePort() };
    stack = await startStack(dataDir, ports);
  });
  afterAll(() => {
    for (const child of children) killHard(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints a banner with both URLs, the demo credentials, the AppID and how to approve, use a phone and add apps', () => {
    const banner = stack.output();
    expect(banner).toContain(stack.issuer);
    expect(banner).toContain(stack.demoUrl);
    expect(banner).toMatch(/demo \/ saoma-demo/);
    expect(banner).toContain(DEMO_APP_ID);
    expect(banner).toMatch(/re-issued at each start/);
    expect(banner).toContain('npm run phone -- approve');
    expect(banner).toMatch(/HOST=0\.0\.0\.0 PUBLIC_URL=http:\/\/\S+ npm start/);
    expect(banner).toContain('npm run admin -- apps:create');
  });

  it('a person logs in at the demo site by approving with the command-line phone; the profile shows Demo 用户', async () => {
    const login = await loginAtDemo(stack, 'approve');
    expect(login.url.href).toBe(`${stack.demoUrl}/profile`);
    expect(login.status).toBe(200);
    expect(login.html).toContain('Demo 用户');
    expect(login.html).toContain(DEMO_APP_ID); // the ID token's aud, shown decoded
    expect(login.html).toMatch(/unionid/);
    // The phone showed what the app would: who asks, for what, from where.
    expect(login.phone.stdout).toContain('Saoma Demo Site wants to log you in');
    expect(login.phone.stdout).toContain(`127.0.0.1:${ports.demo}`);
    expect(login.phone.stdout).toMatch(/see your nickname and picture/);
    console.info(`[timing] full login through the demo: ${login.ms.total.toFixed(0)} ms, of which the phone CLI process ${login.ms.phoneCli.toFixed(0)} ms`);

    // Logged in for the home page too; logging out forgets it.
    const home = await (await login.browser.fetch(`${stack.demoUrl}/`)).text();
    expect(home).toContain('Welcome back, Demo 用户');
    await login.browser.navigate(`${stack.demoUrl}/logout`, () => false, { method: 'POST' });
    expect((await login.browser.fetch(`${stack.demoUrl}/profile`)).headers.get('location')).toBe('/');
  });

  it('denying on the phone lands on a friendly "you denied" page with a retry button, never a stack trace', async () => {
    const login = await loginAtDemo(stack, 'deny');
    expect(login.url.pathname).toBe('/callback');
    expect(login.url.searchParams.get('error')).toBe('access_denied');
    expect(login.status).toBe(403);
    expect(login.html).toContain('You cancelled / denied the login');
    expect(login.html).toContain('href="/login"');
    expect(login.html).not.toMatch(/\n\s+at |Error:.*\.ts/);
    expect(login.phone.stdout).toMatch(/Denied/);
  });

  it('a callback with no login in progress gets a friendly page, not an error dump', async () => {
    const res = await fetch(`${stack.demoUrl}/callback?code=forged&state=forged`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('This login has expired');
    expect(html).not.toMatch(/\n\s+at /);
  });

  it("the phone CLI exits non-zero with the API's error_description (unknown QR, wrong password)", async () => {
    const unknown = await run('scripts/phone.ts', ['approve', `${stack.issuer}/q/AAAAAAAAAAAAAAAAAAAAAAAA`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/This QR code is not known.*404 qr_not_found/);
    const wrong = await run('scripts/phone.ts', ['approve', `${stack.issuer}/q/AAAAAAAAAAAAAAAAAAAAAAAA`, '--password', 'nope-nope']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/Wrong username or password/);
  });

  it('restarting on the same DATA_DIR (even with a new demo URL) re-seeds idempotently, re-issues the secret, and logins work', async () => {
    const firstSecret = stack.appSecret;
    expect(await stack.stop()).toBe(0); // graceful: demo, then provider
    expect(fs.existsSync(path.join(dataDir, 'pglite.lock'))).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'admin.sock'))).toBe(false);

    ports = { provider: ports.provider, demo: await freePort() };
    stack = await startStack(dataDir, ports);
    expect(stack.appSecret).not.toBe(firstSecret);

    const login = await loginAtDemo(stack, 'approve');
    expect(login.url.href).toBe(`${stack.demoUrl}/profile`);
    expect(login.html).toContain('Demo 用户');

    // Still one demo app, now also allowing the new demo URL (through the running provider's admin socket).
    const list = await run('provider/src/admin/cli/main.ts', ['apps:list', '--json'], { DATA_DIR: dataDir });
    expect(list.code, list.stderr).toBe(0);
    const apps = (JSON.parse(list.stdout) as { apps: { appId: string; redirectUris: string[] }[] }).apps.filter((a) => a.appId === DEMO_APP_ID);
    expect(apps).toHaveLength(1);
    expect(apps[0].redirectUris[0]).toBe(`${stack.demoUrl}/callback`);
  }, 120_000);

  it('never keeps a known demo password on a bind beyond loopback: HOST=0.0.0.0 gets a random one, printed, and saoma-demo stops working', async () => {
    expect(await stack.stop()).toBe(0);
    stack = await startStack(dataDir, ports, { HOST: '0.0.0.0' });
    const banner = stack.output();
    expect(banner).not.toContain('saoma-demo');
    const password = /Demo user:\s+demo \/ (\S+)/.exec(banner)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{12}$/);
    const signIn = (pw: string) =>
      fetch(`${stack.issuer}/api/mobile/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo', password: pw }),
      });
    expect((await signIn('saoma-demo')).status).toBe(401);
    expect((await signIn(password!)).status).toBe(200);
    expect(await stack.stop()).toBe(0);
  }, 120_000);
});
