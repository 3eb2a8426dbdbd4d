// The dashboard drives a real backup in a real pseudo-terminal: select two containers and a volume,
// start it from the scope dialog, watch gauges and rates move, pause (nothing grows) and resume,
// skip the running volume (reported skipped, the rest completes), then check the store.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { filterPane, makeWorld, overallAmount, press } from './fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('selects two containers and a volume, backs them up, pauses, resumes and skips', async () => {
  const w = await makeWorld({ bigMB: 250 });
  const app = spawnTui(['-c', w.config], { cols: 120, rows: 36 });
  await app.waitFor(
    (t) =>
      t.includes('Containers') &&
      t.includes('Transfer rate') &&
      t.includes('Overall') &&
      t.includes('B backup') &&
      t.includes(w.c1),
    'the dashboard with our containers',
  );

  await filterPane(app, w.prefix);
  await press(app, KEYS.space, KEYS.down, KEYS.space);
  await app.waitFor((t) => t.includes(`[x] ${w.c1}`) && t.includes(`[x] ${w.c2}`), 'both containers selected');
  await press(app, KEYS.tab);
  await filterPane(app, w.v3);
  await press(app, KEYS.space);
  await app.waitFor((t) => t.includes(`[x] ${w.v3}`), 'volume v3 selected');

  await press(app, 'b');
  await app.waitFor(
    (t) => t.includes('Back up 2 container(s), 1 volume(s)') && t.includes('< Start backup >'),
    'the scope dialog',
  );
  // End = the last button (Cancel); the one above it starts
  await press(app, KEYS.end, KEYS.up, KEYS.enter);

  // gauges and the rate move
  const first = await app.waitFor(
    (t) => /volume \S+-v1 +\S*█/.test(t) && /now [1-9][\d.]* [KM]B\/s/.test(t) && overallAmount(t) !== undefined,
    'v1 transferring with a rate',
  );
  const later = await app.waitFor((t) => overallAmount(t) !== overallAmount(first), 'the overall amount to grow');
  expect(overallAmount(later)).not.toBe(overallAmount(first));

  // pause: the amount stops growing
  await press(app, 'p');
  await app.waitFor((t) => t.includes('PAUSED'), 'PAUSED');
  await sleep(1200);
  const paused = overallAmount(app.text());
  await sleep(2500);
  expect(overallAmount(app.text())).toBe(paused);

  // resume: it grows again
  await press(app, 'p');
  await app.waitFor((t) => !t.includes('PAUSED') && overallAmount(t) !== paused, 'growth after resume');

  // skip the running volume (v1); v2 and v3 still complete
  await press(app, 's');
  await app.waitFor((t) => new RegExp(`volume ${w.v1} +\\S+ skipped`).test(t), 'v1 reported skipped');
  const end = await app.waitFor(
    (t) => /backup .*partial/.test(t),
    'the job to end (partial: one item skipped)',
    90_000,
  );
  expect(end).toMatch(new RegExp(`volume ${w.v3} +✓ done`));
  expect(end).toMatch(new RegExp(`volume ${w.v2} +✓ done`));

  const hostDirs = (await readdir(w.store)).filter((n) => !n.startsWith('.'));
  const ids = (await readdir(join(w.store, hostDirs[0]!))).filter((n) => /^\d{8}T\d{6}Z/.test(n));
  expect(ids).toHaveLength(1);
  const manifest = JSON.parse(await readFile(join(w.store, hostDirs[0]!, ids[0]!, 'manifest.json'), 'utf8')) as {
    items: { kind: string; name: string }[];
    errors: { name: string; code: string }[];
  };
  const names = manifest.items.map((i) => `${i.kind} ${i.name}`);
  expect(names).toEqual(
    expect.arrayContaining([`container ${w.c1}`, `container ${w.c2}`, `volume ${w.v2}`, `volume ${w.v3}`]),
  );
  expect(names).not.toContain(`volume ${w.v1}`);
  expect(manifest.errors.map((e) => e.name)).toContain(w.v1);

  await press(app, 'q');
  const { exitCode } = await app.waitExit();
  expect(exitCode).toBe(0);
  expect(app.bufferType()).toBe('normal');
  expect(app.cursorHidden()).toBe(false);
});
