/**
 * Turning raw measurements into the numbers the bench prints, and the table itself. Targets
 * are issue 7's; this file holds the thresholds, never results (those go to bench/README.md).
 */
import type { ProcessStats } from './instrument.js';
import type { PointResult } from './load.js';

export interface Window {
  serverCpuSeconds: number;
  serverSystemSeconds: number;
  loadCpuSeconds: number;
  /** redis-server and this run's PostgreSQL backends (null when not measurable, e.g. embedded). */
  redisCpuSeconds: number | null;
  postgresCpuSeconds: number | null;
  /** Every process on the box, others' included: how quiet the machine was. */
  boxBusySeconds: number;
  /** Processes outside this run that were busy during the window (a shared box). */
  others: { pid: number; command: string; cores: number }[];
  /** The window on the monotonic clock, in µs (to cut CPU profiles to it). */
  monotonicUs: { from: number; to: number };
  before: ProcessStats[];
  after: ProcessStats[];
  redisCommandsServerSide: number | null;
}

export interface Point {
  concurrency: number;
  logins: number;
  errors: number;
  errorSamples: string[];
  loginsPerSecond: number;
  loginMs: { p50: number; p99: number };
  notifyMs: { p50: number; p99: number } | null;
  requestsPerLogin: number;
  cpuMsPerLogin: number;
  /** Percentage of the server's CPU spent in the kernel. */
  systemPercent: number;
  /** Server CPU over the window, in cores (2.0 = both cores of this box busy). */
  serverCores: number;
  loadGeneratorCores: number;
  redisCpuMsPerLogin: number | null;
  postgresCpuMsPerLogin: number | null;
  /** Busy cores on the whole box during the window (this box has os.availableParallelism()). */
  boxBusyCores: number;
  others: { pid: number; command: string; cores: number }[];
  redisCommandsPerLogin: number | null;
  redisRoundTripsPerLogin: number | null;
  /** INFO total_commands_processed delta per login: every client of that Redis, so noisy. */
  redisServerCommandsPerLogin: number | null;
  sqlQueriesPerLogin: number | null;
  loopDelayP99Ms: number;
  serverRssMB: number;
  windowUs: { from: number; to: number };
  /** With --trace: SQL statements and Redis commands per login. */
  trace?: Record<string, number>;
}

function traceDelta(before: ProcessStats[], after: ProcessStats[], logins: number): Record<string, number> | undefined {
  if (!after.some((s) => s.trace)) return undefined;
  const total = new Map<string, number>();
  for (const s of after) for (const [k, v] of Object.entries(s.trace ?? {})) total.set(k, (total.get(k) ?? 0) + v);
  for (const s of before) for (const [k, v] of Object.entries(s.trace ?? {})) total.set(k, (total.get(k) ?? 0) - v);
  return Object.fromEntries(
    [...total]
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => [k, round(v / logins, 2)]),
  );
}

