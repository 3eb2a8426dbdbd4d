import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Test files run in parallel worker processes against the one engine of the run (global setup):
// every Docker object a file makes carries its worker's pid in its name and the run's label
// (test/helpers/names.ts), and no test depends on being alone on the engine. Most of a file's time
// is waiting on dockerd, sshd and child processes, so a 2-core machine runs 3 files at once; at
// most 4, the most the one engine has been tried with. BBACKUP_TEST_WORKERS overrides the number.
const workers = Number(process.env.BBACKUP_TEST_WORKERS) || Math.min(4, availableParallelism() + 1);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: workers > 1,
    maxWorkers: workers,
    reporters: ['default', './test/helpers/slowest-files-reporter.ts'],
  },
});
