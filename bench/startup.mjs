#!/usr/bin/env node
// `npm run bench:startup`: start-up time and idle memory of one provider instance, for
// {compiled (npm run start:prod), tsx (npm run provider)} × {embedded, PostgreSQL + Redis}.
//
// - start-up: spawn → first 200 from /readyz (polled every 20 ms). "cold" is the first start on
//   fresh state (embedded: new DATA_DIR, so PGlite initdb, migrations, key generation; services:
//   a new database, so migrations); "warm" is the median of the restarts on that same state
//   (what a rolling restart costs).
// - CPU to ready: user + system CPU time of the process tree at that moment (/proc/<pid>/stat),
//   which, unlike the wall clock, hardly depends on what else the machine is running.
// - idle RSS: VmRSS of the whole process tree (tsx runs the provider in a child process) from
//   /proc/<pid>/status, IDLE_SECONDS after the last warm start was ready, no requests meanwhile.
//
// Plain Node (no tsx in the measuring process). Builds dist/ first unless --no-build.
// Options: --runs N (warm starts, default 3), --idle S (default 10), --json.
// PostgreSQL and Redis as the benchmark uses them (BENCH_DATABASE_URL, BENCH_REDIS_URL).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE = path.join(ROOT, 'node_modules/.bin/node'); // the pinned Node 24, as npm scripts use it
const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, idle: { type: 'string', default: '10' }, json: { type: 'boolean' }, 'no-build': { type: 'boolean' } },
});
const WARM_RUNS = Number(opts.runs);
const IDLE_SECONDS = Number(opts.idle);
const PG_ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

const RUNTIMES = {
  compiled: ['dist/provider/src/main.js'],
  tsx: ['node_modules/tsx/dist/cli.mjs', 'provider/src/main.ts'],
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net
      .createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
  });
}

/** The process and its descendants, from every process's ppid (this kernel has no /proc/<pid>/task/<tid>/children). */
function processTree(root) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out = [];
  const walk = (pid) => (out.push(pid), (children.get(pid) ?? []).forEach(walk));
  walk(root);
  return out;
}

/** utime + stime of one process, in ms (clock ticks of 10 ms: CLK_TCK is 100 on Linux here). */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

function vmRssKiB(pid) {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function readyAt(port, child, deadlineMs = 120_000) {
  const started = performance.now();
  while (performance.now() - started < deadlineMs) {
    if (child.exitCode !== null) throw new Error(`provider exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(20);
  }
  throw new Error('not ready in time');
}

/** One start: ms from spawn to ready; with `idle`, also the tree's RSS after IDLE_SECONDS. */
async function startOnce(runtime, env, { idle = false } = {}) {
  const port = await freePort();
  let output = '';
  const t0 = performance.now();
  const child = spawn(NODE, RUNTIMES[runtime], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  try {
    await readyAt(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${runtime}: ${err.message}\n${output.slice(-2000)}`, { cause: err });
  }
  const startMs = performance.now() - t0;
  const cpu = processTree(child.pid).reduce((sum, pid) => sum + cpuMs(pid), 0);
  let rss;
  if (idle) {
    await sleep(IDLE_SECONDS * 1000);
    const pids = processTree(child.pid);
    rss = { kib: pids.reduce((sum, pid) => sum + vmRssKiB(pid), 0), processes: pids.length };
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  return { startMs, cpu, rss };
}

async function withServices(fn) {
  const name = `saoma_startup_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const prefix = `saoma-startup:${process.pid}:`;
  try {
    return await fn({ DATABASE_URL: url.href, REDIS_URL, REDIS_PREFIX: prefix });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
    const redis = new Redis(REDIS_URL);
    for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

async function measure(runtime, storage) {
  const run = async (env) => {
    const cold = await startOnce(runtime, env);
    const warm = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push(await startOnce(runtime, env, { idle: i === WARM_RUNS - 1 }));
    const last = warm.at(-1);
    return {
      runtime,
      storage,
      coldMs: Math.round(cold.startMs),
      coldCpuMs: cold.cpu,
      warmMs: Math.round(median(warm.map((w) => w.startMs))),
      warmRunsMs: warm.map((w) => Math.round(w.startMs)),
      warmCpuMs: median(warm.map((w) => w.cpu)),
      rssMiB: +(last.rss.kib / 1024).toFixed(1),
      processes: last.rss.processes,
    };
  };
  if (storage === 'services') return withServices(run);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-startup-'));
  try {
    return await run({ DATA_DIR: dataDir });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function machine() {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  return {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpu,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(),
    node: execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim(),
    loadavgBefore: os.loadavg().map((l) => +l.toFixed(2)),
  };
}

const facts = machine();
if (!opts['no-build']) {
  const t0 = performance.now();
  execFileSync(NODE, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  facts.buildSeconds = +((performance.now() - t0) / 1000).toFixed(1);
}
const results = [];
for (const storage of ['embedded', 'services']) {
  for (const runtime of ['compiled', 'tsx']) {
    process.stderr.write(`measuring ${runtime} × ${storage}…\n`);
    results.push(await measure(runtime, storage));
  }
}
facts.loadavgAfter = os.loadavg().map((l) => +l.toFixed(2));

if (opts.json) {
  console.log(JSON.stringify({ machine: facts, idleSeconds: IDLE_SECONDS, warmRuns: WARM_RUNS, results }, null, 2));
} else {
  console.log(
    `| Runtime | Storage | Cold start → ready: wall (CPU) | Warm start → ready, median of ${WARM_RUNS}: wall (CPU) | Idle RSS after ${IDLE_SECONDS} s (processes) |`,
  );
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const storage = r.storage === 'services' ? 'PostgreSQL + Redis' : 'embedded';
    console.log(
      `| ${r.runtime} | ${storage} | ${r.coldMs} ms (${r.coldCpuMs} ms) | ${r.warmMs} ms (${r.warmCpuMs} ms); runs ${r.warmRunsMs.join(', ')} ms | ${r.rssMiB} MiB (${r.processes}) |`,
    );
  }
  console.log(`\n${JSON.stringify(facts)}`);
}
