import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Integration files share one Docker engine and a 2-core machine; run files one at a time
    // so timings stay sane and names never race.
    fileParallelism: false,
    reporters: ['default', './test/helpers/slowest-files-reporter.ts'],
  },
});
