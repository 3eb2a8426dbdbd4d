// Pull from a remote someone else can write to. A real backup folder (tree volume with its index,
// archive volume, container and network files, manifest) is uploaded by the real upload code to a
// real `local` remote folder (and through the real rclone binary), then the tests tamper with the
// remote the way an attacker would: paths that climb out, packed trees with escapes, devices and
// links, a file swapped together with its index entry, plaintext next to an encrypted backup, a
// host folder name that is not percent-encoding. Each pull is refused with INTEGRITY naming the
// problem; nothing appears outside the store (a canary folder stays empty), no work folder is
// left and the local store is unchanged.
import { execa } from 'execa';
import { cp, link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTreeIndex } from '../helpers/tree-index.js';
import { parseConfigObject } from '../../src/config/load.js';
import { withEncryption } from '../../src/crypto/with-encryption.js';
import { listRemoteBackups } from '../../src/remote/list.js';
import { LocalRemote } from '../../src/remote/local.js';
import { pullBackup } from '../../src/remote/pull.js';
import { uploadBackup } from '../../src/remote/upload-backup.js';
import type { Remote } from '../../src/remote/types.js';
import type { FileEntry, Manifest } from '../../src/store/manifest.js';
import { verifyBackup } from '../../src/store/verify.js';
import { runCli } from '../helpers/cli.js';
import { archive, entry, file, hardlink, symlink as tarSymlink } from '../helpers/tar-build.js';

const ID = '20261201T101010Z';
const HOST = 'untr-host';
let tmp: string;
let source: string;
let manifest: Manifest;
let identity: string;
let recipient: string;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const fileEntry = async (dir: string, path: string): Promise<FileEntry> => {
  const b = await readFile(join(dir, path));
  return { path, size: b.length, sha256: sha(b) };
};
const signal = () => AbortSignal.timeout(120_000);

