/**
 * npm run bench [-- options]: complete QR logins against a real provider, then the same client
 * against a plain oidc-provider (the baseline), and the ratio. See bench/README.md.
 *
 *   --embedded               PGlite + memory store instead of PostgreSQL + Redis (one worker)
 *   --concurrency 1,16,64    virtual users per point
 *   --duration 15 --warmup 3 seconds measured / discarded per point
 *   --workers N              server processes (node:cluster); default: one per CPU (embedded: 1)
 *   --users N                people with a signed-in phone (default: the highest concurrency)
 *   --no-baseline            skip the baseline
 *   --baseline-alg RS256     the baseline's ID-token algorithm (oidc-provider's default; ES256 to match ours)
 *   --cpu-prof [--cpu-prof-dir DIR]  profile the provider's processes, print the top functions
 *   --trace                  count each SQL statement and Redis command per login (slower)
 *   --waiting N              instead: hold N QR pages open on SSE (see waiting.ts)
 *   --json                   machine-readable result on stdout (the tables go to stderr)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import { generateKeyMaterial, type KeyMaterial } from '../provider/src/oidc/keys.js';
import { freePort, startLoad, startServer, stopAll, type LoadChild, type ServerChild } from './children.js';
import type { Site } from './flows.js';
import { allTicks, boxTicks, busiestOthers, cpuOf, cpuOfMatching, machine, treeUsage } from './proc.js';
import { loadTargets, pointsTable, ratios, ratiosTable, targetsTable, toPoint, traceTable, type Point, type Window } from './report.js';
import { createApp, REDIRECT_URI, signedInPhones } from './seed.js';
import { createBenchDatabase, redisProbe, REDIS_URL, type RedisProbe } from './services.js';
import { summarizeProfiles } from './top-profile.js';
import { runWaiting } from './waiting.js';
import { hotPaths, hotPathsTable } from './micro.js';

const { values: args } = parseArgs({
  options: {
    embedded: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '1,16,64' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    workers: { type: 'string' },
    users: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    'baseline-alg': { type: 'string', default: 'RS256' },
    'cpu-prof': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
    trace: { type: 'boolean', default: false },
    waiting: { type: 'string' },
    clients: { type: 'string' },
    'setup-concurrency': { type: 'string', default: '200' },
    'qr-ttl': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const log = (line: string) => process.stderr.write(`${line}\n`);
const concurrencies = args.concurrency.split(',').map(Number);
if (concurrencies.some((c) => !Number.isInteger(c) || c < 1)) throw new Error('--concurrency takes positive integers, e.g. 1,16,64');
const embedded = args.embedded;
const workers = embedded ? 1 : Number(args.workers ?? os.availableParallelism());
if (embedded && args.workers && Number(args.workers) !== 1) log('[bench] --embedded runs one worker (PGlite and the memory store are single-process)');

/** Everything one run creates, removed in `cleanup` whatever happens. */
export interface BenchContext {
  tmp: string;
  keys: KeyMaterial;
  probe: RedisProbe | null;
  databaseUrl: string | null;
  /** Env for bench/server.ts: storage, keys, quiet logs. */
  saomaEnv(port: number, extra?: Record<string, string>): NodeJS.ProcessEnv;
  log(line: string): void;
}

/**
 * Rate limits stay on (their Redis work is part of what a login costs) but so high that one
 * load-generator address is never throttled. Names: provider/src/http/rate-limit.ts; a name
 * the provider does not know is ignored, one it adds later shows up here as 429 errors.
 */
const RATE_LIMITS = [
  'PHONE_LOGIN',
  'PHONE_LOGIN_IP',
  'PHONE_REGISTER',
  'SCANS',
  'QR_CREATE',
  'TOKEN_IP',
  'CLIENT_AUTH',
  'CLIENT_AUTH_APP',
  'WECHAT',
  'ADMIN_LOGIN',
  'ADMIN_LOGIN_IP',
];
const RAISED_LIMITS = Object.fromEntries(RATE_LIMITS.map((name) => [`RATE_LIMIT_${name}`, '9999999/1']));

const CONFIG_KEYS = [
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_CLUSTER_NODES',
  'REDIS_PREFIX',
  'DATA_DIR',
  'QR_TTL',
  'QR_COMPLETE_TTL',
  'COOKIE_KEYS',
  'JWKS',
  'IDENTIFIER_SECRET',
  'TRUST_PROXY',
  'MIGRATE_ON_START',
  'LOG_LEVEL',
];
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !CONFIG_KEYS.includes(k)));

