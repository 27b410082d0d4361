import { defineConfig } from 'vitest/config';

/**
 * `npm run chaos`: every chaos scenario at full size (CHAOS_FULL=1), one file at a time so that
 * the figures are not shared with another scenario's load. `npm test` runs the reduced ones.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts', 'test/chaos/**/*.chaos.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    env: { CHAOS_FULL: '1' },
  },
});
