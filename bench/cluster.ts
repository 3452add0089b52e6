/**
 * Runs a server under test as one process or as N node:cluster workers sharing one port, and
 * talks to the bench (its parent) over IPC: "ready" once every worker listens, per-process
 * counters on request, a clean shutdown (so --cpu-prof profiles get written).
 *
 * Workers start one after another: the first one migrates the database, the rest find it done.
 */
import cluster, { type Worker } from 'node:cluster';
import { processStats, type ProcessStats } from './instrument.js';

export interface Served {
  url: string;
  close(): Promise<void>;
}

export type ToServer = { type: 'stats'; id: number; reset: boolean; collect?: boolean } | { type: 'shutdown' };
export type FromServer = { type: 'ready'; url: string; pids: number[] } | { type: 'stats'; id: number; processes: ProcessStats[] };

type FromWorker = { type: 'ready'; url: string } | { type: 'stats'; id: number; stats: ProcessStats };

const send = (message: FromServer) => process.send?.(message);

/** `start(index)` builds one server (index 1..N); this decides in which process it runs. */
export async function serve(workers: number, start: (index: number) => Promise<Served>): Promise<void> {
  if (workers <= 1) return single(start);
  if (cluster.isPrimary) return primary(workers);
  return worker(start);
}

async function single(start: (index: number) => Promise<Served>) {
  const served = await start(1);
  onShutdown(() => served.close());
  process.on('message', (m: ToServer) => {
    if (m.type === 'stats') send({ type: 'stats', id: m.id, processes: [processStats(m.reset, m.collect)] });
  });
  send({ type: 'ready', url: served.url, pids: [process.pid] });
}

async function worker(start: (index: number) => Promise<Served>) {
  const served = await start(Number(process.env.BENCH_WORKER_INDEX));
  // The primary decides when to stop; a terminal's Ctrl-C reaches workers too, so obey both.
  onShutdown(() => served.close());
  process.on('message', (m: ToServer) => {
    if (m.type === 'stats') process.send!({ type: 'stats', id: m.id, stats: processStats(m.reset, m.collect) } satisfies FromWorker);
  });
  process.send!({ type: 'ready', url: served.url } satisfies FromWorker);
}

async function primary(count: number) {
  const workers: Worker[] = [];
  let stopping = false;
  let url = '';
  for (let index = 1; index <= count; index++) {
    const w = cluster.fork({ BENCH_WORKER_INDEX: String(index) });
    w.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`[bench] worker ${index} exited unexpectedly (${(signal as string | null) ?? code})`); // null after a plain exit, whatever the types say
      process.exit(1);
    });
    url = await new Promise<string>((resolve) => {
      const onMessage = (m: FromWorker) => {
        if (m.type !== 'ready') return;
        w.off('message', onMessage);
        resolve(m.url);
      };
      w.on('message', onMessage);
    });
    workers.push(w);
  }

  process.on('message', async (m: ToServer) => {
    if (m.type !== 'stats') return;
    const replies = await Promise.all(
      workers.map(
        (w) =>
          new Promise<ProcessStats>((resolve) => {
            const onMessage = (r: FromWorker) => {
              if (r.type !== 'stats' || r.id !== m.id) return;
              w.off('message', onMessage);
              resolve(r.stats);
            };
            w.on('message', onMessage);
            w.send(m);
          }),
      ),
    );
    send({ type: 'stats', id: m.id, processes: [processStats(m.reset, m.collect), ...replies] });
  });

  onShutdown(async () => {
    stopping = true;
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) {
              resolve();
              return;
            }
            const timer = setTimeout(() => w.kill('SIGKILL'), 15_000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.send({ type: 'shutdown' } satisfies ToServer);
          }),
      ),
    );
  });
  send({ type: 'ready', url, pids: [process.pid, ...workers.map((w) => w.process.pid!)] });
}

/** One graceful exit path for SIGTERM, SIGINT, a shutdown message, or the parent going away. */
function onShutdown(close: () => Promise<void>) {
  let started = false;
  const stop = () => {
    if (started) return;
    started = true;
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[bench] shutdown failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.on('message', (m: ToServer) => m.type === 'shutdown' && stop());
  process.once('disconnect', stop);
}
