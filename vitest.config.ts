import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['provider/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault tests kill and restart servers of their own: scripts/fault-tests.sh runs them alone.
    exclude: process.env.SAOMA_FAULTS ? ['**/node_modules/**'] : ['**/node_modules/**', 'test/faults/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files start their own servers and databases; keep CPU contention sane on 2 cores.
    maxWorkers: 2,
    pool: 'forks',
  },
});
