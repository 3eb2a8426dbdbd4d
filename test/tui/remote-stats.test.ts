// The remotes screen shows each remote's figures as the engine computes them: number of backups,
// bytes stored, the dedup ratio and what a new backup would add. Real engine, real pty, a
// `local` remote holding two backups; the same figures as `bbackup remote-stats --json`. Then a
// third backup made in the TUI uploads and its row says what it sent and what was already there.
import { expect, it } from 'vitest';
import { formatBytes } from '../../src/format/units.js';
import { runCli } from '../helpers/cli.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { makeWorld, openBackupDialogFor, press } from './fixture.js';

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

  // a third backup of c2 from the TUI: its contents are on the remote already
  await press(app, 'd');
  await app.waitFor((t) => t.includes(w.c2) && t.includes('B backup'), 'the dashboard again');
  await openBackupDialogFor(app, w.c2);
  await press(app, KEYS.enter);
  const done = await app.waitFor(
    (t) => /upload nas +✓ done/.test(t) && /backup .*done/.test(t),
    'the backup and its upload done',
    60_000,
  );
  const rows = done.split('\n');
  const under = rows[rows.findIndex((l) => /upload nas +✓ done/.test(l)) + 1] ?? '';
  const m = /sent (\S+ \S+), (\S+ \S+) already there \(\d+ packs?\)/.exec(under);
  expect(m, under).not.toBeNull();
  expect(m![2]).not.toBe('0 B'); // the volume's contents were not sent again
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});
