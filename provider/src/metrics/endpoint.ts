import cluster from 'node:cluster';
import http from 'node:http';
import express, { Router, type RequestHandler } from 'express';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { errorHandler, renderJson } from '../http/render.js';
import type { Logger } from '../log.js';
import { unavailable } from '../errors.js';

/**
 * Serving /metrics. Two ways in, documented in the README ("Metrics"):
 * - on the provider's own port, behind an admin token (`Authorization: Bearer sat_…`, as
 *   /api/admin): the default, nothing to configure;
 * - on METRICS_HOST:METRICS_PORT without a token, for a scraper on a private network: that
 *   listener serves nothing else.
 * With WORKERS > 1 every answer covers the whole process group: a worker asks the primary,
 * which gathers every worker's registry (prom-client's AggregatorRegistry: counters and
 * histograms summed, `saoma_backend_up` the minimum), so a scrape never depends on which worker
 * the connection landed on.
 */
interface Exposition {
  contentType: string;
  body: string;
}
export type MetricsSource = () => Promise<Exposition>;

export const registrySource =
  (registry: Registry): MetricsSource =>
  async () => ({ contentType: registry.contentType, body: await registry.metrics() });

/** GET /metrics behind `guards` (the admin token); errors as our JSON. */
export function metricsRoutes(source: MetricsSource, guards: RequestHandler[], log: Logger): Router {
  const router = Router();
  router.get('/metrics', ...guards, async (_req, res) => {
    const { contentType, body } = await source();
    res.set('Cache-Control', 'no-store').type(contentType).send(body);
  });
  router.use('/metrics', errorHandler(log, renderJson));
  return router;
}

/** The separate METRICS_HOST:METRICS_PORT listener: /metrics only, no token. */
export async function serveMetrics(source: MetricsSource, opts: { host: string; port: number; log: Logger }): Promise<{ close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(metricsRoutes(source, [], opts.log));
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, opts.host, resolve));
  opts.log.info({ host: opts.host, port: opts.port }, 'metrics listening');
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ASK = 'saoma:metrics?';
const ANSWER = 'saoma:metrics';
interface Answer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  contentType?: string;
  error?: string;
}

/**
 * A cluster worker: answers the primary's gathering with this registry, and its own /metrics
 * by asking the primary for everyone's.
 */
export function workerSource(registry: Registry): MetricsSource {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry(); // installs the worker's side of prom-client's gathering (process 'message')
  let next = 0;
  return () =>
    new Promise<Exposition>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => done({ type: ANSWER, id, error: 'the primary did not answer' }), 10_000);
      const onMessage = (message: unknown) => {
        const answer = message as Partial<Answer> | null;
        if (answer?.type === ANSWER && answer.id === id) done(answer as Answer);
      };
      function done(answer: Answer) {
        clearTimeout(timer);
        process.off('message', onMessage);
        if (answer.error !== undefined || answer.body === undefined) reject(unavailable(`Metrics could not be gathered: ${answer.error ?? 'no answer'}.`));
        else resolve({ contentType: answer.contentType ?? 'text/plain', body: answer.body });
      }
      process.on('message', onMessage);
      process.send!({ type: ASK, id });
    });
}

/** The cluster primary: gathers every worker's metrics, for its own listener and for workers that ask. */
export function primarySource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  const gather: MetricsSource = async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() });
  cluster.on('message', (worker, message: unknown) => {
    const asked = message as { type?: unknown; id?: unknown } | null;
    if (asked?.type !== ASK || typeof asked.id !== 'number') return;
    const id = asked.id;
    gather().then(
      ({ body, contentType }) => worker.send({ type: ANSWER, id, body, contentType } satisfies Answer),
      (err: unknown) => worker.send({ type: ANSWER, id, error: err instanceof Error ? err.message : String(err) } satisfies Answer),
    );
  });
  return gather;
}
