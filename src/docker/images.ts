// Images built offline from the host's own binaries (RECIPES.md §2): no registry is needed.
// The worker image carries rsync, GNU tar and zstd with their shared libraries, plus busybox for
// a shell; a busybox-only image is used by the demo and the tests.
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { BbackupError } from '../errors.js';

export const WORKER_TOOLS = ['/usr/bin/rsync', '/bin/tar', '/usr/bin/zstd'];
// Busybox's shell prefers its own applets over PATH (FEATURE_PREFER_APPLETS): exec tools by absolute path.
const BUSYBOX = '/bin/busybox';

export interface ImageSpec {
  /** repo:tag */
  tag: string;
  /** host binaries copied with their libraries, at the same paths */
  binaries: string[];
  labels?: Record<string, string>;
}

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Build `spec.tag` from busybox and host binaries unless it exists already. */
export async function ensureImage(docker: Docker, spec: ImageSpec): Promise<void> {
  if (await imageExists(docker, spec.tag)) return;
  await buildImage(docker, spec);
}

export const workerImageSpec = (tag: string): ImageSpec => ({
  tag,
  binaries: WORKER_TOOLS,
  labels: { 'bbackup.image': 'worker' },
});
export const busyboxImageSpec = (tag: string): ImageSpec => ({
  tag,
  binaries: [],
  labels: { 'bbackup.image': 'busybox' },
});

export async function buildImage(docker: Docker, spec: ImageSpec): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bbackup-image-'));
  try {
    await makeRootfs(root, spec.binaries);
    const [repo, tag = 'latest'] = splitTag(spec.tag);
    const tar = execa('tar', ['-C', root, '--numeric-owner', '-cf', '-', '.'], { stdout: 'pipe', buffer: false });
    const changes = [
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'CMD ["/bin/sh"]',
      ...Object.entries(spec.labels ?? {}).map(([k, v]) => `LABEL ${k}=${v}`),
    ];
    const stream = await docker.importImage(
      tar.stdout as unknown as NodeJS.ReadableStream,
      { repo, tag, changes } as unknown as object,
    );
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    await tar;
  } catch (err) {
    throw new BbackupError(
      'DOCKER_FAILED',
      `could not build image ${spec.tag} from host binaries: ${(err as Error).message}`,
      { tag: spec.tag },
      { cause: err },
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function splitTag(ref: string): [string, string | undefined] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, undefined];
}

async function makeRootfs(root: string, binaries: string[]): Promise<void> {
  for (const d of ['bin', 'usr/bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root'])
    await mkdir(join(root, d), { recursive: true });
  await copyFile(BUSYBOX, join(root, 'bin/busybox')).catch((err) => {
    throw new BbackupError(
      'TOOL_FAILED',
      `${BUSYBOX} is missing: install busybox-static (scripts/install-deps.sh)`,
      {},
      { cause: err },
    );
  });
  const { stdout } = await execa(BUSYBOX, ['--list']);
  for (const applet of stdout.split('\n').filter(Boolean)) {
    if (applet === 'busybox') continue;
    await symlink('busybox', join(root, 'bin', applet)).catch(() => undefined);
  }
  await writeFile(
    join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await writeFile(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  for (const bin of binaries) {
    await copyWithLibraries(root, bin);
  }
}

async function copyWithLibraries(root: string, bin: string): Promise<void> {
  const files = new Set([bin]);
  const { stdout } = await execa('ldd', [bin], { reject: false });
  for (const m of stdout.matchAll(/(\/[^\s)]+)/g)) files.add(m[1]!);
  for (const file of files) {
    const target = join(root, file);
    await mkdir(dirname(target), { recursive: true });
    // Busybox applets are symlinks in the image; a real binary replaces them.
    await rm(target, { force: true });
    await copyFile(file, target);
  }
}
