// Browse a backup on the backups screen and restore it under new names; pull a backup from a
// `local` remote on the remotes screen and restore that too. Real engine, real pty.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { runInBusybox, testDocker } from '../helpers/docker.js';
import { KEYS, spawnTui, type PtyApp } from '../helpers/pty.js';
import { makeWorld, press, type TuiWorld } from './fixture.js';

async function backupWithCli(w: TuiWorld): Promise<string> {
  const r = await runCli(['-c', w.config, 'backup', '-C', w.c2]);
  expect(r.exitCode, r.stderr).toBe(0);
  const host = (await readdir(w.store)).find((n) => !n.startsWith('.'))!;
  const ids = (await readdir(join(w.store, host))).filter((n) => /^\d{8}T\d{6}Z/.test(n));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

function removeAfter(kind: 'container' | 'volume', name: string): void {
  const docker = testDocker();
  onTestFinished(async () => {
    if (kind === 'container')
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    else
      await docker
        .getVolume(name)
        .remove({ force: true })
        .catch(() => undefined);
  });
}

/** In the open restore dialog: rename c2 and v2, review, confirm; returns the new names. */
async function restoreRenamed(app: PtyApp, w: TuiWorld): Promise<{ c: string; v: string }> {
  const c = `${w.c2}r`;
  const v = `${w.v2}r`;
  removeAfter('container', c);
  removeAfter('volume', v);
  await app.waitFor(
    (t) => t.includes(`container ${w.c2}`) && t.includes('< Review and restore >'),
    'the restore dialog',
  );
  // the cursor opens on the default button; Home: the container's box, Down: its "restore as"
  // field, which takes typed letters; two down: the volume's field
  await press(app, KEYS.home, KEYS.down);
  app.write(c);
  await press(app, KEYS.down, KEYS.down);
  app.write(v);
  await app.waitFor(
    (t) => t.includes(`restore as: ${c}`) && t.includes(`restore as: ${v}`),
    'both new names in the dialog',
  );
  // Enter in a text field confirms the dialog with the name typed (Review and restore)
  await press(app, KEYS.enter);
  const confirm = await app.waitFor(
    (t) => t.includes('Will be created:') && t.includes('Enter/y yes'),
    'the confirmation',
  );
  expect(confirm).toContain(`container ${c} (from ${w.c2})`);
  expect(confirm).toContain(`volume ${v} (from ${w.v2})`);
  expect(confirm).not.toContain('replaced');
  await press(app, KEYS.enter);
  await app.waitFor((t) => /restore .*✓ done/.test(t), 'the restore job done', 60_000);
  const docker = testDocker();
  expect((await docker.getContainer(c).inspect()).Name).toBe(`/${c}`);
  expect(await runInBusybox(docker, 'cat /v/small.txt /v/sub/n.txt', [`${v}:/v`])).toBe('small\nnested\n');
  return { c, v };
}

it('browses a local backup (items, files of a volume) and restores it under new names', async () => {
  const w = await makeWorld({ bigMB: 1 });
  const id = await backupWithCli(w);
  const app = spawnTui(['-c', w.config], { cols: 120, rows: 36 });
  await app.waitFor((t) => t.includes('Containers') && t.includes('Q quit'), 'the dashboard');
  await press(app, 'l');
  await app.waitFor((t) => t.includes('Backups') && t.includes(id) && t.includes('complete'), 'the backup listed');
  await press(app, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`Contents of ${id}`) && t.includes(`container ${w.c2}`) && t.includes(`volume    ${w.v2}`),
    'the items of the backup',
  );
  await press(app, KEYS.down, KEYS.enter);
  await app.waitFor(
    (t) => t.includes(`volume ${w.v2}: /`) && t.includes('Backspace up') && t.includes('small.txt'),
    'the files of the volume',
  );
  await press(app, KEYS.escape);
  await app.waitFor((t) => t.includes(`container ${w.c2}`) && !t.includes('Backspace up'), 'back to the items');
  await press(app, 'r');
  await restoreRenamed(app, w);
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});

it('lists a local remote, pulls a backup with progress and restores it', async () => {
  const w = await makeWorld({ bigMB: 1, remoteEnabled: true });
  const id = await backupWithCli(w);
  expect((await readdir(w.remote, { recursive: true })).some((p) => String(p).includes(id))).toBe(true);
  const host = (await readdir(w.store)).find((n) => !n.startsWith('.'))!;
  await rm(join(w.store, host, id), { recursive: true }); // only the remote holds it now
  const app = spawnTui(['-c', w.config], { cols: 120, rows: 36 });
  await app.waitFor((t) => t.includes('Containers') && t.includes('Q quit'), 'the dashboard');
  await press(app, 'o');
  await app.waitFor((t) => /nas +local/.test(t) && t.includes(id), 'the remote and its backup');
  await press(app, '2', 'f');
  await app.waitFor((t) => new RegExp(`pull ${id} from nas.*✓ done`).test(t), 'the pull done', 60_000);
  await press(app, 'l');
  await app.waitFor((t) => t.includes(id) && t.includes('complete'), 'the pulled backup in the local list');
  await press(app, 'o', '2', 'r');
  await restoreRenamed(app, w);
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});
