/**
 * The load generator: a separate process (never the server's), driven by bench/run.ts over IPC.
 *
 * - `run`: N virtual users each loop over complete logins for warm-up + duration. Around the
 *   measured window it sends `mark` and waits for `ack`, so the parent snapshots the server's
 *   CPU and counters at the same moments the counters here start and stop.
 * - `hold`: opens `count` QR pages with their SSE streams (at most `setupConcurrency` being set
 *   up at once) and keeps them open until `release`.
 */
import { counters, Origin } from './http.js';
import { baselineLogin, openQrPage, qrLogin, type Phone, type Site } from './flows.js';

export type LoadCommand =
  | { type: 'run'; flow: 'qr' | 'baseline'; origin: string; site: Site; phones: Phone[]; concurrency: number; warmupMs: number; durationMs: number }
  | { type: 'hold'; origin: string; site: Site; count: number; setupConcurrency: number }
  | { type: 'release' }
  | { type: 'ack' };

export interface PointResult {
  logins: number;
  errors: number;
  errorSamples: string[];
  requests: number;
  elapsedMs: number;
  totalMs: number[];
  notifyMs: number[];
}

export type LoadMessage =
  | { type: 'mark'; phase: 'start' | 'end' }
  | { type: 'result'; result: PointResult }
  | { type: 'held'; opened: number; failed: number; errorSamples: string[]; setupMs: number }
  | { type: 'released' };

const send = (m: LoadMessage) => process.send!(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ackWaiter: (() => void) | undefined;
const mark = (phase: 'start' | 'end') =>
  new Promise<void>((resolve) => {
    ackWaiter = resolve;
    send({ type: 'mark', phase });
  });

async function run(cmd: Extract<LoadCommand, { type: 'run' }>): Promise<PointResult> {
  const origin = new Origin(cmd.origin);
  const result: PointResult = { logins: 0, errors: 0, errorSamples: [], requests: 0, elapsedMs: 0, totalMs: [], notifyMs: [] };
  let measuring = false;
  let stopping = false;

  async function virtualUser(index: number) {
    const phone = cmd.phones[index % Math.max(cmd.phones.length, 1)];
    while (!stopping) {
      try {
        const t = cmd.flow === 'qr' ? await qrLogin(origin, cmd.site, phone) : await baselineLogin(origin, cmd.site);
        if (!measuring) continue;
        result.logins++;
        result.totalMs.push(t.totalMs);
        if (t.notifyMs !== undefined) result.notifyMs.push(t.notifyMs);
      } catch (err) {
        if (measuring) result.errors++;
        if (result.errorSamples.length < 5) result.errorSamples.push(err instanceof Error ? err.message : String(err));
        await sleep(20);
      }
    }
  }

  const users = Array.from({ length: cmd.concurrency }, (_, i) => virtualUser(i));
  await sleep(cmd.warmupMs);
  await mark('start');
  measuring = true;
  const requestsAtStart = counters.requests;
  const started = performance.now();
  await sleep(cmd.durationMs);
  await mark('end');
  measuring = false;
  result.elapsedMs = performance.now() - started;
  result.requests = counters.requests - requestsAtStart;
  stopping = true;
  await Promise.all(users);
  origin.close();
  return result;
}

const held: Array<{ close(): void }> = [];
let holdOrigin: Origin | undefined;

async function hold(cmd: Extract<LoadCommand, { type: 'hold' }>) {
  const origin = (holdOrigin ??= new Origin(cmd.origin));
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const errorSamples: string[] = [];
  async function opener() {
    while (next < cmd.count) {
      next++;
      try {
        held.push((await openQrPage(origin, cmd.site)).events);
      } catch (err) {
        failed++;
        if (errorSamples.length < 5) errorSamples.push(err instanceof Error ? err.message : String(err));
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(cmd.setupConcurrency, cmd.count) }, opener));
  // Setup connections are idle now; only the SSE streams should stay open.
  for (const socket of Object.values(origin.agent.freeSockets).flat()) socket?.destroy();
  send({ type: 'held', opened: held.length, failed, errorSamples, setupMs: performance.now() - started });
}

process.on('message', (cmd: LoadCommand) => {
  if (cmd.type === 'ack') return ackWaiter?.();
  if (cmd.type === 'run') {
    run(cmd).then(
      (result) => send({ type: 'result', result }),
      (err: unknown) => {
        console.error('[load] run failed', err);
        process.exit(1);
      },
    );
  } else if (cmd.type === 'hold') {
    hold(cmd).catch((err: unknown) => {
      console.error('[load] hold failed', err);
      process.exit(1);
    });
  } else {
    // release
    for (const events of held.splice(0)) events.close();
    holdOrigin?.close();
    send({ type: 'released' });
  }
});
process.once('disconnect', () => process.exit(0));