export function traceTable(title: string, trace: Record<string, number>): string {
  return `${title}\n${Object.entries(trace)
    .map(([k, v]) => `${String(v).padStart(7)}  ${k}`)
    .join('\n')}`;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (stats: ProcessStats[], pick: (s: ProcessStats) => number) => stats.reduce((t, s) => t + pick(s), 0);

export function toPoint(concurrency: number, r: PointResult, w: Window): Point {
  const n = Math.max(r.logins, 1);
  const seconds = r.elapsedMs / 1000;
  const delta = (pick: (s: ProcessStats) => number) => sum(w.after, pick) - sum(w.before, pick);
  return {
    concurrency,
    logins: r.logins,
    errors: r.errors,
    errorSamples: r.errorSamples,
    loginsPerSecond: round(r.logins / seconds),
    loginMs: { p50: round(percentile(r.totalMs, 50)), p99: round(percentile(r.totalMs, 99)) },
    notifyMs: r.notifyMs.length ? { p50: round(percentile(r.notifyMs, 50), 2), p99: round(percentile(r.notifyMs, 99), 2) } : null,
    requestsPerLogin: round(r.requests / n),
    cpuMsPerLogin: round((w.serverCpuSeconds * 1000) / n, 2),
    systemPercent: Math.round((100 * w.serverSystemSeconds) / Math.max(w.serverCpuSeconds, 0.01)),
    serverCores: round(w.serverCpuSeconds / seconds, 2),
    loadGeneratorCores: round(w.loadCpuSeconds / seconds, 2),
    redisCpuMsPerLogin: w.redisCpuSeconds === null ? null : round((w.redisCpuSeconds * 1000) / n, 2),
    postgresCpuMsPerLogin: w.postgresCpuSeconds === null ? null : round((w.postgresCpuSeconds * 1000) / n, 2),
    boxBusyCores: round(w.boxBusySeconds / seconds, 2),
    others: w.others,
    redisCommandsPerLogin: round(delta((s) => s.redisCommands) / n),
    redisRoundTripsPerLogin: round(delta((s) => s.redisRoundTrips) / n),
    redisServerCommandsPerLogin: w.redisCommandsServerSide === null ? null : round(w.redisCommandsServerSide / n),
    sqlQueriesPerLogin: round(delta((s) => s.sqlQueries) / n),
    loopDelayP99Ms: Math.max(...w.after.map((s) => s.loopDelay.p99)),
    serverRssMB: round(sum(w.after, (s) => s.rssBytes) / 2 ** 20),
    windowUs: w.monotonicUs,
    trace: traceDelta(w.before, w.after, n),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined || Number.isNaN(n) ? '-' : String(n));

export function pointsTable(title: string, points: Point[]): string {
  const head = [
    'c',
    'logins/s',
    'login p50',
    'p99 ms',
    'notify p50',
    'p99 ms',
    'req/login',
    'CPU ms/login',
    'sys %',
    'srv cores',
    'gen cores',
    'box cores',
    'redis cmd/login',
    'round trips',
    'redis ms/login',
    'SQL/login',
    'pg ms/login',
    'loop p99 ms',
    'errors',
  ];
  const rows = points.map((p) => [
    String(p.concurrency),
    fmt(p.loginsPerSecond),
    fmt(p.loginMs.p50),
    fmt(p.loginMs.p99),
    fmt(p.notifyMs?.p50),
    fmt(p.notifyMs?.p99),
    fmt(p.requestsPerLogin),
    fmt(p.cpuMsPerLogin),
    fmt(p.systemPercent),
    fmt(p.serverCores),
    fmt(p.loadGeneratorCores),
    fmt(p.boxBusyCores),
    fmt(p.redisCommandsPerLogin),
    fmt(p.redisRoundTripsPerLogin),
    fmt(p.redisCpuMsPerLogin),
    fmt(p.sqlQueriesPerLogin),
    fmt(p.postgresCpuMsPerLogin),
    fmt(p.loopDelayP99Ms),
    fmt(p.errors),
  ]);
  const errors = points.flatMap((p) => p.errorSamples.map((e) => `  c=${p.concurrency}: ${e}`));
  const others = points.flatMap((p) =>
    p.others.length ? [`  c=${p.concurrency}: ${p.others.map((o) => `${o.cores} ${o.command.slice(0, 60)}`).join(' | ')}`] : [],
  );
  return [
    `${title}\n${table([head, ...rows])}`,
    ...(errors.length ? [`error samples:\n${errors.join('\n')}`] : []),
    ...(others.length ? [`other busy processes (cores; Redis and PostgreSQL included):\n${others.join('\n')}`] : []),
  ].join('\n');
}

export interface Ratio {
  concurrency: number;
  cpuPerLogin: number;
  loginsPerSecond: number;
}

export function ratios(ours: Point[], baseline: Point[]): Ratio[] {
  return ours.flatMap((o) => {
    const b = baseline.find((x) => x.concurrency === o.concurrency);
    return b
      ? [
          {
            concurrency: o.concurrency,
            cpuPerLogin: round(o.cpuMsPerLogin / b.cpuMsPerLogin, 2),
            loginsPerSecond: round(o.loginsPerSecond / b.loginsPerSecond, 2),
          },
        ]
      : [];
  });
}

export function ratiosTable(r: Ratio[]): string {
  return `ours / baseline\n${table([['c', 'CPU per login', 'logins/s'], ...r.map((x) => [String(x.concurrency), `${x.cpuPerLogin}x`, `${x.loginsPerSecond}x`])])}`;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

/** Issue 7's targets, judged on this run at concurrency 64 (or the highest measured). */
export function loadTargets(ours: Point[], r: Ratio[]): Target[] {
  const top = ours.find((p) => p.concurrency === 64) ?? ours.at(-1);
  const ratio = r.find((x) => x.concurrency === top?.concurrency);
  if (!top) return [];
  const out: Target[] = [
    { name: `full QR logins/s at c=${top.concurrency}`, goal: '>= 200', measured: String(top.loginsPerSecond), met: top.loginsPerSecond >= 200 },
    {
      name: `confirm -> notified p99 at c=${top.concurrency}`,
      goal: '<= 20 ms',
      measured: `${fmt(top.notifyMs?.p99)} ms`,
      met: (top.notifyMs?.p99 ?? Infinity) <= 20,
    },
  ];
  if (ratio)
    out.splice(1, 0, {
      name: `CPU per login vs baseline at c=${top.concurrency}`,
      goal: '<= 1.5x',
      measured: `${ratio.cpuPerLogin}x`,
      met: ratio.cpuPerLogin <= 1.5,
    });
  return out;
}

export function targetsTable(targets: Target[]): string {
  return `targets (issue 7)\n${table([['target', 'goal', 'this run', ''], ...targets.map((t) => [t.name, t.goal, t.measured, t.met ? 'met' : 'MISSED'])])}`;
}
