import { defineConfig } from 'vitest/config';

// One run covers every package's unit tests (beside the code), package integration tests
// (packages/*/test) and cross-package tests (test/e2e). VM tests boot real QEMU guests under TCG,
// so they get long timeouts and run one file at a time per worker.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
