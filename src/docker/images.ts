// Images built offline from the host's own binaries (RECIPES.md §2): no registry is needed.
// The worker image carries bbcopy (the copy engine), rsync, GNU tar and zstd with their shared
// libraries, plus busybox for a shell; a busybox-only image is used by the demo and the tests.
// Each image we build is labelled with a digest of what went into it (bbackup.recipe): an image
// of ours built from other binaries (an older bbackup, an upgraded rsync) is built again.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { BbackupError } from '../errors.js';
import { BBCOPY_IN_IMAGE, bbcopyPath } from '../paths.js';

export const WORKER_TOOLS = ['/usr/bin/rsync', '/bin/tar', '/usr/bin/zstd'];
// Busybox's shell prefers its own applets over PATH (FEATURE_PREFER_APPLETS): exec tools by absolute path.
const BUSYBOX = '/bin/busybox';

export interface ImageSpec {
  /** repo:tag */
  tag: string;
  /** host binaries copied with their libraries, at the same paths */
  binaries: string[];
  /** host files copied with their libraries to another path in the image: [host path, image path] */
  files?: [string, string][];
  labels?: Record<string, string>;
}

const IMAGE_LABEL = 'bbackup.image';
const RECIPE_LABEL = 'bbackup.recipe';

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Labels of an image, or undefined when there is none by that tag. */
async function imageLabels(docker: Docker, tag: string): Promise<Record<string, string> | undefined> {
  try {
    const info = (await docker.getImage(tag).inspect()) as { Config?: { Labels?: Record<string, string> | null } };
    return info.Config?.Labels ?? {};
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

const recipes = new Map<string, Promise<string>>();

/** Digest of everything copied into the image (file contents, image paths); once per process. */
function recipeOf(spec: ImageSpec): Promise<string> {
  const sources: [string, string][] = [...spec.binaries.map((b): [string, string] => [b, b]), ...(spec.files ?? [])];
  const key = JSON.stringify(sources);
  let p = recipes.get(key);
  if (!p) {
    p = (async () => {
      const h = createHash('sha256').update('bbackup image recipe 1\n');
      for (const [from, to] of sources) {
        h.update(`${to}\n`);
        h.update(await readFile(from).catch(() => Buffer.from('missing')));
      }
      return h.digest('hex').slice(0, 32);
    })();
    recipes.set(key, p);
  }
  return p;
}

/** Builds in progress, so two volumes read at once do not build the same image twice. */
const building = new WeakMap<Docker, Map<string, Promise<void>>>();

/**
 * Build `spec.tag` from busybox and host binaries unless it exists already, or exists as one of
 * ours from another recipe. An image of that tag that is not ours (a user's own) is used as it is.
 */
export async function ensureImage(docker: Docker, spec: ImageSpec): Promise<void> {
  const recipe = await recipeOf(spec);
  const labels = await imageLabels(docker, spec.tag);
  const ours = labels?.[IMAGE_LABEL] !== undefined;
  if (labels && (!ours || labels[RECIPE_LABEL] === recipe)) return;
  let byTag = building.get(docker);
  if (!byTag) building.set(docker, (byTag = new Map()));
  let p = byTag.get(spec.tag);
  if (!p) {
    p = buildImage(docker, { ...spec, labels: { ...spec.labels, [RECIPE_LABEL]: recipe } }).finally(() =>
      byTag.delete(spec.tag),
    );
    byTag.set(spec.tag, p);
  }
  await p;
}

export const workerImageSpec = (tag: string): ImageSpec => ({
  tag,
  binaries: WORKER_TOOLS,
  files: [[bbcopyPath(), BBCOPY_IN_IMAGE]],
  labels: { [IMAGE_LABEL]: 'worker' },
});
export const busyboxImageSpec = (tag: string): ImageSpec => ({
  tag,
  binaries: [],
  labels: { [IMAGE_LABEL]: 'busybox' },
});

export async function buildImage(docker: Docker, spec: ImageSpec): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'bbackup-image-'));
  try {
    await makeRootfs(root, spec.binaries, spec.files ?? []);
    const [repo, tag = 'latest'] = splitTag(spec.tag);
    const tar = execa('tar', ['-C', root, '--numeric-owner', '-cf', '-', '.'], { stdout: 'pipe', buffer: false });
    const changes = [
      'ENV PATH=/usr/local/bin:/usr/bin:/bin',
      'CMD ["/bin/sh"]',
      ...Object.entries(spec.labels ?? {}).map(([k, v]) => `LABEL ${k}=${v}`),
    ];
    const stream = await docker.importImage(tar.stdout, { repo, tag, changes } as unknown as object);
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

async function makeRootfs(root: string, binaries: string[], files: [string, string][]): Promise<void> {
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
  for (const bin of binaries) await copyWithLibraries(root, bin, bin);
  for (const [from, to] of files) await copyWithLibraries(root, from, to);
}

async function copyWithLibraries(root: string, bin: string, at: string): Promise<void> {
  const files = new Map([[bin, at]]);
  const { stdout } = await execa('ldd', [bin], { reject: false });
  for (const m of stdout.matchAll(/(\/[^\s)]+)/g)) files.set(m[1]!, m[1]!);
  for (const [file, to] of files) {
    const target = join(root, to);
    await mkdir(dirname(target), { recursive: true });
    // Busybox applets are symlinks in the image; a real binary replaces them.
    await rm(target, { force: true });
    await copyFile(file, target);
  }
}
