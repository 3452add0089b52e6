import cluster from 'node:cluster';
import { serveAdminSocket } from './admin/api/socket.js';
import { createSaoma } from './app.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { primarySource, serveMetrics } from './metrics/endpoint.js';

// Passed in rather than imported: main.ts awaits main() at top level, so importing it from a
// worker would wait on itself.
type StartProvider = (config: Config, log: Logger, opts: { adminSocket?: boolean; clusterWorker?: boolean }) => Promise<{ close(): Promise<void> }>;

/**
 * WORKERS > 1: node:cluster workers share the port and use both (all) cores. They keep no
 * per-login state of their own — everything is in Redis and PostgreSQL — so any worker can serve
 * any request. The primary migrates once, serves the admin socket (one per DATA_DIR) and
 * restarts a worker that dies.
 */
export async function runCluster(config: Config, log: Logger, startProvider: StartProvider): Promise<void> {
  if (!cluster.isPrimary) {
    const running = await startProvider({ ...config, MIGRATE_ON_START: false }, log, { adminSocket: false, clusterWorker: true });
    process.once(
      'SIGTERM',
      () =>
        void running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        ),
    );
    process.once('SIGINT', () => {}); // the primary decides; a terminal's Ctrl-C reaches us too
    return;
  }

  const saoma = await createSaoma(config, log); // migrates, once
  const adminSocket = await serveAdminSocket(config.dataDir, saoma.admin, log);
  // Every worker's metrics, gathered here: for METRICS_PORT and for workers answering /metrics.
  const metrics = primarySource();
  const metricsServer = config.METRICS_PORT ? await serveMetrics(metrics, { host: config.METRICS_HOST, port: config.METRICS_PORT, log }) : null;
  let stopping = false;
  const fork = () => cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    setTimeout(fork, 1000);
  });
  for (let i = 0; i < config.WORKERS; i++) fork();
  log.info({ workers: config.WORKERS }, 'cluster started');

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down workers');
    const exited = Object.values(cluster.workers ?? {}).map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w!.isDead()) {
            resolve();
            return;
          }
          w!.once('exit', () => resolve());
          w!.kill('SIGTERM');
        }),
    );
    await Promise.all(exited);
    await adminSocket.close();
    await metricsServer?.close();
    await saoma.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
