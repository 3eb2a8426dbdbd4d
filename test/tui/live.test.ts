// Live data and the other screens: Docker events refresh the inventory, a backup set is picked,
// a bad config edit is reported while the last good config stays, a backup made by another process
// appears in the backups screen by itself, V verifies with a gauge, and the log viewer shows the
// run's events and the log file, filterable.
import { readFile, writeFile } from 'node:fs/promises';
import { expect, it, onTestFinished } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { filterPane, makeWorld, press } from './fixture.js';

it('follows Docker, the config file and the store while open', async () => {
  const w = await makeWorld({ bigMB: 1 });
  await writeFile(
    w.config,
    `${await readFile(w.config, 'utf8')}schedule:\n  nightly: { cron: '0 3 * * *', backup_set: web }\n`,
  );
  await writeFile(
    w.config,
    (await readFile(w.config, 'utf8')).replace(
      /^backup:\n/m,
      `backup:\n  backup_sets:\n    web: { containers: [${w.c2}] }\n`,
    ),
  );
  const app = spawnTui(['-c', w.config], { cols: 120, rows: 36 });
  await app.waitFor((t) => t.includes('Containers') && t.includes('Q quit') && t.includes(w.c1), 'the dashboard');

  // a backup set from the config selects its members
  await press(app, 't');
  await app.waitFor((t) => t.includes('Backup sets') && t.includes('web  1 members'), 'the backup set pick');
  await press(app, KEYS.enter);
  await filterPane(app, w.prefix);
  await app.waitFor(
    (t) => t.includes(`[x] ${w.c2}`) && t.includes(`[ ] ${w.c1}`) && t.includes('backup set web selected'),
    'the set selected',
  );

  // C: the schedules with their next runs and last result
  await press(app, 'c');
  await app.waitFor(
    (t) =>
      t.includes('Schedules') &&
      t.includes('nightly  0 3 * * *  set web') &&
      /next +\d{4}-/.test(t) &&
      t.includes('never ran'),
    'the schedules overview',
  );
  await press(app, KEYS.escape);
  await app.waitFor((t) => !t.includes('never ran'), 'schedules closed');

  // Enter shows the details of the row under the cursor; Esc closes them
  await press(app, KEYS.down, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`container   ${w.c2}`) && t.includes(`volume ${w.v2} -> /data`),
    'the container details',
  );
  await press(app, KEYS.escape);
  await app.waitFor((t) => !t.includes(`volume ${w.v2} -> /data`), 'details closed');

  // Docker events: a new volume shows up without a key press
  await press(app, '2');
  await filterPane(app, w.prefix);
  const late = `${w.prefix}-late`;
  const docker = testDocker();
  await docker.createVolume({ Name: late, Labels: testLabels() });
  onTestFinished(() =>
    docker
      .getVolume(late)
      .remove({ force: true })
      .catch(() => undefined),
  );
  await app.waitFor((t) => t.includes(late), 'the new volume from a Docker event');

  // a bad edit is reported; the last good config stays (the set is still there)
  const before = await readFile(w.config, 'utf8');
  await writeFile(w.config, `${before}\nbackup: [broken\n`);
  await app.waitFor((t) => t.includes('config not reloaded'), 'the bad edit in the error pane');
  await press(app, 't');
  await app.waitFor((t) => t.includes('web  1 members'), 'the last good config still in use');
  await press(app, KEYS.escape);
  await writeFile(w.config, before.replace('web: {', 'db: { containers: [] }\n    web: {'));
  await app.waitFor((t) => t.includes('config reloaded'), 'the fixed config reloaded');

  // the store: a backup made by another process appears on the backups screen by itself
  await press(app, 'l');
  await app.waitFor((t) => t.includes('no backups in the store yet'), 'an empty store');
  const r = await runCli(['-c', w.config, 'backup', '-C', w.c2]);
  expect(r.exitCode, r.stderr).toBe(0);
  const listed = await app.waitFor((t) => /\d{8}T\d{6}Z .*complete/.test(t), 'the new backup listed');
  const id = /(\d{8}T\d{6}Z)/.exec(listed)![1]!;

  // V verifies it with a gauge line
  await press(app, 'v');
  await app.waitFor((t) => new RegExp(`verify ${id}.*✓ done`).test(t), 'verify done');

  // the log viewer: this run's events and the log file, filterable
  await press(app, 'g');
  await app.waitFor(
    (t) =>
      t.includes('This run') && t.includes('Log file') && t.includes(`verify ${id}`) && /INFO +\[bbackup\]/.test(t),
    'events and the log file',
  );
  await filterPane(app, 'config not');
  const filtered = await app.waitFor((t) => t.includes('This run /config not/'), 'the filtered events');
  expect(filtered).toContain('config not reloaded');
  expect(filtered.split('Log file')[0]).not.toContain(`verify ${id}`);
  await press(app, KEYS.escape, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});
