// `bbackup restore ID -V vol --path …` as a user runs it, on backups made by the real CLI in both
// volume formats: single files into the live volume (the current version kept as
// NAME.bbackup-TIME, or removed with --overwrite), a folder to a host folder, every entry equal to
// the saved one in content and metadata (owner, mode, ns mtime, xattrs); bad paths exit 1.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { testDocker } from '../helpers/docker.js';
import { backedUpVolume, filesConfig } from '../helpers/files-cli.js';
import { describeTree, type EntryDescription } from '../helpers/volume-data.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-files-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The entries under `prefix`, renamed relative to it; hard-link groups left out (they depend on what else was restored). */
function under(tree: Record<string, EntryDescription>, prefix: string): Record<string, EntryDescription> {
  const out: Record<string, EntryDescription> = {};
  for (const [p, e] of Object.entries(tree))
    if (p === prefix || p.startsWith(`${prefix}/`)) {
      const { hardLinkGroup: _, ...rest } = e;
      out[p] = rest;
    }
  return out;
}

describe.each(['tree', 'archive'] as const)('restore --path, %s format', (format) => {
  it('one file into the live volume (kept copy), a folder to a host dir, --overwrite, and bad paths', async () => {
    const cfg = await filesConfig(tmp, format);
    const { volume, mountpoint: mp, id } = await backedUpVolume(docker, cfg, 'files');
    const saved = await describeTree(mp);

    await writeFile(join(mp, 'etc/app.conf'), 'edited after the backup\n');
    await rm(join(mp, 'etc/conf.d/secret.key'));
    const cli = (...args: string[]) => runCli(['-c', cfg.path, 'restore', id, '-V', volume, ...args], { env: cfg.env });

    const one = await cli('--path', 'etc/app.conf', '--in-place');
    expect(one.exitCode, one.stderr).toBe(0);
    expect(one.stdout).toMatch(
      /restored etc\/app\.conf \(the current one kept as etc\/app\.conf\.bbackup-\d{8}T\d{6}Z\)/,
    );
    const live = await describeTree(mp);
    expect(under(live, 'etc/app.conf')).toEqual(under(saved, 'etc/app.conf'));
    const kept = (await readdir(join(mp, 'etc'))).filter((n) => n.startsWith('app.conf.bbackup-'));
    expect(kept).toHaveLength(1);
    expect(await readFile(join(mp, 'etc', kept[0]!), 'utf8')).toBe('edited after the backup\n');
    // the deleted file is still gone: only the named path was restored
    expect(live['etc/conf.d/secret.key']).toBeUndefined();

    const out = join(tmp, `out-${format}`);
    const folder = await cli('--path', 'etc/', '--to', out, '--json');
    expect(folder.exitCode, folder.stderr).toBe(0);
    const doc = JSON.parse(folder.stdout) as { restored: { path: string }[]; target: string };
    expect(doc.restored).toEqual([{ path: 'etc', replaced: false }]);
    expect(under(await describeTree(out), 'etc')).toEqual(
      Object.fromEntries(Object.entries(under(saved, 'etc')).map(([p, e]) => [p, e])),
    );

    await writeFile(join(mp, 'data.bin'), 'short');
    const over = await cli('--path', 'data.bin', '--in-place', '--overwrite');
    expect(over.exitCode, over.stderr).toBe(0);
    expect(under(await describeTree(mp), 'data.bin')).toEqual(under(saved, 'data.bin'));
    expect((await readdir(mp)).filter((n) => n.startsWith('data.bin.bbackup-'))).toEqual([]);

    const bads = [
      ['../etc', 'contains ".."'],
      ['/etc/app.conf', 'is absolute'],
      ['etc/not-there', 'is not in volume'],
      ['config-link/x', '"config-link" is not a folder in the backup'],
    ] as const;
    const results = await Promise.all(bads.map(([path]) => cli('--path', path, '--to', join(tmp, 'never'))));
    for (const [i, [path, message]] of bads.entries()) {
      expect(results[i]!.exitCode, `${path}: ${results[i]!.stderr}`).toBe(1);
      expect(results[i]!.stderr).toContain(message);
    }
    expect(await readdir(tmp)).not.toContain('never');
  }, 600_000);
});

