// bbackup's own image (the repository's Dockerfile) built offline for the tests: the Dockerfile's
// runtime stage is node:20-bookworm-slim plus Debian packages, which needs Docker Hub. Here the
// same Debian packages come from mmdebstrap (RECIPES.md §2, §13; as test/helpers/db-image.ts),
// Node 20 is the host's own binary (linked against libc and libstdc++ only), and the app is this
// checkout's dist/ with its production node_modules (npm prune --omit=dev), at the Dockerfile's
// paths with its ENTRYPOINT. The base is built once per engine; the app image is tagged with a
// digest of dist/ and the lockfile, so it always runs the code just built.
import { createHash } from 'node:crypto';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { imageExists } from '../../src/docker/images.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const APP_BASE = 'bbackup-test-appbase:1';
const APP_REPO = 'bbackup-test-app';
// The Dockerfile's apt-get list, plus what node:20-bookworm-slim already holds that bbackup uses:
// a shell, bash (ldd is a bash script), coreutils, and libstdc++ for node.
const PACKAGES = [
  ...['rsync', 'tar', 'zstd', 'gzip', 'busybox-static', 'libc-bin', 'openssh-client', 'age', 'rclone', 'libssl3'],
  ...['ca-certificates', 'dash', 'bash', 'coreutils', 'libstdc++6'],
];
const DROP = ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'usr/share/lintian'];
const ENTRYPOINT = '["node", "/opt/bbackup/dist/src/cli/bbackup.cjs"]';

let building: Promise<string> | undefined;

/** The tag of the app image for the current dist/, built when missing. */
export function ensureAppImage(docker: Docker, log: (msg: string) => void = () => undefined): Promise<string> {
  building ??= build(docker, log).finally(() => (building = undefined));
  return building;
}

async function build(docker: Docker, log: (msg: string) => void): Promise<string> {
  if (!(await imageExists(docker, APP_BASE))) await buildBase(docker, log);
  const tag = `${APP_REPO}:${await appDigest()}`;
  if (await imageExists(docker, tag)) return tag;
  const work = await mkdtemp(join(tmpdir(), 'bbackup-appimg-'));
  try {
    log(`building ${tag} (dist/ and production node_modules)`);
    const app = join(work, 'app');
    await mkdir(app);
    for (const f of ['package.json', 'package-lock.json']) await copyFile(join(root, f), join(app, f));
    for (const d of ['assets', 'dist', 'node_modules']) await cp(join(root, d), join(app, d), { recursive: true });
    await execa('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: app, stdin: 'ignore' });
    await writeFile(
      join(work, 'Dockerfile'),
      [
        `FROM ${APP_BASE}`,
        'WORKDIR /opt/bbackup',
        'COPY app/ /opt/bbackup/',
        'LABEL bbackup.image=test-app',
        `ENTRYPOINT ${ENTRYPOINT}`,
        'CMD ["--help"]',
        '',
      ].join('\n'),
    );
    const context = execa('tar', ['-C', work, '-cf', '-', 'Dockerfile', 'app'], { stdout: 'pipe', buffer: false });
    const stream = await docker.buildImage(context.stdout as unknown as NodeJS.ReadableStream, { t: tag, rm: true });
    await follow(docker, stream);
    await context;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // older app images of this cache go; one still used by a container stays (the engine refuses)
  for (const img of await docker.listImages({ filters: { reference: [`${APP_REPO}:*`] } }))
    for (const t of img.RepoTags ?? [])
      if (t !== tag && t.startsWith(`${APP_REPO}:`))
        await docker
          .getImage(t)
          .remove()
          .catch(() => undefined);
  return tag;
}

async function buildBase(docker: Docker, log: (msg: string) => void): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bbackup-appbase-'));
  const rootfs = join(work, 'root');
  try {
    log(`building ${APP_BASE} with mmdebstrap (once per engine)`);
    await execa(
      'mmdebstrap',
      [
        '--variant=extract',
        '--mode=root',
        '--format=directory',
        '--quiet',
        `--include=${PACKAGES.join(',')}`,
        'bookworm',
        rootfs,
      ],
      { stdin: 'ignore' },
    );
    for (const d of DROP) await rm(join(rootfs, d), { recursive: true, force: true });
    await writeFile(
      join(rootfs, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/sh\n',
    );
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    for (const d of ['tmp', 'root', 'proc', 'sys', 'dev', 'usr/local/bin'])
      await mkdir(join(rootfs, d), { recursive: true });
    await chmod(join(rootfs, 'tmp'), 0o1777);
    // where node:20-bookworm-slim has it
    await copyFile(await realpath(process.execPath), join(rootfs, 'usr/local/bin/node'));
    await chmod(join(rootfs, 'usr/local/bin/node'), 0o755);
    const tar = execa('tar', ['-C', rootfs, '--numeric-owner', '-cf', '-', '.'], { stdout: 'pipe', buffer: false });
    const stream = await docker.importImage(
      tar.stdout as unknown as NodeJS.ReadableStream,
      {
        repo: APP_BASE.split(':')[0],
        tag: APP_BASE.split(':')[1],
        changes: [
          'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          'LABEL bbackup.image=test-appbase',
        ],
      } as unknown as object,
    );
    await follow(docker, stream);
    await tar;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
      const failed = err ?? (out.find((o) => o.error) ? new Error(out.find((o) => o.error)!.error) : undefined);
      if (failed) reject(failed);
      else resolve();
    }),
  );
}

/** Digest of what goes into the app layer: every file of dist/ and assets/, and the lockfile. */
async function appDigest(): Promise<string> {
  const h = createHash('sha256').update('bbackup test app 1\n');
  for (const dir of ['dist', 'assets']) {
    const files = (await readdir(join(root, dir), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
    for (const f of files) h.update(`${relative(root, f)}\n`).update(await readFile(f));
  }
  h.update(await readFile(join(root, 'package-lock.json')));
  return h.digest('hex').slice(0, 16);
}
