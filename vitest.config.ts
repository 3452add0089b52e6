import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['provider/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files start their own servers and databases; keep CPU contention sane on 2 cores.
    maxWorkers: 2,
    pool: 'forks',
  },
});