it('never writes through a symlink in the live volume', async () => {
  const cfg = await filesConfig(tmp, 'tree');
  const { volume, mountpoint: mp, id } = await backedUpVolume(docker, cfg, 'files');
  const elsewhere = await mkdtemp(join(tmp, 'elsewhere-'));
  await rm(join(mp, 'etc'), { recursive: true });
  await symlink(elsewhere, join(mp, 'etc'));
  const r = await runCli(['-c', cfg.path, 'restore', id, '-V', volume, '--path', 'etc/app.conf', '--in-place'], {
    env: cfg.env,
  });
  expect(r.exitCode).toBe(1);
  expect(r.stderr).toContain('etc is a symlink; bbackup never writes through it');
  expect(await readdir(elsewhere)).toEqual([]);
});

it('from a remote: fetches only the packs the chosen paths need, and leaves no pulled backup behind', async () => {
  // two 40 MiB random files: with 32 MiB packs, at least one pack holds nothing the chosen file needs
  const remoteDir = join(tmp, 'remote-partial');
  const cfg = await filesConfig(
    tmp,
    'tree',
    `remotes:\n  off: {type: local, path: ${remoteDir}, retry: 0}\nretention: {enabled: false}\n`,
  );
  const big = 40 << 20;
  const {
    volume,
    mountpoint: mp,
    id,
  } = await backedUpVolume(docker, cfg, 'files', async (root) => {
    await writeFile(join(root, 'big-1.bin'), randomBytes(big));
    await writeFile(join(root, 'big-2.bin'), randomBytes(big));
  });
  const saved = await describeTree(mp);
  // status knows the off-site copy (issue 13: freshness of the newest off-site copy)
  const status = await runCli(['-c', cfg.path, '--json', 'status'], { env: cfg.env });
  const rows = (JSON.parse(status.stdout) as { containers: { container: string; offsite?: unknown }[] }).containers;
  expect(rows.find((r) => r.offsite !== undefined && r.offsite !== 'none')?.offsite).toMatchObject({
    remote: 'off',
    id,
  });
  // the store forgets the backup: only the remote has it
  const host = (await readdir(cfg.store)).filter((n) => !n.startsWith('.'))[0]!;
  await rm(join(cfg.store, host, id), { recursive: true });
  const out = join(tmp, 'out-remote');
  const r = await runCli(
    [
      '-c',
      cfg.path,
      '--json',
      'restore',
      id,
      '--from-remote',
      'off',
      '-V',
      volume,
      '--path',
      'etc/app.conf',
      '--to',
      out,
    ],
    { env: cfg.env },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { fetchedBytes: number; remote: string };
  expect(doc.remote).toBe('off');
  expect(doc.fetchedBytes).toBeGreaterThan(0);
  expect(doc.fetchedBytes).toBeLessThan(1.5 * big);
  expect(under(await describeTree(out), 'etc/app.conf')).toEqual(under(saved, 'etc/app.conf'));
  expect(await readdir(out)).toEqual(['etc']);
  // nothing pulled into the store, no work folder left
  expect(await readdir(join(cfg.store, host))).not.toContain(id);
  expect((await readdir(join(cfg.store, host))).filter((n) => n.startsWith('.pull-'))).toEqual([]);
  // a bad path is refused before anything is fetched
  const bad = await runCli(
    ['-c', cfg.path, 'restore', id, '--from-remote', 'off', '-V', volume, '--path', '../x', '--to', out],
    { env: cfg.env },
  );
  expect(bad.exitCode).toBe(1);
  expect(bad.stderr).toContain('contains ".."');
}, 600_000);