async function main() {
  const startedOn = machine(); // the load average before this run added to it
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'saoma-bench-'));
  const database = embedded ? null : await createBenchDatabase();
  const probe = embedded ? null : redisProbe();
  const keys = await generateKeyMaterial();
  const ctx: BenchContext = {
    tmp,
    keys,
    probe,
    databaseUrl: database?.url ?? null,
    log,
    saomaEnv: (port, extra = {}) => ({
      ...cleanEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: path.join(tmp, 'saoma'),
      LOG_LEVEL: 'warn',
      ...RAISED_LIMITS,
      ...(args.trace ? { BENCH_TRACE: '1' } : {}),
      JWKS: JSON.stringify(keys.jwks),
      COOKIE_KEYS: keys.cookieKeys.join(','),
      IDENTIFIER_SECRET: keys.identifierSecret,
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(probe ? { REDIS_URL, REDIS_PREFIX: probe.prefix } : {}),
      ...(args['qr-ttl'] ? { QR_TTL: args['qr-ttl'] } : {}),
      ...extra,
    }),
  };
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await probe?.clean().catch((e: unknown) => log(`[bench] redis cleanup failed: ${String(e)}`));
      probe?.close();
      await database?.drop().catch((e: unknown) => log(`[bench] dropping ${database.name} failed: ${String(e)}`));
      fs.rmSync(tmp, { recursive: true, force: true });
    })());
  // Ctrl-C reaches us twice (the terminal's process group, and tsx relaying it): clean up once, ignore the rest.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(
      signal,
      () =>
        void stopAll()
          .then(cleanup)
          .then(() => process.exit(130)),
    );
  }
  try {
    const result = args.waiting ? { waiting: await runWaiting(ctx, waitingOptions()) } : await loginBench(ctx);
    const out = { machine: startedOn, settings: settings(), ...result };
    if (args.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await cleanup();
  }
}

function waitingOptions() {
  const count = Number(args.waiting);
  return {
    count,
    clients: Number(args.clients ?? Math.max(1, Math.ceil(count / 5000))),
    setupConcurrency: Number(args['setup-concurrency']),
    qrTtl: args['qr-ttl'] ?? '900',
  };
}

function settings() {
  if (args.waiting) return { storage: embedded ? 'embedded (PGlite + memory store)' : 'PostgreSQL + Redis', workers: 1, ...waitingOptions() };
  return {
    storage: embedded ? 'embedded (PGlite + memory store)' : 'PostgreSQL + Redis',
    workers,
    concurrency: concurrencies,
    durationSeconds: Number(args.duration),
    warmupSeconds: Number(args.warmup),
    baselineAlg: args['baseline-alg'],
  };
}

async function loginBench(ctx: BenchContext) {
  const port = await freePort();
  const profileDir = args['cpu-prof'] ? path.resolve(args['cpu-prof-dir'] ?? path.join(os.tmpdir(), `saoma-profile-${Date.now()}`)) : null;
  const nodeFlags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  log(`[bench] machine: ${JSON.stringify(machine())}`);
  const hot = await hotPaths();
  log(hotPathsTable(hot));
  log(`[bench] provider: ${settings().storage}, ${workers} worker(s), port ${port}`);
  const server = await startServer('saoma', ctx.saomaEnv(port), workers, nodeFlags);
  const baseline = args['no-baseline']
    ? null
    : await startBaseline(ctx).catch(async (err: unknown) => {
        await server.stop();
        throw err;
      });
  const load = startLoad();
  const measure = await measurer(ctx, load);
  const ours: Point[] = [];
  const base: Point[] = [];
  try {
    const app = await createApp(path.join(ctx.tmp, 'saoma', 'w1', 'admin.sock'));
    const phones = await signedInPhones(server.url, Number(args.users ?? Math.max(...concurrencies)));
    const site: Site = { clientId: app.appId, clientSecret: app.appSecret, redirectUri: REDIRECT_URI, scope: 'openid profile' };
    // Interleaved, so both see the same machine: this box is shared, and its load drifts.
    for (const concurrency of concurrencies) {
      ours.push(await measure(server, { flow: 'qr', site, phones }, concurrency));
      if (baseline) base.push(await measure(baseline.server, { flow: 'baseline', site: baseline.site, phones: [] }, concurrency));
    }
  } finally {
    await load.stop();
    await Promise.all([server.stop(), baseline?.server.stop()]);
  }
  log(pointsTable('\nSaoma: complete QR logins', ours));
  if (baseline) log(pointsTable(`\nBaseline: plain oidc-provider, free login step (${args['baseline-alg']} ID tokens)`, base));
  for (const [title, list] of [
    ['Saoma', ours],
    ['baseline', base],
  ] as const) {
    const last = list.at(-1);
    if (last?.trace) log(`\n${traceTable(`${title}: per login at c=${last.concurrency}`, last.trace)}`);
  }
  const r = ratios(ours, base);
  if (r.length) log(`\n${ratiosTable(r)}`);
  const targets = loadTargets(ours, r);
  log(`\n${targetsTable(targets)}`);
  // The busiest point's measured window only: no start-up, warm-up or other points.
  const profiled = ours.at(-1);
  if (profileDir && profiled) {
    log(`\nprofile of the provider at c=${profiled.concurrency} (${profileDir}, --from ${profiled.windowUs.from} --to ${profiled.windowUs.to}):`);
    log(summarizeProfiles(profileDir, 25, profiled.windowUs));
  }
  return { hotPaths: hot, ours, baseline: base, ratios: r, targets, profileDir };
}

