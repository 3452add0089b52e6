import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LoginStage } from '../login/store.js';

/**
 * What one provider process measures, in its own prom-client Registry (never the global one:
 * tests run several instances in one process). Served at /metrics (metrics/endpoint.ts).
 * Labels stay bounded: `app` is a registered AppID (the login core only ever sees those), routes
 * are templates (metrics/http.ts), never a user, a URL or an address.
 */
export type Metrics = ReturnType<typeof createMetrics>;

/** The backing services, as the health check names them. */
export type Backend = 'database' | 'store';

export interface MetricSources {
  /** Pages waiting on a login now (SSE streams and long-polls: login/events.ts). */
  waiting(): number;
  /** True when the service answers (db.ping(), store.ping()). */
  ping: Record<Backend, () => Promise<boolean>>;
}

/** A scrape must not hang on a blackholed database: a ping that takes longer counts as down. */
const PING_TIMEOUT_MS = 2_000;

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  // Unprefixed (process_cpu_seconds_total, nodejs_heap_size_used_bytes...), as dashboards expect them.
  collectDefaultMetrics({ register: registry });
  let sources: MetricSources | undefined;

  const logins = new Counter({
    name: 'saoma_logins_total',
    help: 'QR logins by app and stage: created (a QR shown), scanned, confirmed, denied, expired (scanned, then undecided past QR_TTL; counted when the page gets its next QR), completed (the site received its code)',
    labelNames: ['app', 'stage'] as const,
    registers,
  });
  const notify = new Histogram({
    name: 'saoma_login_notify_seconds',
    help: "From a phone's decision being published to a waiting page (SSE stream or long-poll, on any instance) sending it to its browser",
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  new Gauge({
    name: 'saoma_waiting_pages',
    help: 'QR pages waiting on a login now (open SSE streams and long-polls) in this process',
    registers,
    collect() {
      this.set(sources?.waiting() ?? 0);
    },
  });
  const http = new Histogram({
    name: 'saoma_http_request_duration_seconds',
    help: 'HTTP requests by method, route template and status (SSE streams last as long as they are open)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const backendErrors = new Counter({
    name: 'saoma_backend_errors_total',
    help: 'Requests that failed because a backing service did not answer (answered 503), by service: database, store (Redis), unknown (a bare socket error)',
    labelNames: ['backend'] as const,
    registers,
  });
  new Gauge({
    name: 'saoma_backend_up',
    help: 'Whether the backing service answers a ping at scrape time (1) or not (0): database, store (Redis or the in-memory store)',
    labelNames: ['backend'] as const,
    // Across cluster workers: down when any worker finds it down.
    aggregator: 'min',
    registers,
    async collect() {
      if (!sources) return;
      const checks = Object.entries(sources.ping) as Array<[Backend, () => Promise<boolean>]>;
      const results = await Promise.all(checks.map(([, ping]) => within(ping(), PING_TIMEOUT_MS)));
      checks.forEach(([backend], i) => this.set({ backend }, results[i] ? 1 : 0));
    },
  });
  const refusals = new Counter({
    name: 'saoma_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit, by limit (http/rate-limit.ts: phone-login, qr-create, client-auth, wechat, ...)',
    labelNames: ['limit'] as const,
    registers,
  });

  return {
    registry,
    /** What the gauges read at scrape time; set once the login core and the stores exist. */
    setSources(s: MetricSources) {
      sources = s;
    },
    loginStage: (stage: LoginStage, app: string) => logins.inc({ app, stage }),
    notified: (outcome: 'confirmed' | 'denied', ms: number) => notify.observe({ outcome }, Math.max(0, ms) / 1000),
    request: (labels: { method: string; route: string; status: string }, seconds: number) => http.observe(labels, seconds),
    backendError: (backend: Backend | 'unknown') => backendErrors.inc({ backend }),
    rateLimited: (limit: string) => refusals.inc({ limit }),
  };
}

async function within(check: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([check.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
