/**
 * The provider under test: startProvider with the environment it is given (PORT, PUBLIC_URL,
 * DATABASE_URL, REDIS_URL, REDIS_PREFIX, JWKS, COOKIE_KEYS, IDENTIFIER_SECRET, ...).
 *
 *   node --import tsx bench/server.ts [--workers N]
 *
 * --workers N runs N node:cluster workers on one port (the provider itself has no clustering
 * yet). Each worker gets DATA_DIR/w<index> for its admin socket; keys must come from the
 * environment so all workers sign and read cookies alike. Embedded storage (PGlite, memory
 * store) is single-process: use one worker there.
 *
 * Profiling: give node's own flag, e.g. `node --cpu-prof --cpu-prof-dir=DIR --import tsx
 * bench/server.ts`; workers inherit it and each writes its profile on shutdown
 * (`npm run bench -- --cpu-prof` does this).
 */
import './instrument.js';
import path from 'node:path';
import { serve } from './cluster.js';

const workersAt = process.argv.indexOf('--workers');
const workers = workersAt > 0 ? Number(process.argv[workersAt + 1]) : 1;
if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers takes a positive integer');

await serve(workers, async (index) => {
  // Imported here, in the process that serves: a cluster primary only forwards connections.
  const { loadConfig } = await import('../provider/src/config.js');
  const { createLogger } = await import('../provider/src/log.js');
  const { startProvider } = await import('../provider/src/main.js');
  const base = process.env.DATA_DIR ?? '.saoma-bench';
  const config = loadConfig({ ...process.env, DATA_DIR: path.join(base, `w${index}`) });
  if (workers > 1 && (!config.redis || !config.DATABASE_URL)) {
    throw new Error('several workers need REDIS_URL and DATABASE_URL (embedded storage is single-process)');
  }
  const running = await startProvider(config, createLogger(config.LOG_LEVEL));
  return { url: running.url, close: () => running.close() };
});
