// Writes test/fixtures/format/: small backups in today's formats, made once by the real engine and
// committed, so later versions are tested against them (test/integration/format-compat.int.test.ts:
// list, verify, restore, pull, the stock-tools script). Never regenerate them to make a test pass:
// a new fixture set goes next to the old ones (a new folder), the old ones stay readable.
//
//   DOCKER_HOST=unix:///tmp/bbdev/d.sock npx tsx scripts/make-format-fixtures.ts [out-dir]
//
// What it makes (each a tar, since git keeps no owners, empty folders or xattrs):
//   store.tar          a local store: one host, a tree backup and an archive backup of one volume
//   remote-2.tar       a format 2 repository (local remote) holding both, unencrypted
//   remote-2-age.tar   the same, encrypted with age to identity.txt
//   remote-1.tar       format 1 (the folder-per-backup layout bbackup wrote before the repository)
//   remote-1-age.tar   format 1, encrypted
//   identity.txt       the age identity of the encrypted remotes (a test key, nothing else uses it)
//   fixtures.json      host, volume and backup ids the test reads
import { execa } from 'execa';
import { chmod, chown, link, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfigObject } from '../src/config/load.js';
import { openRemote } from '../src/remote/open.js';
import { uploadSnapshot } from '../src/remote/repo/upload.js';
import { uploadBackup } from '../src/remote/upload-backup.js';
import { readManifest } from '../src/store/manifest.js';

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'test', 'fixtures', 'format'));
const dockerHost = process.env.DOCKER_HOST ?? process.env.BBACKUP_TEST_DOCKER_HOST;
if (!dockerHost) throw new Error('set DOCKER_HOST to the engine the fixtures are made with');
const VOLUME = 'bbfmt-fixture-data';
const docker = (args: string[]) => execa('docker', ['-H', dockerHost, ...args]);
const tsx = import.meta.resolve('tsx');
const cli = (config: string, args: string[]) =>
  execa(process.execPath, ['--import', tsx, join(root, 'src/cli/bin.ts'), '-c', config, ...args], {
    env: { DOCKER_HOST: dockerHost, NO_COLOR: '1' },
  });

const tmp = await mkdtemp(join(tmpdir(), 'bbfmt-'));
try {
  await mkdir(out, { recursive: true });
  await docker(['volume', 'create', VOLUME]);
  const mp = (await docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', VOLUME])).stdout.trim();
  // every kind of entry, small: owners, modes (setuid), ns mtimes, a hard link, a symlink, an empty folder, an xattr
  await mkdir(join(mp, 'etc', 'empty'), { recursive: true });
  await writeFile(join(mp, 'etc', 'app.conf'), 'listen = 8080\n', { mode: 0o640 });
  await chown(join(mp, 'etc', 'app.conf'), 1234, 5678);
  await writeFile(join(mp, 'tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(mp, 'tool'), 0o4755);
  await writeFile(join(mp, 'data.bin'), Buffer.alloc(3000, 7));
  await link(join(mp, 'data.bin'), join(mp, 'etc', 'data-link.bin'));
  await symlink('etc/app.conf', join(mp, 'config-link'));
  await writeFile(join(mp, 'empty-file'), '');
  await execa('setfattr', ['-n', 'user.origin', '-v', 'bbackup-fixture', join(mp, 'etc', 'app.conf')]);
  for (const [p, t] of [
    ['etc/app.conf', '2023-05-06 07:08:09.123456789'],
    ['data.bin', '2021-01-01 00:00:00.000000001'],
    ['tool', '2020-02-29 12:34:56.987654321'],
    ['etc/empty', '2019-12-31 23:59:59.5'],
    ['etc', '2019-12-31 23:59:59.25'],
  ] as const)
    await execa('touch', ['-m', '-d', t, join(mp, p)]);

  const identity = join(out, 'identity.txt');
  await rm(identity, { force: true });
  await execa('age-keygen', ['-o', identity]);
  const recipient = (await execa('age-keygen', ['-y', identity])).stdout.trim();
  const store = join(tmp, 'store');
  const base = { backup: { store, images: 'none' }, retention: { enabled: false } };
  const ids: Record<string, string> = {};
  for (const format of ['tree', 'archive'] as const) {
    const config = join(tmp, `${format}.yaml`);
    await writeFile(config, JSON.stringify({ ...base, backup: { ...base.backup, volumes: { format } } }));
    await cli(config, ['backup', '--volumes', VOLUME, '--no-upload']);
    const host = (await readdir(store)).filter((n) => !n.startsWith('.'))[0]!;
    const all = (await readdir(join(store, host))).filter((n) => /^\d{8}T/.test(n)).sort();
    ids[format] = all.at(-1)!;
    ids.host = host;
    // ids are per second: the next backup must not clash
    await new Promise((r) => setTimeout(r, 1100));
  }
  const hostDir = join(store, ids.host!);
  const signal = AbortSignal.timeout(600_000);
  for (const encrypted of [false, true]) {
    const config = parseConfigObject({
      ...base,
      remotes: {
        r2: { type: 'local', path: join(tmp, `remote-2${encrypted ? '-age' : ''}`) },
        r1: { type: 'local', path: join(tmp, `remote-1${encrypted ? '-age' : ''}`) },
      },
      encryption: encrypted ? { enabled: true, recipients: [recipient], identity_file: identity } : { enabled: false },
    });
    for (const id of [ids.tree!, ids.archive!]) {
      const backupDir = join(hostDir, id);
      const manifest = await readManifest(backupDir);
      const r2 = openRemote(config, 'r2');
      await uploadSnapshot({
        remote: r2,
        backupDir,
        manifest,
        store,
        level: 3,
        encrypted,
        canDecrypt: encrypted,
        signal,
      });
      await r2.close();
      const r1 = openRemote(config, 'r1');
      await uploadBackup({ remote: r1, backupDir, manifest, level: 3, encrypted, signal });
      await r1.close();
    }
  }
  await rm(join(store, '.remotes'), { recursive: true, force: true }); // a cache, not the format
  const pack = (name: string, dir: string) =>
    execa('tar', [
      '-C',
      dir,
      '--numeric-owner',
      '--xattrs',
      '--xattrs-include=*',
      '--acls',
      '--sort=name',
      '-cf',
      join(out, name),
      '.',
    ]);
  await pack('store.tar', store);
  for (const r of ['remote-2', 'remote-2-age', 'remote-1', 'remote-1-age']) await pack(`${r}.tar`, join(tmp, r));
  await writeFile(
    join(out, 'fixtures.json'),
    `${JSON.stringify({ made: new Date().toISOString(), host: ids.host, volume: VOLUME, tree: ids.tree, archive: ids.archive }, null, 2)}\n`,
  );
  console.log(`fixtures written to ${out}`);
} finally {
  await docker(['volume', 'rm', '-f', VOLUME]).catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
}
