// Compatibility: backups in the formats bbackup wrote on 2026-12-02 (test/fixtures/format/, made
// once by scripts/make-format-fixtures.ts and committed) stay readable by this version: the local
// store lists, verifies and restores into a volume on the real engine; every remote (format 2 and
// format 1, encrypted and not) lists, verifies and pulls byte-identical; the stock-tools script
// rebuilds each backup. The fixtures are tars because git keeps no owners, empty folders or xattrs.
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { describeTree, mountpointOf } from '../helpers/volume-data.js';
import { configFile } from './remote-helpers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'format');
const SCRIPT = join(import.meta.dirname, '..', '..', 'tools', 'extract-remote.sh');
interface Fixtures {
  host: string;
  volume: string;
  tree: string;
  archive: string;
}
const REMOTES = [
  { name: 'remote-2', format: 2, encrypted: false },
  { name: 'remote-2-age', format: 2, encrypted: true },
  { name: 'remote-1', format: 1, encrypted: false },
  { name: 'remote-1-age', format: 1, encrypted: true },
] as const;

let tmp: string;
let fx: Fixtures;
let docker: Docker;
let identity: string;
let recipient: string;
const volumes: string[] = [];
const unpack = async (tar: string, to: string) => {
  await mkdir(to, { recursive: true });
  await execa('tar', [
    '-C',
    to,
    '--numeric-owner',
    '--same-owner',
    '-p',
    '--xattrs',
    '--xattrs-include=*',
    '--acls',
    '-xf',
    join(FIXTURES, tar),
  ]);
};
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-fmtc-'));
  docker = testDocker();
  fx = JSON.parse(await readFile(join(FIXTURES, 'fixtures.json'), 'utf8')) as Fixtures;
  await unpack('store.tar', join(tmp, 'store'));
  for (const r of REMOTES) await unpack(`${r.name}.tar`, join(tmp, r.name));
  identity = join(tmp, 'identity.txt');
  await execa('install', ['-m', '0600', join(FIXTURES, 'identity.txt'), identity]);
  recipient = (await execa('age-keygen', ['-y', identity])).stdout.trim();
});
afterAll(async () => {
  for (const v of volumes)
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

const backupDir = (id: string) => join(tmp, 'store', fx.host, id);
const configFor = (store: string, remote: (typeof REMOTES)[number] | undefined) =>
  configFile(join(tmp, `${remote?.name ?? 'local'}-${Math.random().toString(36).slice(2)}.yaml`), {
    backup: { store },
    remotes: remote ? { r: { type: 'local', path: join(tmp, remote.name), retry: 0 } } : {},
    encryption: remote?.encrypted
      ? { enabled: true, recipients: [recipient], identity_file: identity }
      : { enabled: false },
    retention: { enabled: false },
  });

describe('the local store of 2026-12-02', () => {
  it('lists and verifies both backups', async () => {
    const cli = await configFor(join(tmp, 'store'), undefined);
    const listed = await cli(['--json', 'list-backups', '--host', fx.host]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const doc = JSON.parse(listed.stdout) as { backups: { id: string; status: string }[] };
    expect(doc.backups.map((b) => [b.id, b.status])).toEqual([
      [fx.tree, 'complete'],
      [fx.archive, 'complete'],
    ]);
    const verified = await cli(['verify', '--all', '--host', fx.host]);
    expect(verified.exitCode, `${verified.stdout}\n${verified.stderr}`).toBe(0);
  });

  it.each(['tree', 'archive'] as const)(
    'restores the %s backup into a volume on the engine, equal to the tree',
    async (kind) => {
      const cli = await configFor(join(tmp, 'store'), undefined);
      const name = testName('fmt');
      volumes.push(name);
      const r = await cli(['restore', backupDir(fx[kind]), '-V', fx.volume, '-r', `${fx.volume}:${name}`]);
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      const restored = await describeTree(await mountpointOf(docker, name));
      expect(restored).toEqual(await describeTree(join(backupDir(fx.tree), 'volumes', fx.volume)));
    },
  );
});

describe.each(REMOTES)('the remote $name of 2026-12-02', (remote) => {
  it('lists, verifies, pulls both backups identical, and the stock-tools script rebuilds them', async () => {
    const pulled = join(tmp, `pulled-${remote.name}`);
    const cli = await configFor(pulled, remote);
    const listed = await cli(['--json', 'list-remote-backups', '-r', 'r']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(
      (JSON.parse(listed.stdout) as { backups: { id: string; format: number }[] }).backups.map((b) => [b.id, b.format]),
    ).toEqual([
      [fx.tree, remote.format],
      [fx.archive, remote.format],
    ]);
    for (const id of [fx.tree, fx.archive]) {
      const checked = await cli(['verify', id, '--remote', 'r', '--host', fx.host]);
      expect(checked.exitCode, `${checked.stdout}\n${checked.stderr}`).toBe(0);
      const p = await cli(['--host', fx.host, 'pull', 'r', id]);
      expect(p.exitCode, `${p.stdout}\n${p.stderr}`).toBe(0);
      const got = join(pulled, fx.host, id);
      expect(await readFile(join(got, 'manifest.json'), 'utf8')).toBe(
        await readFile(join(backupDir(id), 'manifest.json'), 'utf8'),
      );
      const v = await cli(['verify', got]);
      expect(v.exitCode, v.stdout).toBe(0);
      if (id === fx.tree)
        expect(await describeTree(join(got, 'volumes', fx.volume))).toEqual(
          await describeTree(join(backupDir(id), 'volumes', fx.volume)),
        );

      const out = join(tmp, `extracted-${remote.name}-${id}`);
      const x = await execa(
        'sh',
        [SCRIPT, ...(remote.encrypted ? ['-i', identity] : []), join(tmp, remote.name), id, out],
        {
          reject: false,
        },
      );
      expect(x.exitCode, x.stderr).toBe(0);
      expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(
        await readFile(join(backupDir(id), 'manifest.json'), 'utf8'),
      );
      if (id === fx.tree)
        expect(await describeTree(join(out, 'volumes', fx.volume))).toEqual(
          await describeTree(join(backupDir(id), 'volumes', fx.volume)),
        );
    }
  });
});

describe('a newer format than this version knows', () => {
  it('is refused with what to do, by bbackup and by the script, and nothing is read', async () => {
    const copy = join(tmp, 'remote-2-newer');
    await unpack('remote-2.tar', copy);
    const repo = JSON.parse(await readFile(join(copy, 'bbackup-repo.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(copy, 'bbackup-repo.json'), `${JSON.stringify({ ...repo, format: 3 })}\n`);
    const cli = await configFile(join(tmp, 'newer.yaml'), {
      backup: { store: join(tmp, 'pulled-newer') },
      remotes: { r: { type: 'local', path: copy, retry: 0 } },
      retention: { enabled: false },
    });
    const listed = await cli(['list-remote-backups', '-r', 'r']);
    expect(listed.exitCode).not.toBe(0); // 3: list reports each remote's failure as a system error
    expect(listed.stderr).toMatch(/newer bbackup \(remote format 3\).*upgrade bbackup/);
    const pulled = await cli(['--host', fx.host, 'pull', 'r', fx.tree]);
    expect(pulled.exitCode).toBe(1);
    expect(pulled.stderr).toMatch(/upgrade bbackup/);
    const there = await readdir(join(tmp, 'pulled-newer', fx.host)).catch(() => [] as string[]);
    expect(there.filter((n) => !n.startsWith('.'))).toEqual([]);
    const x = await execa('sh', [SCRIPT, copy, fx.tree, join(tmp, 'extracted-newer')], { reject: false });
    expect(x.exitCode).toBe(1);
    expect(x.stderr).toMatch(/bbackup-repo.json is format 3; this script reads up to format 2/);

    const store = join(tmp, 'store-newer');
    await unpack('store.tar', store);
    const m = join(store, fx.host, fx.tree, 'manifest.json');
    const doc = JSON.parse(await readFile(m, 'utf8')) as Record<string, unknown>;
    await writeFile(m, `${JSON.stringify({ ...doc, format: 2 })}\n`);
    const local = await configFile(join(tmp, 'newer-local.yaml'), { backup: { store }, retention: { enabled: false } });
    const verified = await local(['verify', join(store, fx.host, fx.tree)]);
    expect(verified.exitCode).not.toBe(0); // 4: verify reports what it could not check
    expect(verified.stdout + verified.stderr).toMatch(/newer bbackup \(format 2\).*upgrade bbackup/);
  });
});
