/**
 * Redis and PostgreSQL servers of the fault tests' own: separate ports and data directories,
 * started and stopped at will, never the shared ones. PostgreSQL refuses to run as root, so as
 * root initdb and pg_ctl run as the `postgres` user (runuser); otherwise as the current user.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, onPath, skipOrFail, until } from '../support/services.js';

const run = promisify(execFile);

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

// ---- Redis ----------------------------------------------------------------------------------

export interface OwnRedis {
  url: string;
  port: number;
  /** Stop; `keepData`: with its append-only file, so a restart has everything (a restarted server), else the data is wiped (a replaced one). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** For `describe.skipIf(...)`: skip (or, under REQUIRE_SERVICES=1 / CI, fail) without the server binaries. */
export const skipUnlessRedisServer = () => !onPath('redis-server') && skipOrFail('fault', 'redis-server not found (apt-get install redis-server)');

export const skipUnlessPostgresServer = () =>
  postgresBin() === null && skipOrFail('fault', 'PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin, or PG_BIN)');

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-fault-redis-'));
  let child: ChildProcess | null = null;
  async function start() {
    // AOF, fsync on every write: a stop with keepData loses nothing.
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'no'],
      { stdio: 'ignore' },
    );
    await until(`redis on ${port}`, () => answers(port), 15_000);
  }
  async function stop(opts: { keepData?: boolean } = {}) {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL'); // a crash, not a polite shutdown
    await exited;
    child = null;
    if (!opts.keepData) for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- PostgreSQL -----------------------------------------------------------------------------

export interface OwnPostgres {
  url: string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (process.env.PG_BIN) return process.env.PG_BIN;
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : null;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found (set PG_BIN)');
  const port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-fault-pg-'));
  const data = path.join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL will not run as root: hand the directory to the postgres user and run as it.
  const as = async (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]) : run(path.join(bin, cmd), args);
  if (asRoot) fs.chownSync(root, ...ids('postgres'));
  fs.chmodSync(root, 0o700);
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${root} -c fsync=off -c full_page_writes=off`;
  async function start() {
    await as('pg_ctl', ['-D', data, '-l', path.join(root, 'log'), '-o', options, '-w', '-t', '30', 'start']);
  }
  async function stop(mode: 'fast' | 'immediate' = 'fast') {
    await as('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']).catch(() => undefined);
  }
  await start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async close() {
      await stop('immediate');
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function ids(user: string): [number, number] {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no ${user} user to run PostgreSQL as (running as root)`);
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}

export { freePort };
