// The remotes screen shows each remote's figures as the engine computes them: number of backups,
// bytes stored, the dedup ratio and what a new backup would add. Real engine, real pty, a
// `local` remote holding two backups; the same figures as `bbackup remote-stats --json`.
import { expect, it } from 'vitest';
import { formatBytes } from '../../src/format/units.js';
import { runCli } from '../helpers/cli.js';
import { spawnTui } from '../helpers/pty.js';
import { makeWorld, press } from './fixture.js';

interface Stats {
  remote: string;
  backups: number;
  stored: number;
  dedupRatio?: number;
  wouldAdd?: { bytes: number; of: number };
}

it('shows backups, stored size, dedup ratio and what a new backup adds for a local remote with two backups', async () => {
  const w = await makeWorld({ bigMB: 1, remoteEnabled: true });
  for (let i = 0; i < 2; i++) {
    const r = await runCli(['-c', w.config, 'backup', '-C', w.c2]);
    expect(r.exitCode, r.stderr).toBe(0);
  }
  const cli = await runCli(['-c', w.config, '--json', 'remote-stats']);
  expect(cli.exitCode, cli.stderr).toBe(0);
  const stats = (JSON.parse(cli.stdout) as { remotes: Stats[] }).remotes.find((r) => r.remote === 'nas')!;
  expect(stats.backups).toBe(2);
  expect(stats.stored).toBeGreaterThan(0);
  expect(stats.dedupRatio).toBeGreaterThan(1); // the second backup shares the first's contents
  expect(stats.wouldAdd).toBeDefined();
  const want = [
    '2 backups',
    `${formatBytes(stats.stored)} stored`,
    `dedup ${stats.dedupRatio!.toFixed(2)}x`,
    `new backup adds ~${formatBytes(stats.wouldAdd!.bytes)} of ${formatBytes(stats.wouldAdd!.of)}`,
  ];

  const app = spawnTui(['-c', w.config], { cols: 140, rows: 36 });
  await app.waitFor((t) => t.includes('Containers') && t.includes('Q quit'), 'the dashboard');
  await press(app, 'o');
  await app.waitFor((t) => want.every((x) => t.includes(x)), `the figures of nas: ${want.join(', ')}`, 60_000);
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});