/** A backup folder as the engine writes it, without Docker. */
async function makeBackup(dir: string): Promise<Manifest> {
  await mkdir(join(dir, 'containers', 'web'), { recursive: true });
  await mkdir(join(dir, 'networks'));
  await mkdir(join(dir, 'volumes', 'data', 'sub'), { recursive: true });
  await writeFile(join(dir, 'containers/web/inspect.json'), JSON.stringify({ Name: '/web', Config: { Image: 'x' } }));
  await writeFile(join(dir, 'containers/web/logs.txt'), 'log line\n');
  await writeFile(join(dir, 'networks/net1.json'), JSON.stringify({ Name: 'net1' }));
  const tree = join(dir, 'volumes', 'data');
  await writeFile(join(tree, 'a.txt'), 'hello');
  await writeFile(join(tree, 'sub', 'b.bin'), Buffer.alloc(70_000, 7));
  await link(join(tree, 'a.txt'), join(tree, 'sub', 'hard.txt'));
  await symlink('/etc/passwd', join(tree, 'abs-link'));
  await writeTreeIndex(tree, join(dir, 'volumes', 'data.index.jsonl'));
  const arch = join(dir, 'volumes', 'arch.tar.zst');
  await execa('zstd', ['-q', '-c'], { input: archive(file('x.txt', 'archived')), stdout: { file: arch } });
  const m: Manifest = {
    format: 1,
    id: ID,
    host: HOST,
    created: '2026-12-01T10:10:10Z',
    finished: '2026-12-01T10:10:11Z',
    tool: { name: 'bbackup', version: 'test' },
    status: 'complete',
    scope: { containers: true, volumes: true, networks: true },
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    errors: [],
    items: [
      {
        kind: 'container',
        name: 'web',
        id: 'c1',
        image: 'x',
        state: 'exited',
        files: [await fileEntry(dir, 'containers/web/inspect.json'), await fileEntry(dir, 'containers/web/logs.txt')],
      },
      {
        kind: 'network',
        name: 'net1',
        id: 'n1',
        driver: 'bridge',
        files: [await fileEntry(dir, 'networks/net1.json')],
      },
      {
        kind: 'volume',
        name: 'data',
        driver: 'local',
        labels: {},
        options: {},
        usedBy: ['web'],
        format: 'tree',
        bytes: 70_005,
        fileCount: 3,
        files: [await fileEntry(dir, 'volumes/data.index.jsonl')],
      },
      {
        kind: 'volume',
        name: 'arch',
        driver: 'local',
        labels: {},
        options: {},
        usedBy: [],
        format: 'archive',
        compression: 'zstd',
        bytes: 8,
        fileCount: 1,
        files: [await fileEntry(dir, 'volumes/arch.tar.zst')],
      },
    ],
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(m, null, 1));
  return m;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-untr-pull-'));
  source = join(tmp, 'source', HOST, ID);
  manifest = await makeBackup(source);
  identity = join(tmp, 'key.txt');
  await execa('age-keygen', ['-o', identity]);
  recipient = (await readFile(identity, 'utf8')).match(/public key: (age1\w+)/)![1]!;
  await upload(new LocalRemote('good', join(tmp, 'good')));
  await upload(
    withEncryption(new LocalRemote('good-enc', join(tmp, 'good-enc')), {
      encrypt: { recipients: [recipient] },
      decrypt: { recipients: [], identityFile: identity },
    }),
    true,
  );
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function upload(remote: Remote, encrypted = false): Promise<void> {
  await uploadBackup({ remote, backupDir: source, manifest, level: 3, encrypted, signal: signal() });
}

let n = 0;
interface Case {
  /** remote folder (a copy of the good upload, to tamper with) */
  root: string;
  /** the backup's folder on the remote */
  folder: string;
  store: string;
  canary: string;
  pull: (opts?: { encryption?: Record<string, unknown> }) => Promise<unknown>;
}

/** A fresh copy of a good remote, a store holding one unrelated backup, and an empty canary next to them. */
async function setup(from: 'good' | 'good-enc' = 'good'): Promise<Case> {
  const base = join(tmp, `case${n++}`);
  const root = join(base, 'remote');
  await cp(join(tmp, from), root, { recursive: true });
  const store = join(base, 'store');
  await mkdir(join(store, HOST, '20261101T000000Z'), { recursive: true });
  await writeFile(join(store, HOST, '20261101T000000Z', 'manifest.json'), '{}');
  const canary = join(base, 'canary');
  await mkdir(canary);
  const pull = (opts: { encryption?: Record<string, unknown> } = {}) => {
    const config = parseConfigObject({
      backup: { store },
      remotes: { r: { type: 'local', path: root, retry: 0 } },
      retention: { enabled: false },
      encryption: opts.encryption ?? {},
    });
    return pullBackup(config, 'r', ID, { store, signal: signal() }).then(
      () => undefined,
      (err: unknown) => err,
    );
  };
  return { root, folder: join(root, HOST, ID), store, canary, pull };
}

/** Nothing outside, no work folder left, the store as it was. */
async function expectContained(c: Case): Promise<void> {
  expect(await readdir(c.canary)).toEqual([]);
  expect((await readdir(join(c.store, HOST))).sort()).toEqual(['20261101T000000Z']);
  expect(await readdir(c.store)).toEqual([HOST]);
  expect(await readdir(join(c.store, '..'))).toEqual(expect.arrayContaining(['canary', 'remote', 'store']));
  expect((await readdir(join(c.store, '..'))).length).toBe(3);
}

async function editIndex(c: Case, edit: (files: Record<string, unknown>[]) => void): Promise<void> {
  const path = join(c.folder, 'remote-index.json');
  const doc = JSON.parse(await readFile(path, 'utf8')) as { files: Record<string, unknown>[] };
  edit(doc.files);
  await writeFile(path, JSON.stringify(doc));
}

async function replacePackedTree(c: Case, tar: Buffer): Promise<void> {
  await execa('zstd', ['-q', '-f', '-c'], { input: tar, stdout: { file: join(c.folder, 'volumes', 'data.tar.zst') } });
}

describe('pull of a good backup', () => {
  it('local remote: the pulled backup verifies against its manifest, tree and archive included', async () => {
    const c = await setup();
    expect(await c.pull()).toBeUndefined();
    const report = await verifyBackup(join(c.store, HOST, ID));
    expect(report.problems).toEqual([]);
    expect(await readFile(join(c.store, HOST, ID, 'volumes/data/sub/b.bin'))).toEqual(Buffer.alloc(70_000, 7));
  });

  it('encrypted remote with a plaintext retention sidecar next to it: pulled, the sidecar ignored', async () => {
    const c = await setup('good-enc');
    await writeFile(join(c.folder, 'retention.json'), '{"keep":"x"}');
    expect(
      await c.pull({ encryption: { enabled: true, recipients: [recipient], identity_file: identity } }),
    ).toBeUndefined();
    expect(await readdir(join(c.store, HOST, ID))).not.toContain('retention.json');
  });

  it('through the real rclone binary (local backend): pulled; a ../ path in its index is refused', async () => {
    process.env.RCLONE_CONFIG = '';
    process.env.RCLONE_CONFIG_BBTUNTR_TYPE = 'local';
    for (const hostile of [false, true]) {
      const c = await setup();
      if (hostile) {
        await writeFile(join(c.folder, 'evil.txt'), 'pwned');
        await editIndex(c, (files) =>
          files.push({
            path: '../../../canary/pwned',
            stored: 'evil.txt',
            size: 5,
            sha256: sha('pwned'),
            storedSize: 5,
          }),
        );
      }
      const config = parseConfigObject({
        backup: { store: c.store },
        remotes: { r: { type: 'rclone', remote: `bbtuntr:${c.root}`, retry: 0 } },
        retention: { enabled: false },
      });
      const err = await pullBackup(config, 'r', ID, { store: c.store, signal: signal() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!hostile) expect(err).toBeUndefined();
      else {
        expect(err).toMatchObject({
          code: 'INTEGRITY',
          message: expect.stringContaining(
            'names the file "../../../canary/pwned", which is not a path of the backup layout',
          ),
        });
        await expectContained(c);
      }
    }
  });
});

describe('a hostile remote is refused, nothing lands outside the work folder', () => {
  const cases: { name: string; tamper: (c: Case) => Promise<void>; reason: RegExp }[] = [
    {
      name: 'an index path with ../ (stored under an innocent name)',
      tamper: async (c) => {
        await writeFile(join(c.folder, 'evil.txt'), 'pwned');
        await editIndex(c, (files) =>
          files.push({
            path: '../../../canary/pwned',
            stored: 'evil.txt',
            size: 5,
            sha256: sha('pwned'),
            storedSize: 5,
          }),
        );
      },
      reason: /"\.\.\/\.\.\/\.\.\/canary\/pwned", which is not a path of the backup layout/,
    },
    {
      name: 'an absolute index path',
      tamper: async (c) => {
        await writeFile(join(c.folder, 'evil.txt'), 'pwned');
        await editIndex(c, (files) =>
          files.push({
            path: join(c.canary, 'pwned'),
            stored: 'evil.txt',
            size: 5,
            sha256: sha('pwned'),
            storedSize: 5,
          }),
        );
      },
      reason: /canary\/pwned", which is not a path of the backup layout/,
    },
    {
      name: 'a layout path stored under another key',
      tamper: async (c) =>
        editIndex(c, (files) => void (files.find((f) => f.path === 'networks/net1.json')!.stored = '../../other')),
      reason: /stores "networks\/net1\.json" under another name/,
    },
    {
      name: 'unpackTo escaping the work folder',
      tamper: async (c) => editIndex(c, (files) => void (files.find((f) => f.unpackTo)!.unpackTo = '../../../canary')),
      reason:
        /unpacks "volumes\/data\.tar\.zst" into "\.\.\/\.\.\/\.\.\/canary", which is not that volume's tree folder/,
    },
    {
      name: 'a packed tree holding ../x',
      tamper: (c) => replacePackedTree(c, archive(entry({ name: './', type: '5' }), file('../../../../canary/pwned'))),
      reason: /entry "\.\.\/\.\.\/\.\.\/\.\.\/canary\/pwned": path contains a "\.\." component/,
    },
    {
      name: 'a packed tree with a symlink, then a file through it',
      tamper: async (c) =>
        replacePackedTree(c, archive(entry({ name: './', type: '5' }), tarSymlink('l', c.canary), file('l/pwned'))),
      reason: /entry "l\/pwned": goes through the symlink l/,
    },
    {
      name: 'a packed tree with a device node',
      tamper: (c) =>
        replacePackedTree(
          c,
          archive(
            entry({ name: './', type: '5' }),
            entry({ name: 'mem', type: '3', edit: (h) => h.write('0000001\0', 329, 'latin1') }),
          ),
        ),
      reason: /entry "mem": character device node/,
    },
    {
      name: 'a packed tree with a hard link to /etc/passwd',
      tamper: (c) => replacePackedTree(c, archive(entry({ name: './', type: '5' }), hardlink('passwd', '/etc/passwd'))),
      reason: /hard link to \/etc\/passwd: absolute path/,
    },
    {
      name: 'a packed tree with a file its tree index does not list',
      tamper: async (c) => {
        const stage = join(c.root, '..', 'stage');
        await cp(join(source, 'volumes', 'data'), stage, { recursive: true, verbatimSymlinks: true });
        await writeFile(join(stage, 'planted.sh'), '#!/bin/sh\n');
        const { stdout } = await execa('tar', ['-C', stage, '--format=posix', '-cf', '-', '.'], { encoding: 'buffer' });
        await rm(stage, { recursive: true });
        await replacePackedTree(c, Buffer.from(stdout));
      },
      reason: /volume data does not match its tree index[\s\S]*planted\.sh: in the tree, not listed in the index/,
    },
    {
      name: 'a file whose bytes match the index but not the manifest',
      tamper: async (c) => {
        const bad = JSON.stringify({ Name: '/web', HostConfig: { Privileged: true } });
        await writeFile(join(c.folder, 'containers/web/inspect.json'), bad);
        await editIndex(c, (files) =>
          Object.assign(
            files.find((f) => f.path === 'containers/web/inspect.json')!,
            { size: bad.length, sha256: sha(bad), storedSize: bad.length },
          ),
        );
      },
      reason: /containers\/web\/inspect\.json does not match the manifest/,
    },
    {
      name: 'a manifest naming a file outside its item',
      tamper: async (c) => {
        const m = JSON.parse(await readFile(join(c.folder, 'manifest.json'), 'utf8')) as Manifest;
        m.items[1]!.files[0]!.path = '../../../canary/x.json';
        const text = JSON.stringify(m);
        await writeFile(join(c.folder, 'manifest.json'), text);
        await editIndex(c, (files) =>
          Object.assign(
            files.find((f) => f.path === 'manifest.json')!,
            { size: text.length, sha256: sha(text) },
          ),
        );
      },
      reason:
        /network net1 lists the file "\.\.\/\.\.\/\.\.\/canary\/x\.json", which is not where the layout keeps its files/,
    },
    {
      name: 'a manifest of another backup',
      tamper: async (c) => {
        const text = (await readFile(join(c.folder, 'manifest.json'), 'utf8')).replace(ID, '20200101T000000Z');
        await writeFile(join(c.folder, 'manifest.json'), text);
        await editIndex(c, (files) =>
          Object.assign(
            files.find((f) => f.path === 'manifest.json')!,
            { size: text.length, sha256: sha(text) },
          ),
        );
      },
      reason: /belongs to backup 20200101T000000Z/,
    },
  ];

  it.each(cases)('$name', async ({ tamper, reason }) => {
    const c = await setup();
    await tamper(c);
    const err = await c.pull();
    expect(err).toMatchObject({ code: 'INTEGRITY' });
    expect((err as Error).message).toMatch(reason);
    await expectContained(c);
  });
});

describe('plaintext on an encrypted remote is refused', () => {
  const encryption = () => ({ enabled: true, recipients: [recipient], identity_file: identity });

  it('a plaintext index in place of the encrypted one (encryption configured)', async () => {
    const c = await setup('good-enc');
    const plain = await readFile(join(tmp, 'good', HOST, ID, 'remote-index.json'));
    await rm(join(c.folder, 'remote-index.json.age'));
    await writeFile(join(c.folder, 'remote-index.json'), plain);
    await cp(join(tmp, 'good', HOST, ID), c.folder, { recursive: true, force: false, errorOnExist: false });
    const err = await c.pull({ encryption: encryption() });
    expect(err).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/remote-index\.json is stored unencrypted but encryption is configured/),
    });
    await expectContained(c);
  });

  it('an index encrypted with the (public) recipient that names plaintext files, pulled with just the identity', async () => {
    const c = await setup('good-enc');
    const doc = JSON.parse(await readFile(join(tmp, 'good', HOST, ID, 'remote-index.json'), 'utf8')) as {
      files: { path: string; stored: string }[];
    };
    for (const f of doc.files) if (f.path === 'containers/web/inspect.json') f.stored = f.path;
    await execa('age', ['-r', recipient, '-o', join(c.folder, 'remote-index.json.age')], {
      input: JSON.stringify(doc),
    });
    await cp(join(tmp, 'good', HOST, ID, 'containers/web/inspect.json'), join(c.folder, 'containers/web/inspect.json'));
    const err = await c.pull({ encryption: { identity_file: identity } });
    expect(err).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(
        /"containers\/web\/inspect\.json" is stored unencrypted, but this backup is encrypted/,
      ),
    });
    await expectContained(c);
  });
});

describe('listing a remote with a folder bbackup cannot have made', () => {
  it('a host folder that is not percent-encoding is skipped with a warning; the other backups are listed', async () => {
    const c = await setup();
    await mkdir(join(c.root, '%zz', ID), { recursive: true });
    await writeFile(join(c.root, '%zz', ID, 'manifest.json'), '{}');
    const listing = await listRemoteBackups(new LocalRemote('r', c.root), signal());
    expect(listing.backups.map((b) => `${b.host}/${b.id}`)).toEqual([`${HOST}/${ID}`]);
    expect(listing.skipped).toEqual([
      { prefix: `%zz/${ID}`, reason: expect.stringContaining('not valid percent-encoding') },
    ]);
    expect(listing.incomplete).toEqual([]); // never offered to rotation for removal
    const configPath = join(c.root, '..', 'c.yaml');
    await writeFile(
      configPath,
      JSON.stringify({ backup: { store: c.store }, remotes: { r: { type: 'local', path: c.root } } }),
    );
    const r = await runCli(['-c', configPath, 'list-remote-backups']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(
      /warning: remote r: skipped %zz\/20261201T101010Z: host folder name "%zz" is not valid percent-encoding/,
    );
    expect(r.stdout).toContain(ID);
  });
});
