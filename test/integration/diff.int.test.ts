// `bbackup diff ID -V vol [--deep]` on backups made by the real CLI in both formats: after a file
// is changed, one added and one removed in the live volume, exactly those are listed; a content
// change that keeps size and mtime is found only with --deep. Exit 0 with differences.
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDocker } from '../helpers/docker.js';
import { backedUpVolume, filesConfig } from '../helpers/files-cli.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-diff-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface DiffDoc {
  added: number;
  removed: number;
  changed: number;
  entries: { path: string; change: string; fields?: string[] }[];
}

describe.each(['tree', 'archive'] as const)('diff, %s format', (format) => {
  it('lists exactly the changed, added and removed paths; --deep finds a same-size same-mtime edit', async () => {
    const cfg = await filesConfig(tmp, format);
    const { volume, mountpoint: mp, id } = await backedUpVolume(docker, cfg, 'diff');
    const diff = (...args: string[]) => runCli(['-c', cfg.path, 'diff', id, '-V', volume, ...args], { env: cfg.env });

    const same = await diff();
    expect(same.exitCode, same.stderr).toBe(0);
    expect(same.stdout).toContain(`volume ${volume} is the same as in backup ${id}`);

    await writeFile(join(mp, 'etc/app.conf'), 'listen = 9090 and more\n');
    await writeFile(join(mp, 'etc/new.txt'), 'added after the backup');
    await rm(join(mp, 'bin-tool'));
    const quiet = join(mp, 'name with spaces & ünïcode.txt');
    const before = await lstat(quiet, { bigint: true });
    await writeFile(quiet, 'y');
    const ns = before.mtimeNs;
    await execa('touch', [
      '-m',
      '-d',
      `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`,
      quiet,
    ]);

    const r = await diff('--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as DiffDoc;
    expect(doc.entries.map((e) => [e.change, e.path, e.fields ?? []])).toEqual([
      ['removed', 'bin-tool', []],
      ['changed', 'etc/app.conf', ['size', 'mtime']],
      ['added', 'etc/new.txt', []],
    ]);
    expect([doc.added, doc.removed, doc.changed]).toEqual([1, 1, 1]);

    const deep = await diff('--deep');
    expect(deep.exitCode, deep.stderr).toBe(0);
    expect(deep.stdout.split('\n').filter((l) => /^[+~-] /.test(l))).toEqual([
      '- bin-tool',
      '~ etc/app.conf (size, mtime)',
      '+ etc/new.txt',
      '~ name with spaces & ünïcode.txt (content)',
    ]);
    expect(deep.stdout).toContain(`1 added, 1 removed, 2 changed since backup ${id}`);

    const noVolume = await runCli(['-c', cfg.path, 'diff', id, '-V', 'bbt-diff-no-such-volume'], { env: cfg.env });
    expect(noVolume.exitCode).toBe(1);
    expect(noVolume.stderr).toContain(`backup ${id} holds no volume bbt-diff-no-such-volume`);
  });
});
