import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Store suites share real servers; files run in parallel workers but each uses its own prefix/table.
    pool: 'forks',
  },
});