async function startBaseline(ctx: BenchContext) {
  const port = await freePort();
  const alg = args['baseline-alg'];
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const site: Site = { clientId: 'bench-baseline', clientSecret: 'bench-baseline-secret-0123456789', redirectUri: REDIRECT_URI, scope: 'openid' };
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    BASELINE_JWKS: JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'baseline', alg, use: 'sig' }] }),
    BASELINE_ALG: alg,
    ...(args.trace ? { BENCH_TRACE: '1' } : {}),
    COOKIE_KEYS: ctx.keys.cookieKeys.join(','),
    BENCH_CLIENT_ID: site.clientId,
    BENCH_CLIENT_SECRET: site.clientSecret,
    BENCH_REDIRECT_URI: site.redirectUri,
    ...(ctx.probe ? { REDIS_URL, REDIS_PREFIX: ctx.probe.prefix } : {}),
  };
  log(`[bench] baseline: oidc-provider, ${alg} ID tokens, ${ctx.probe ? 'Redis adapter' : 'memory adapter'}, ${workers} worker(s), port ${port}`);
  return { server: await startServer('baseline', env, workers), site };
}

/** Runs one concurrency point and reads every counter at the load generator's window marks. */
async function measurer(ctx: BenchContext, load: LoadChild) {
  const redisPid = ctx.probe ? await ctx.probe.pid() : 0;
  const dbName = ctx.databaseUrl ? new URL(ctx.databaseUrl).pathname.slice(1) : null;
  return async (server: ServerChild, what: { flow: 'qr' | 'baseline'; site: Site; phones: { token: string }[] }, concurrency: number): Promise<Point> => {
    log(`[bench] ${what.flow === 'qr' ? 'QR login' : 'baseline'}: c=${concurrency}, ${args.warmup} s warm-up + ${args.duration} s`);
    load.send({
      type: 'run',
      flow: what.flow,
      origin: server.url,
      site: what.site,
      phones: what.phones,
      concurrency,
      warmupMs: Number(args.warmup) * 1000,
      durationMs: Number(args.duration) * 1000,
    });
    type Snapshot = {
      ticks: Map<number, number>;
      us: number;
      server: number;
      serverSystem: number;
      load: number;
      redis: number;
      pg: number;
      box: number;
      stats: Window['before'];
      commands: number | null;
    };
    const at: Partial<Record<'start' | 'end', Snapshot>> = {};
    const { result } = await load.next('result', async (phase) => {
      const usage = treeUsage(server.pid);
      at[phase] = {
        ticks: allTicks(),
        us: Number(process.hrtime.bigint() / 1000n),
        server: usage.cpuSeconds,
        serverSystem: usage.systemSeconds,
        load: treeUsage(load.pid).cpuSeconds,
        redis: redisPid ? cpuOf(redisPid) : 0,
        // Only processes that belong to this run: its database's backends.
        pg: dbName && what.flow === 'qr' ? cpuOfMatching(` ${dbName} `) : 0,
        box: boxTicks().busy / 100,
        stats: await server.stats(phase === 'start'),
        commands: ctx.probe ? await ctx.probe.totalCommands() : null,
      };
    });
    const { start, end } = at as Required<typeof at>;
    const point = toPoint(concurrency, result, {
      serverCpuSeconds: end.server - start.server,
      serverSystemSeconds: end.serverSystem - start.serverSystem,
      loadCpuSeconds: end.load - start.load,
      redisCpuSeconds: redisPid ? end.redis - start.redis : null,
      postgresCpuSeconds: dbName && what.flow === 'qr' ? end.pg - start.pg : null,
      boxBusySeconds: end.box - start.box,
      monotonicUs: { from: start.us, to: end.us },
      others: busiestOthers(
        start.ticks,
        end.ticks,
        (end.us - start.us) / 1e6,
        new Set([process.pid, ...treeUsage(server.pid).pids, ...treeUsage(load.pid).pids]),
      ),
      before: start.stats,
      after: end.stats,
      // Minus this probe's own INFO call (one per mark).
      redisCommandsServerSide: start.commands === null || end.commands === null ? null : end.commands - start.commands - 1,
    });
    // Embedded: no Redis, and PGlite is not reached through pg, so there is nothing to count.
    if (!ctx.probe) point.redisCommandsPerLogin = point.redisRoundTripsPerLogin = null;
    if (!ctx.databaseUrl && what.flow === 'qr') point.sqlQueriesPerLogin = null;
    return point;
  };
}

await main();
