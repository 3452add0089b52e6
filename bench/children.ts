/**
 * The bench's child processes: a server under test (bench/server.ts or baseline-server.ts) and
 * load generators (bench/load.ts), each its own Node process with an IPC channel. Children
 * write their logs to our stderr, so `--json` keeps stdout clean.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FromServer, ToServer } from './cluster.js';
import type { ProcessStats } from './instrument.js';
import type { LoadCommand, LoadMessage } from './load.js';

const TSX = import.meta.resolve('tsx');
const script = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** Every child still running, so an interrupted run can stop them before removing their data. */
const live = new Set<ChildProcess>();

function spawnTs(file: string, args: string[], env: NodeJS.ProcessEnv, nodeFlags: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--import', TSX, script(file), ...args], { env, stdio: ['ignore', 2, 2, 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** SIGTERM to every child still running; resolves when they have exited. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((child) => stop(child, undefined, 15_000)));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Asks politely, then insists: profiles and connection cleanup happen on the polite path. */
async function stop(child: ChildProcess, message: unknown, graceMs = 20_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected && message !== undefined) child.send(message as never);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export interface ServerChild {
  pid: number;
  url: string;
  pids: number[];
  /** Per-process counters; `reset` starts a new event-loop window, `collect` runs a GC first (--expose-gc). */
  stats(reset?: boolean, collect?: boolean): Promise<ProcessStats[]>;
  stop(): Promise<void>;
}

export async function startServer(kind: 'saoma' | 'baseline', env: NodeJS.ProcessEnv, workers: number, nodeFlags: string[] = []): Promise<ServerChild> {
  const child = spawnTs(kind === 'saoma' ? 'server.ts' : 'baseline-server.ts', ['--workers', String(workers)], env, nodeFlags);
  const ready = await new Promise<Extract<FromServer, { type: 'ready' }>>((resolve, reject) => {
    child.on('message', (m: FromServer) => m.type === 'ready' && resolve(m));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
  });
  let nextId = 0;
  return {
    pid: child.pid!,
    url: ready.url,
    pids: ready.pids,
    stats: (reset = false, collect = false) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        const onExit = (code: number | null) => reject(new Error(`${kind} server exited with ${code}`));
        const onMessage = (m: FromServer) => {
          if (m.type !== 'stats' || m.id !== id) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m.processes);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ type: 'stats', id, reset, collect } satisfies ToServer);
      }),
    stop: () => stop(child, { type: 'shutdown' } satisfies ToServer, 30_000),
  };
}

export interface LoadChild {
  pid: number;
  send(cmd: LoadCommand): void;
  /** The next message of this type; `onMark` answers measurement marks meanwhile. */
  next<T extends LoadMessage['type']>(type: T, onMark?: (phase: 'start' | 'end') => Promise<void>): Promise<Extract<LoadMessage, { type: T }>>;
  stop(): Promise<void>;
}

export function startLoad(): LoadChild {
  const child = spawnTs('load.ts', [], process.env);
  return {
    pid: child.pid!,
    send: (cmd) => child.send(cmd),
    next: (type, onMark) =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null) => reject(new Error(`load generator exited with ${code}`));
        const onMessage = async (m: LoadMessage) => {
          if (m.type === 'mark') {
            await onMark?.(m.phase);
            child.send({ type: 'ack' } satisfies LoadCommand);
            return;
          }
          if (m.type !== type) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m as never);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
      }),
    stop: async () => {
      if (child.connected) child.disconnect(); // disconnecting twice emits an 'error'
      await stop(child, undefined, 10_000);
    },
  };
}
