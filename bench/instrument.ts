import v8 from 'node:v8';
/**
 * Counters inside a server process under test: Redis commands and round trips (ioredis), SQL
 * queries (pg, which Prisma's adapter uses), event-loop delay. Counting at the client side
 * attributes every command to this server, even when other programs share the Redis; Redis'
 * own INFO counters cannot tell callers apart (Redis 7.0 has no per-client command count).
 *
 * Import this before anything opens a connection; the patches are on prototypes, so clients
 * created earlier are counted too.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface ProcessStats {
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** V8 heap reserved (used + free space in its pages) and memory outside it (Buffers, native). */
  heapTotalBytes: number;
  externalBytes: number;
  /** V8's spaces: committed size by space name (new_space, old_space, code_space, ...). */
  heapSpacesBytes: Record<string, number>;
  redisCommands: number;
  /** Commands written on their own plus pipelines/MULTIs (each one write, one wait). */
  redisRoundTrips: number;
  sqlQueries: number;
  /** With BENCH_TRACE=1: count per SQL statement and per Redis command name. */
  trace?: Record<string, number>;
  /** Event-loop delay since the last reset, in ms. */
  loopDelay: { p50: number; p99: number; max: number; mean: number };
}

const tracing = process.env.BENCH_TRACE === '1';
const trace = new Map<string, number>();
const tally = (key: string) => trace.set(key, (trace.get(key) ?? 0) + 1);

let redisCommands = 0;
let redisRoundTrips = 0;
let sqlQueries = 0;
const pipelinesSeen = new WeakSet<object>();

type SendCommand = (this: Redis, command: { name?: string; args?: unknown[] }, stream?: { isPipeline?: boolean }, node?: unknown) => unknown;

/** The key a command touches, with ids and the run's prefix starred: which state a login reads. */
function keyShape(command: { name?: string; args?: unknown[] }): string {
  const name = command.name?.toLowerCase();
  const raw = name === 'evalsha' || name === 'eval' ? command.args?.[2] : name === 'multi' || name === 'exec' ? '' : command.args?.[0];
  if (raw === undefined || raw === null) return '';
  return ` ${String(raw as string | number | Buffer)
    .replace(/^saoma-bench:[^:]+:/, '')
    .split(':')
    .map((part) => (/^[\w-]{12,}$/.test(part) || /^\d+(\.\d+)*$/.test(part) ? '*' : part))
    .join(':')
    .slice(0, 60)}`;
}
const proto = Redis.prototype as unknown as { sendCommand: SendCommand };
const originalSend = proto.sendCommand;
proto.sendCommand = function countedSend(command, stream, node) {
  redisCommands++;
  if (tracing) tally(`redis ${command.name?.toUpperCase()}${keyShape(command)}${stream?.isPipeline ? ' (pipelined)' : ''}`);
  if (!stream?.isPipeline) redisRoundTrips++;
  else if (!pipelinesSeen.has(stream)) {
    pipelinesSeen.add(stream);
    redisRoundTrips++;
  }
  return originalSend.call(this, command, stream, node);
};

const pgProto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
const originalQuery = pgProto.query;
pgProto.query = function countedQuery(this: unknown, ...args: unknown[]) {
  sqlQueries++;
  if (tracing) {
    const q = args[0] as string | { text?: string } | undefined;
    tally(`sql ${(typeof q === 'string' ? q : (q?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 140)}`);
  }
  return originalQuery.apply(this, args);
};

const RESOLUTION_MS = 10;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();

// The histogram holds whole timer intervals (an idle loop reads ~10 ms): the delay is the excess.
const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);

/**
 * This process's counters; `resetLoop` starts a new event-loop delay window; `collect` runs a
 * full GC first when the process was started with --expose-gc (retained memory, not garbage).
 */
export function processStats(resetLoop = false, collect = false): ProcessStats {
  if (collect) (globalThis as { gc?: () => void }).gc?.();
  const memory = process.memoryUsage();
  const stats: ProcessStats = {
    pid: process.pid,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    heapSpacesBytes: Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, sp.physical_space_size])),
    redisCommands,
    redisRoundTrips,
    sqlQueries,
    ...(tracing ? { trace: Object.fromEntries(trace) } : {}),
    loopDelay: loop.count
      ? { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean) }
      : { p50: 0, p99: 0, max: 0, mean: 0 },
  };
  if (resetLoop) loop.reset();
  return stats;
}
