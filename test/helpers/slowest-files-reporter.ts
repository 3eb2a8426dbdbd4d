// Prints the ten slowest test files after a run, so a file that grows slow is seen at once
// (issue 12: the suite must stay within minutes), and the run's wall time against the sum of its
// files' times (files run in parallel: vitest.config.ts). Per file: tests and hooks together.
import type { Reporter, TestModule } from 'vitest/node';

export default class SlowestFilesReporter implements Reporter {
  private started = Date.now();

  onTestRunStart(): void {
    this.started = Date.now();
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const all = testModules.map((m) => ({ file: m.relativeModuleId, ms: m.diagnostic().duration }));
    if (all.length === 0) return;
    const rows = [...all].sort((a, b) => b.ms - a.ms).slice(0, 10);
    const lines = rows.map((r) => `  ${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.file}`);
    const sum = all.reduce((s, r) => s + r.ms, 0) / 1000;
    const wall = (Date.now() - this.started) / 1000;
    process.stdout.write(
      `\nSlowest test files:\n${lines.join('\n')}\n` +
        `${all.length} files: ${wall.toFixed(0)} s wall, ${sum.toFixed(0)} s summed over the files\n`,
    );
  }
}
