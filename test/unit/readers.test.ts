// Readers (restore, pull, verify) and rotation: a backup with a live reader is kept and shown as
// in use; a dead reader's mark protects nothing; a reader never registers on a backup being
// removed; leftovers of killed runs (.removing-*, .pull-*, dead marks) go, a live run's stay.
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { policyFrom, rotateLocal } from '../../src/jobs/rotate.js';
import { currentRun, type RunIdentity } from '../../src/process-identity.js';
import { removeLeftovers } from '../../src/store/leftovers.js';
import { STALE_AFTER_MS } from '../../src/store/lock.js';
import type { Manifest } from '../../src/store/manifest.js';
import { READER_PREFIX, readerForDir, readMarks, registerReader, withBackupReader } from '../../src/store/readers.js';
import { removeLocalBackup } from '../../src/store/remove-backup.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'bbt-lock-readers-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const deadPid = (): number => Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
const manifest = (id: string): Manifest => ({
  format: 1,
  id,
  host: 'h',
  created: '',
  finished: '',
  tool: { name: 'bbackup', version: '0' },
  status: 'complete',
  scope: { containers: true, volumes: true, networks: true },
  compression: { method: 'zstd', level: 3 },
  encrypted: false,
  items: [],
  errors: [],
});

async function backupIn(host: string, id: string): Promise<string> {
  const dir = join(host, id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest(id)));
  return dir;
}

/** A mark as another run would have left it. */
async function markOf(
  host: string,
  run: RunIdentity,
  backup: string,
  o: { work?: string; ageMs?: number } = {},
): Promise<void> {
  await mkdir(host, { recursive: true });
  const path = join(host, `${READER_PREFIX}${run.runId}-x.json`);
  await writeFile(path, JSON.stringify({ version: 1, run, backup, purpose: 'restore', started: '', work: o.work }));
  if (o.ageMs) {
    const t = new Date(Date.now() - o.ageMs);
    await utimes(path, t, t);
  }
}

const A = '20200101T000000Z';
const B = '20200102T000000Z';

describe('removing a backup', () => {
  it('keeps it while a live reader uses it, removes it once the reader is done', async () => {
    const host = await tmp();
    await backupIn(host, A);
    const reader = await registerReader(host, A, 'verify');
    expect(await removeLocalBackup(host, A)).toEqual({ removed: false, inUseBy: `verify pid ${process.pid}` });
    expect(await readdir(join(host, A))).toContain('manifest.json');
    await reader.release();
    expect(await removeLocalBackup(host, A)).toEqual({ removed: true });
    expect(await readdir(host)).toEqual([]); // a reader that is done leaves nothing
  });

  it.each<[string, () => RunIdentity, number, boolean]>([
    ['a dead run', () => ({ ...currentRun(), runId: 'dead', pid: deadPid() }), 0, true],
    ['a recycled pid', () => ({ ...currentRun(), runId: 'recycled', startTime: '1' }), 0, true],
    ['a run on another machine, fresh', () => ({ ...currentRun(), runId: 'far', hostname: 'elsewhere' }), 0, false],
    [
      'a run on another machine, silent',
      () => ({ ...currentRun(), runId: 'far', hostname: 'elsewhere' }),
      STALE_AFTER_MS + 5000,
      true,
    ],
  ])('a mark of %s: removed=%s', async (_n, run, ageMs, removed) => {
    const host = await tmp();
    await backupIn(host, A);
    await markOf(host, run(), A, { ageMs });
    expect((await removeLocalBackup(host, A)).removed).toBe(removed);
  });

  it('a reader cannot register on a backup that rotation took away', async () => {
    const host = await tmp();
    await backupIn(host, A);
    expect(await removeLocalBackup(host, A)).toEqual({ removed: true });
    await expect(registerReader(host, A, 'restore')).rejects.toThrow(`backup ${A} is no longer in ${host}`);
    expect((await readMarks(host)).length).toBe(0);
  });

  it('rotation keeps a backup in use and says why', async () => {
    const host = await tmp();
    await backupIn(host, A);
    await backupIn(host, B);
    const policy = policyFrom(
      parseConfigObject({ retention: { last: 1, daily: 0, weekly: 0, monthly: 0, yearly: 0 } }).retention,
    );
    const r = await withBackupReader(host.slice(0, host.lastIndexOf('/')), join(host, A), 'restore', () =>
      rotateLocal(host, 'h', policy, { dryRun: false, signal: new AbortController().signal }),
    );
    expect(r.removed).toEqual([]);
    expect(r.plan.decisions.find((d) => d.id === A)).toMatchObject({
      keep: true,
      reasons: [`in use by restore pid ${process.pid}`],
    });
    expect(r.plan.remove).toEqual([]);
    expect(
      (await rotateLocal(host, 'h', policy, { dryRun: false, signal: new AbortController().signal })).removed,
    ).toEqual([A]);
  });

  it('only backups of the store get a mark', async () => {
    const store = await tmp();
    const host = join(store, 'h');
    await backupIn(host, A);
    const copy = await backupIn(join(await tmp(), 'usb'), A);
    expect(await readerForDir(store, copy, 'verify')).toBeUndefined();
    const r = await readerForDir(store, join(host, A), 'verify');
    expect(r).toBeDefined();
    expect((await readMarks(host)).map((m) => m.mark?.backup)).toEqual([A]);
    await r!.release();
    expect(await readMarks(host)).toEqual([]);
  });
});

describe('leftovers of killed runs', () => {
  it("removes .removing-*, dead pulls' work folders and dead marks; never a live run's", async () => {
    const host = await tmp();
    await backupIn(host, A);
    for (const n of [`.removing-${B}`, '.pull-live-aaaaaa', '.pull-dead-bbbbbb', '.pull-nomark-cccccc'])
      await mkdir(join(host, n, 'x'), { recursive: true });
    const live = await registerReader(host, 'live', 'pull', { mustExist: false, work: '.pull-live-aaaaaa' });
    await markOf(host, { ...currentRun(), runId: 'dead', pid: deadPid() }, 'dead', { work: '.pull-dead-bbbbbb' });
    const removed = await removeLeftovers(host);
    expect(removed.sort()).toEqual([`.removing-${B}`, '.pull-dead-bbbbbb', '.pull-nomark-cccccc'].sort());
    expect((await readdir(host)).filter((n) => !n.startsWith(READER_PREFIX)).sort()).toEqual(
      ['.pull-live-aaaaaa', A].sort(),
    );
    expect((await readMarks(host)).map((m) => m.mark?.work)).toEqual(['.pull-live-aaaaaa']);
    await live.release();
  });
});
