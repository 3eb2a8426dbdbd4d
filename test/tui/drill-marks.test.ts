// The proof next to each container: after a real `bbackup drill` of one container, the dashboard
// marks it "passed MM-DD" and the other "never"; Enter shows the drill in the details, and the
// schedules overlay lists a drill: true schedule as a drill.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { DrillReport } from '../../src/drill/types.js';
import { runCli } from '../helpers/cli.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { filterPane, makeWorld, press } from './fixture.js';

it('marks each container with its last drill', async () => {
  const w = await makeWorld({ bigMB: 1 });
  await writeFile(
    w.config,
    `${await readFile(w.config, 'utf8')}schedule:\n  proof: { cron: '0 4 * * *', drill: true, containers: [${w.c1}] }\n`,
  );
  const env = { HOME: w.dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined, TZ: 'UTC' };
  const b = await runCli(['-c', w.config, 'backup', '-C', w.c1], { env });
  expect(b.exitCode, b.stderr).toBe(0);
  const d = await runCli(['-c', w.config, '--json', 'drill', '-C', w.c1], { env });
  expect(d.exitCode, d.stderr + d.stdout).toBe(0);
  const report = JSON.parse(d.stdout) as DrillReport;
  const day = report.finished.slice(5, 10); // MM-DD in UTC, the terminal's TZ
  const hostFolder = (await readdir(w.store)).find((x) => !x.startsWith('.'))!;
  expect(await readdir(join(w.store, hostFolder, '.drills'))).toEqual([`${report.id}.json`]);

  const app = spawnTui(['-c', w.config], { cols: 160, rows: 40, env: { TZ: 'UTC' } });
  await app.waitFor((t) => t.includes('Containers') && t.includes(w.c1), 'the dashboard');
  await filterPane(app, w.prefix);
  const rowOf = (t: string, name: string) => t.split('\n').find((l) => l.includes(`] ${name} `)) ?? '';
  const screen = await app.waitFor(
    (t) => /passed \d\d-\d\d/.test(rowOf(t, w.c1)) && rowOf(t, w.c2).includes('never'),
    'the drill marks',
  );
  // the backup-age column (freshness) may sit between the state and the drill mark once it loaded
  expect(rowOf(screen, w.c1)).toMatch(new RegExp(`${w.c1} +created +(?:\\S+ +)?passed ${day} `));
  expect(rowOf(screen, w.c2)).toMatch(new RegExp(`${w.c2} +created +(?:\\S+ +)?never `));

  // Enter on the first row: the drill and its backup in the details
  await press(app, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`last drill  passed `) && t.includes(`(drill ${report.id} of backup ${report.backup_id})`),
    'the drill in the details',
  );
  await press(app, KEYS.escape);

  // C: the drill schedule in the schedules overlay
  await press(app, 'c');
  await app.waitFor((t) => t.includes(`proof  0 4 * * *  drill of containers ${w.c1}`), 'the drill schedule');
  await press(app, KEYS.escape);
  app.kill('SIGTERM');
  await app.waitExit();
}, 600_000);
