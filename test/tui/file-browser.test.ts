// The backups screen's file browser on the real program: = lists exactly what changed in the live
// volume since the backup, a file marked there is restored into the live volume (the current one
// kept as NAME.bbackup-TIME), a folder is restored to a host folder typed in the dialog, V shows a
// file; and the containers pane colours each container's backup age against its schedule.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { mountpointOf } from '../helpers/volume-data.js';
import { filterPane, makeWorld, press } from './fixture.js';

it('diff, restore a file into the live volume and a folder to a host dir, view a file', async () => {
  const w = await makeWorld({ bigMB: 1 });
  const r = await runCli(['-c', w.config, 'backup', '-C', w.c2]);
  expect(r.exitCode, r.stderr).toBe(0);
  const mp = await mountpointOf(testDocker(), w.v2);
  await writeFile(join(mp, 'small.txt'), 'changed in the live volume\n');
  await writeFile(join(mp, 'new.txt'), 'added\n');
  await rm(join(mp, 'sub/n.txt'));

  const app = spawnTui(['-c', w.config], { cols: 120, rows: 36 });
  await app.waitFor((t) => t.includes('Containers') && t.includes('Q quit'), 'the dashboard');
  await press(app, 'l');
  await app.waitFor((t) => t.includes('Backups') && t.includes('complete'), 'the backup listed');
  await press(app, KEYS.enter);
  await app.waitFor((t) => t.includes(`volume    ${w.v2}`), 'the items of the backup');
  await press(app, KEYS.down, '=');
  const diff = await app.waitFor((t) => t.includes(`diff of volume ${w.v2}`), 'the diff list');
  expect(diff).toContain('1 added, 1 removed, 1 changed');
  const rows = diff.split('\n').filter((l) => /\[[ x]\] [+~-] /.test(l.replace(/│/g, '').trim()));
  expect(rows.map((l) => l.replace(/│/g, '').trim().slice(4).trim())).toEqual([
    '+ new.txt added',
    '~ small.txt (size, mtime)',
    '- sub/n.txt removed',
  ]);

  // from the diff: mark small.txt, R, Enter = into the live volume
  await filterPane(app, 'small');
  await press(app, KEYS.space, 'r');
  await app.waitFor((t) => t.includes('into the volume') && t.includes('  small.txt'), 'the file restore dialog');
  await press(app, KEYS.enter);
  await app.waitFor((t) => /restored small\.txt into volume/.test(t), 'the file restored');
  expect(await readFile(join(mp, 'small.txt'), 'utf8')).toBe('small\n');
  const kept = (await readdir(mp)).filter((n) => n.startsWith('small.txt.bbackup-'));
  expect(kept).toHaveLength(1);
  expect(await readFile(join(mp, kept[0]!), 'utf8')).toBe('changed in the live volume\n');

  // the browser: Enter on the volume, the folder sub to a host dir
  await press(app, KEYS.escape);
  await app.waitFor((t) => t.includes(`volume    ${w.v2}`) && !t.includes('diff of volume'), 'back to the items');
  await press(app, KEYS.down, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`volume ${w.v2}: /`) && t.includes('sub/') && t.includes('small.txt'),
    'the root folder',
  );
  await filterPane(app, 'sub');
  await press(app, KEYS.space, 'r');
  await app.waitFor((t) => t.includes('to a host folder'), 'the file restore dialog');
  const out = await mkdtemp(join(w.dir, 'out-'));
  await press(app, 't');
  await app.waitFor((t) => t.includes('restore to host folder:'), 'the folder prompt');
  app.write(out);
  await press(app, KEYS.enter);
  await app.waitFor((t) => t.includes('restored sub into'), 'the folder restored');
  expect(await readFile(join(out, 'sub/n.txt'), 'utf8')).toBe('nested\n');

  // into the folder and back; V shows a file
  await press(app, KEYS.enter);
  await app.waitFor((t) => t.includes(`volume ${w.v2}: /sub`) && t.includes('n.txt'), 'the folder sub');
  await press(app, KEYS.backspace);
  await app.waitFor((t) => t.includes(`volume ${w.v2}: /  `), 'the root again');
  await filterPane(app, 'small');
  await press(app, 'v');
  // the viewer shows the saved text
  await app.waitFor((t) => t.includes(`small.txt (${w.v2} in`) && /│small +│/.test(t), 'the viewer with the text');
  await press(app, KEYS.escape, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
}, 300_000);

it('freshness: green for a container backed up now, yellow for one overdue, red for one never', async () => {
  const w = await makeWorld({ bigMB: 1 });
  const c3 = await createTestContainer(testDocker(), 'tui', {}, false);
  await writeFile(
    w.config,
    `${await readFile(w.config, 'utf8')}schedule:\n  hourly: {cron: "0 * * * *", containers: [${w.c1}, ${w.c2}, ${c3}]}\n`,
  );
  const backup = async (c: string) => {
    const r = await runCli(['-c', w.config, '--json', 'backup', '-C', c]);
    expect(r.exitCode, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { id: string }).id;
  };
  // c3's backup finished 90 minutes ago: late against the hourly schedule (within two periods)
  const oldId = await backup(c3);
  const host = (await readdir(w.store)).find((d) => !d.startsWith('.'))!;
  const manifestPath = join(w.store, host, oldId, 'manifest.json');
  const m = JSON.parse(await readFile(manifestPath, 'utf8')) as { created: string; finished: string };
  const then = new Date(Date.now() - 90 * 60_000).toISOString();
  await writeFile(manifestPath, JSON.stringify({ ...m, created: then, finished: then }));
  await backup(w.c2);
  const app = spawnTui(['-c', w.config], { cols: 140, rows: 36 });
  const screen = await app.waitFor(
    (t) =>
      new RegExp(`${w.c2}\\s+\\S+\\s+\\d+[sm] `).test(t) &&
      new RegExp(`${w.c1}\\s+\\S+\\s+never`).test(t) &&
      new RegExp(`${c3}\\s+\\S+\\s+1h `).test(t),
    'the backup ages',
  );
  const age = new RegExp(`${w.c2}\\s+\\S+\\s+(\\d+[sm]) `).exec(screen)![1]!;
  // the late one: "1h" in yellow (palette 3 or 11)
  expect(screen).toMatch(new RegExp(`${c3}\\s+\\S+\\s+1h `));
  expect([3, 11]).toContain(app.style('1h ')!.fg);
  expect(app.style(`${age} `)).toMatchObject({ palette: true });
  expect([2, 10]).toContain(app.style(`${age} `)!.fg);
  // "never never": the backup age, then the drill column (gray "never" on every undrilled row)
  expect([1, 9]).toContain(app.style('never never')!.fg);
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
}, 300_000);
