import { pathToFileURL } from 'node:url';
import { serveAdminSocket } from './admin/api/socket.js';
import { createSaoma } from './app.js';
import { runCluster } from './cluster.js';
import { loadConfig, type Config } from './config.js';
import { createServer, schemeOf } from './http/tls.js';
import { createLogger, type Logger } from './log.js';
import type { Clock } from './login/clock.js';
import { registrySource, serveMetrics, workerSource } from './metrics/endpoint.js';

export interface RunningProvider {
  url: string;
  saoma: Awaited<ReturnType<typeof createSaoma>>;
  close(): Promise<void>;
}

/**
 * Starts one provider instance: HTTP(S) on PORT and, unless told otherwise (cluster workers,
 * whose primary serves it), the admin API on DATA_DIR/admin.sock.
 */
export async function startProvider(
  config: Config = loadConfig(),
  log: Logger = createLogger(config.LOG_LEVEL),
  opts: { adminSocket?: boolean; clock?: Clock; clusterWorker?: boolean } = {},
): Promise<RunningProvider> {
  // A cluster worker's /metrics covers every worker; the primary serves METRICS_PORT (cluster.ts).
  const saoma = await createSaoma(config, log, { clock: opts.clock, ...(opts.clusterWorker ? { metricsSource: workerSource } : {}) });
  const tls = { certFile: config.TLS_CERT_FILE, keyFile: config.TLS_KEY_FILE };
  const server = createServer(saoma.app, tls);
  // SSE streams and long-polls hold connections; keep-alive past typical proxy idle timeouts.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(config.PORT, config.HOST, resolve));
  const adminSocket = opts.adminSocket === false ? null : await serveAdminSocket(config.dataDir, saoma.admin, log);
  const metricsServer =
    config.METRICS_PORT && !opts.clusterWorker
      ? await serveMetrics(registrySource(saoma.metrics.registry), { host: config.METRICS_HOST, port: config.METRICS_PORT, log })
      : null;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log.info({ issuer: config.issuer, port, database: saoma.db.kind, store: saoma.store.kind }, 'provider listening');

  let closing: Promise<void> | undefined;
  return {
    url: `${schemeOf(tls)}://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`,
    saoma,
    close: () =>
      (closing ??= (async () => {
        // Readiness goes first; the listener stays open SHUTDOWN_DELAY seconds so load balancers
        // polling /readyz (or slow to drop this endpoint) stop sending before connections are refused.
        saoma.beginDraining();
        if (config.SHUTDOWN_DELAY > 0) await new Promise((r) => setTimeout(r, config.SHUTDOWN_DELAY * 1000));
        await adminSocket?.close();
        await metricsServer?.close();
        // Stop accepting, let requests in flight finish, end idle and streaming connections.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        saoma.beginShutdown(); // SSE streams end, long-polls answer with the current status
        // Keep-alive connections go idle as their last response ends: close each as it does.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
        await closed;
        clearInterval(sweep);
        await saoma.close();
      })()),
  };
}

/** `tsx provider/src/main.ts`: one instance, or WORKERS processes sharing the port. */
export async function main(config: Config = loadConfig()) {
  const log = createLogger(config.LOG_LEVEL);
  if (config.WORKERS > 1) return runCluster(config, log, startProvider);
  const running = await startProvider(config, log);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal, delaySeconds: config.SHUTDOWN_DELAY }, 'shutting down');
      running.close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // A provider that cannot start says why in a sentence (bad configuration, a database it
  // cannot reach), not with a stack; LOG_LEVEL=debug shows the stack too.
  await main().catch((err: unknown) => {
    console.error(`saoma: cannot start: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.LOG_LEVEL === 'debug' || process.env.LOG_LEVEL === 'trace') console.error(err);
    process.exit(1);
  });
}
