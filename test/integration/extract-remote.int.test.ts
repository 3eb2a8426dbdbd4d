// The escape hatch (tools/extract-remote.sh, docs/FORMAT.md): backups made by the real engine and
// uploaded by bbackup (repository format 2 to a local folder and to S3 through rclone, fetched back
// with `rclone copy`; format 1 through the old uploader), encrypted and
// not, tree and archive volumes, rebuilt by the script with a PATH that holds only the stock tools
// (sh, age, zstd, tar, jq and a few coreutils): no Node, no bbackup. The rebuilt tree must equal the
// source volume (content, owners, modes, nanosecond mtimes, xattrs, hard links), the archive and
// the definitions must be the files the local backup holds.
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { openRemote } from '../../src/remote/open.js';
import { uploadBackup } from '../../src/remote/upload-backup.js';
import { readManifest } from '../../src/store/manifest.js';
import { createTestContainer, testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { S3_BUCKET, startS3, type S3Server } from '../helpers/s3.js';
import { describeTree, fillRichTree, mountpointOf, type EntryDescription } from '../helpers/volume-data.js';
import { configFile } from './remote-helpers.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'tools', 'extract-remote.sh');
const JQ_RECIPE = join(import.meta.dirname, '..', '..', 'tools', 'docker-run-from-inspect.jq');
/** everything the script may call; nothing else is in its PATH */
export const STOCK_TOOLS = [
  'sh',
  'age',
  'zstd',
  'tar',
  'jq',
  'cat',
  'cp',
  'dirname',
  'ls',
  'mkdir',
  'mktemp',
  'realpath',
  'rm',
  'sha256sum',
  'sort',
  'touch',
];

let tmp: string;
let docker: Docker;
let volume: string;
let mp: string;
let bin: string;
let identity: string;
let recipient: string;
let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3();
  tmp = await mkdtemp(join(tmpdir(), 'bbt-fmt-'));
  docker = testDocker();
  volume = testName('fmt');
  await docker.createVolume({ Name: volume, Labels: testLabels() });
  mp = await mountpointOf(docker, volume);
  // holes come back as zeros from the script (it writes with cat): a small sparse file is enough
  await fillRichTree(mp, { sparseBytes: 1024 * 1024 });
  await writeFile(join(mp, 'line\nbreak and \\ back'), 'odd name\n');
  await writeFile(join(mp, 'empty-file'), '');
  bin = join(tmp, 'bin');
  await mkdir(bin);
  for (const t of STOCK_TOOLS) {
    const { stdout } = await execa('sh', ['-c', `command -v ${t}`]);
    await symlink(stdout.trim(), join(bin, t));
  }
  identity = join(tmp, 'id.txt');
  await execa('age-keygen', ['-o', identity]);
  recipient = (await execa('age-keygen', ['-y', identity])).stdout.trim();
});
afterAll(async () => {
  await s3?.stop();
  await docker
    ?.getVolume(volume)
    .remove({ force: true })
    .catch(() => undefined);
  if (!process.env.FMT_KEEP) await rm(tmp, { recursive: true, force: true });
});

/** The script with only the stock tools in PATH. */
export async function extract(args: string[], path: string) {
  return execa(join(path, 'sh'), [SCRIPT, ...args], { env: { PATH: path }, extendEnv: false, reject: false });
}

/**
 * README "Without bbackup": the container the jq recipe's `docker run` makes (as `docker create`,
 * under a new name) has the definition of the one backed up.
 */
