/**
 * Real Redis topologies of a test's own, on loopback and spare ports: a master with a Sentinel,
 * and a three-master Redis Cluster. Never the shared Redis. Everything is killed and its
 * temporary directory removed by close().
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, onPath, skipOrFail, until } from '../support/services.js';

const run = promisify(execFile);

/** How long a node, sentinel or cluster may take to come up (they start one after another). */
const READY_MS = 20_000;

/** For `describe.skipIf(...)`: skip (or, under REQUIRE_SERVICES=1 / CI, fail) without redis-server and redis-cli. */
export function skipUnlessRedisBinaries(what: string): boolean {
  const missing = ['redis-server', 'redis-cli'].filter((bin) => !onPath(bin));
  return missing.length > 0 && skipOrFail(what, `${missing.join(' and ')} not found (apt-get install redis-server)`);
}

/** A short-lived admin connection that fails instead of retrying (for probes and inspection). */
export function probe(port: number, password?: string): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  redis.on('error', () => {});
  return redis;
}

export async function ask<T>(port: number, fn: (redis: Redis) => Promise<T>, password?: string): Promise<T> {
  const redis = probe(port, password);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** The connections of one server as CLIENT LIST reports them. */
export async function clientList(port: number, password?: string): Promise<Record<string, string>[]> {
  const list = (await ask(port, (r) => r.client('LIST'), password)) as string;
  return list
    .split('\n')
    .filter(Boolean)
    .map((line) => Object.fromEntries(line.split(' ').map((field) => field.split('=', 2))));
}

interface Processes {
  dir: string;
  children: ChildProcess[];
  spawnServer(args: string[]): ChildProcess;
  close: () => Promise<void>;
}

function processes(label: string): Processes {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `saoma-${label}-`));
  const children: ChildProcess[] = [];
  return {
    dir,
    children,
    spawnServer(args) {
      const child = spawn('redis-server', args, { stdio: 'ignore', cwd: dir });
      children.push(child);
      return child;
    },
    async close() {
      await Promise.all(children.map(kill));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const serverArgs = (port: number, dir: string) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--dir',
  dir,
  '--save',
  '',
  '--appendonly',
  'no',
  '--protected-mode',
  'no',
];

/** Sentinel replies are flat [field, value, …] lists. */
const pairs = (flat: string[]): Record<string, string> => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]));

export interface OwnSentinel {
  /** The master group name the sentinel monitors. */
  name: string;
  /** requirepass of the data nodes, and of the sentinel. */
  password: string;
  sentinelPassword: string;
  masterPort: number;
  sentinelPort: number;
  /** Starts a replica of the master, and waits until the sentinel knows it (for a failover). */
  addReplica(): Promise<number>;
  /** SENTINEL FAILOVER, retried while the sentinel does not consider the replica ready yet. */
  failover(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One master and one sentinel monitoring it (quorum 1), each with a password of its own (a
 * replica added later becomes master on failover, so every data node has the same one).
 */
export async function startSentinel(name = 'saomatest'): Promise<OwnSentinel> {
  const procs = processes('sentinel');
  const password = 'data-node-secret';
  const sentinelPassword = 'sentinel-secret';
  const dataNodeArgs = (port: number, dir: string) => [...serverArgs(port, dir), '--requirepass', password, '--masterauth', password];
  try {
    const masterPort = await freePort();
    procs.spawnServer(dataNodeArgs(masterPort, procs.dir));
    await until(`redis master on ${masterPort}`, () => ask(masterPort, (r) => r.ping().then(() => true), password), READY_MS);

    const sentinelPort = await freePort();
    const conf = path.join(procs.dir, 'sentinel.conf'); // sentinel rewrites its file: a copy of its own
    fs.writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${procs.dir}`,
        `requirepass ${sentinelPassword}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel auth-pass ${name} ${password}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 10000`,
        '',
      ].join('\n'),
    );
    procs.spawnServer([conf, '--sentinel']);
    await until(
      `sentinel on ${sentinelPort}`,
      () =>
        ask(
          sentinelPort,
          async (r) => {
            const addr = (await r.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null;
            return addr?.[1] === String(masterPort);
          },
          sentinelPassword,
        ),
      READY_MS,
    );

    return {
      name,
      password,
      sentinelPassword,
      masterPort,
      sentinelPort,
      async addReplica() {
        const port = await freePort();
        const replicaDir = path.join(procs.dir, `replica-${port}`);
        fs.mkdirSync(replicaDir);
        procs.spawnServer([...dataNodeArgs(port, replicaDir), '--replicaof', '127.0.0.1', String(masterPort)]);
        await until(`replica on ${port} in sync`, () => ask(port, async (r) => /master_link_status:up/.test(await r.info('replication')), password), READY_MS);
        // The sentinel learns of replicas from the master's INFO, then asks each itself: until
        // it has, it will not promote it (NOGOODSLAVE).
        await until(
          'the sentinel to know the replica',
          () =>
            ask(
              sentinelPort,
              async (r) => {
                const replicas = ((await r.call('SENTINEL', 'replicas', name)) as string[][]).map(pairs);
                return replicas.some((f) => f.port === String(port) && f.flags === 'slave' && f['master-link-status'] === 'ok');
              },
              sentinelPassword,
            ),
          30_000,
        );
        return port;
      },
      async failover() {
        await until(
          'a failover to start',
          () => ask(sentinelPort, async (r) => (await r.call('SENTINEL', 'FAILOVER', name)) === 'OK', sentinelPassword),
          30_000,
        );
      },
      close: procs.close,
    };
  } catch (error) {
    await procs.close();
    throw error;
  }
}

export interface OwnCluster {
  ports: number[];
  /** SIGKILL one node (a crash). */
  kill(port: number): Promise<void>;
  /** Ports of the nodes not killed (a killed node's port may be reused by another test's server). */
  alive(): number[];
  close(): Promise<void>;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** A Redis Cluster of `size` masters and no replicas (redis-cli --cluster create). */
export async function startCluster(size = 3): Promise<OwnCluster> {
  const procs = processes('cluster');
  try {
    const ports: number[] = [];
    const nodes = new Map<number, ChildProcess>();
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      const nodeDir = path.join(procs.dir, String(port));
      fs.mkdirSync(nodeDir);
      const child = procs.spawnServer([
        ...serverArgs(port, nodeDir),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(nodeDir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
      ]);
      ports.push(port);
      nodes.set(port, child);
    }
    for (const port of ports) {
      await until(`cluster node on ${port}`, () => ask(port, (r) => r.ping().then(() => true)), READY_MS);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 30_000,
    });
    for (const port of ports) {
      await until(
        `cluster_state:ok on ${port}`,
        () =>
          ask(port, async (r) => {
            // Every node must see the whole map, not just its own slots, before clients ask it.
            const info = (await r.call('CLUSTER', 'INFO')) as string;
            return /cluster_state:ok/.test(info) && info.includes(`cluster_known_nodes:${size}`) && info.includes('cluster_slots_ok:16384');
          }),
        READY_MS,
      );
    }
    const killed = new Set<number>();
    return {
      ports,
      kill: (port) => (killed.add(port), kill(nodes.get(port)!)),
      alive: () => ports.filter((port) => !killed.has(port)),
      close: procs.close,
    };
  } catch (error) {
    await procs.close();
    throw error;
  }
}