async function recreate(inspectJson: string, original: string): Promise<void> {
  const name = testName('fmt');
  const renamed = await execa('jq', [`.Name = "/${name}"`, inspectJson]);
  const cmd = await execa('jq', ['-r', '-f', JQ_RECIPE], { input: renamed.stdout });
  expect(cmd.stdout).toMatch(/^'docker' 'run' '-d' /);
  const host = process.env.BBACKUP_TEST_DOCKER_HOST!;
  const made = await execa('sh', ['-c', `set -- ${cmd.stdout}; shift 3; docker -H "$H" create "$@"`], {
    env: { H: host },
    reject: false,
  });
  expect(made.exitCode, made.stderr).toBe(0);
  try {
    const pick = (i: Docker.ContainerInspectInfo) => ({
      Env: [...(i.Config.Env ?? [])].sort(), // a set: the engine does not promise its order
      Labels: i.Config.Labels,
      User: i.Config.User,
      WorkingDir: i.Config.WorkingDir,
      // `docker run --entrypoint` takes one word: the rest moves to the command, the argv stays the same
      argv: [...[i.Config.Entrypoint ?? []].flat(), ...(i.Config.Cmd ?? [])],
      Image: i.Config.Image,
      Mounts: i.Mounts.map((m) => [m.Type, m.Name ?? m.Source, m.Destination, m.RW]).sort(),
      Restart: i.HostConfig.RestartPolicy,
      Ports: i.HostConfig.PortBindings as unknown,
      Network: i.HostConfig.NetworkMode,
    });
    expect(pick(await docker.getContainer(name).inspect())).toEqual(
      pick(await docker.getContainer(original).inspect()),
    );
  } finally {
    await docker
      .getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

/** A tree as the comparison sees it: sparse files come back dense (the script writes with cat). */
async function treeOf(root: string): Promise<Record<string, EntryDescription>> {
  const t = await describeTree(root);
  for (const e of Object.values(t)) delete e.blocks;
  return t;
}

describe.each([
  { encrypted: false, format: 'tree' },
  { encrypted: true, format: 'tree' },
  { encrypted: false, format: 'archive' },
  { encrypted: true, format: 'archive' },
] as const)('extract-remote.sh, $format volume, encrypted $encrypted', ({ encrypted, format }) => {
  it('rebuilds the backup from a format 2 remote (a local folder, and S3 through rclone copy) and a format 1 remote with stock tools only', async () => {
    const container = await createTestContainer(
      docker,
      'fmt',
      {
        HostConfig: {
          NetworkMode: 'none',
          Binds: [`${volume}:/data`, `${tmp}:/host:ro`],
          RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
          PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] },
        },
        Env: ['A=1', 'B=two words'],
        User: '1000:1000',
        WorkingDir: '/data',
        Entrypoint: ['sh', '-c'],
        Cmd: ['sleep 1; echo "$A"'],
      },
      false,
    );
    const root = join(tmp, `${format}-${encrypted}`);
    const cfg = {
      backup: { store: join(root, 'store'), volumes: { format }, images: 'none' },
      remotes: {
        r: { type: 'local', path: join(root, 'remote'), retry: 0 },
        s3: { type: 'rclone', remote: `bbts3:${S3_BUCKET}${root}`, retry: 0 },
      },
      encryption: encrypted ? { enabled: true, recipients: [recipient], identity_file: identity } : { enabled: false },
      retention: { enabled: false },
    };
    const cli = await configFile(join(root + '.yaml'), cfg);
    await mkdir(root);
    const made = await cli(['backup', '-C', container, '-r', 'r', 's3']);
    expect(made.exitCode, made.stderr).toBe(0);
    const host = (await readdir(join(root, 'store'))).filter((n) => !n.startsWith('.'))[0]!;
    const [id] = await readdir(join(root, 'store', host));
    const local = join(root, 'store', host, id!);
    const manifest = await readManifest(local);
    // format 1: the uploader bbackup used before the repository (still read by pull and by the script)
    const remote1 = openRemote(
      parseConfigObject({ ...cfg, remotes: { r: { type: 'local', path: join(root, 'r1') } } }),
      'r',
    );
    await uploadBackup({
      remote: remote1,
      backupDir: local,
      manifest,
      level: 3,
      encrypted,
      signal: AbortSignal.timeout(300_000),
    });
    await remote1.close();

    // what an rclone remote holds (S3), fetched as a folder the way a user would
    await execa('rclone', ['copy', '--fast-list', `bbts3:${S3_BUCKET}${root}`, join(root, 'from-s3')]);
    for (const [remoteDir, remoteFormat, label] of [
      [join(root, 'remote'), '2', 'local'],
      [join(root, 'r1'), '1', 'format1'],
      [join(root, 'from-s3'), '2', 's3'],
    ] as const) {
      const idArgs = encrypted ? ['-i', identity] : [];
      const listed = await extract([...idArgs, remoteDir, 'list'], bin);
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect(listed.stdout.split('\n')).toContain(`${remoteFormat}\t${host}\t${id}\tcomplete`);

      const out = join(root, `out-${label}`);
      const r = await extract([...idArgs, remoteDir, id!, out], bin);
      expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(0);
      expect(await readFile(join(out, 'manifest.json'), 'utf8')).toBe(
        await readFile(join(local, 'manifest.json'), 'utf8'),
      );
      for (const f of manifest.items.flatMap((i) => i.files))
        expect(await readFile(join(out, f.path)), f.path).toEqual(await readFile(join(local, f.path)));
      const inspect = JSON.parse(await readFile(join(out, 'containers', container, 'inspect.json'), 'utf8')) as {
        Config: { Env: string[] };
      };
      expect(inspect.Config.Env).toContain('A=1');
      if (label === 'local') await recreate(join(out, 'containers', container, 'inspect.json'), container);
      if (format === 'tree') {
        expect(await treeOf(join(out, 'volumes', volume))).toEqual(await treeOf(mp));
      } else {
        const listing = join(root, `unpacked-${label}`);
        await mkdir(listing);
        const archive = join(out, 'volumes', `${volume}.tar.zst`);
        await execa('sh', [
          '-c',
          'zstd -dc "$1" | tar --numeric-owner -p --xattrs --xattrs-include="*" --acls -C "$2" -xf -',
          'x',
          archive,
          listing,
        ]);
        expect(await treeOf(listing)).toEqual(await treeOf(mp));
      }
    }
  }, 600_000);
});
