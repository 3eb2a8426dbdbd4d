// Loading an image from the backup before the containers that need it are created: the stored
// export (images/<hex>.tar.zst) is decompressed by the real tool straight into the engine's image
// load, then the image must exist under the id the manifest names, and gets its tags back
// (an export by id carries none).
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { BbackupError, describeError, lastLines } from '../errors.js';
import type { ImageItem } from '../store/manifest.js';
import { dockerError } from '../docker/errors.js';
import { sourcePath } from './volume.js';

const DECOMPRESS: Record<ImageItem['compression'], [string, string[]] | undefined> = {
  zstd: ['zstd', ['-dcq']],
  gzip: ['gzip', ['-dc']],
  none: undefined,
};

export async function loadImage(
  docker: Docker,
  item: ImageItem,
  backupDir: string,
  signal: AbortSignal,
): Promise<{ tagged: string[] }> {
  const entry = item.files[0];
  if (!entry) throw new BbackupError('INTEGRITY', `image ${item.name}: the manifest lists no file`);
  const path = sourcePath(backupDir, entry.path);
  const argv = DECOMPRESS[item.compression];
  const proc = argv
    ? execa(argv[0], [...argv[1], path], {
        stdout: 'pipe',
        stderr: 'pipe',
        buffer: { stdout: false, stderr: true },
        cancelSignal: signal,
        forceKillAfterDelay: 2000,
      })
    : undefined;
  try {
    const input = proc ? proc.stdout : createReadStream(path);
    const stream = await docker.loadImage(input, { quiet: true } as object);
    const messages: { error?: string; errorDetail?: { message?: string } }[] = [];
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: typeof messages) =>
        err ? reject(err) : (messages.push(...(out ?? [])), resolve()),
      ),
    );
    const failed = messages.find((m) => m.error);
    if (failed)
      throw new BbackupError(
        'DOCKER_FAILED',
        `the engine refused image ${item.name} from the backup: ${failed.errorDetail?.message ?? failed.error}`,
      );
    await proc;
  } catch (err) {
    proc?.kill();
    if (signal.aborted) throw signal.reason;
    if (err instanceof BbackupError) throw err;
    const e = err as { stderr?: string };
    if (proc && e.stderr !== undefined)
      throw new BbackupError(
        'TOOL_FAILED',
        `${argv![0]} could not read ${entry.path}: ${lastLines(e.stderr, 5) || describeError(err)}`,
        { path },
        { cause: err },
      );
    throw dockerError(err, `could not load image ${item.name} from the backup`);
  }
  // The engine names images by the digest of their config: this id is what the containers were made from.
  try {
    await docker.getImage(item.name).inspect();
  } catch (err) {
    throw new BbackupError(
      'INTEGRITY',
      `image ${item.name} is not on the engine after loading ${entry.path}: the file holds another image`,
      { path },
      { cause: err },
    );
  }
  const tagged: string[] = [];
  // Tags are given back here, one by one and never over another image's tag.
  for (const tag of item.tags) {
    const at = tag.lastIndexOf(':');
    const [repo, t] = at > tag.lastIndexOf('/') ? [tag.slice(0, at), tag.slice(at + 1)] : [tag, 'latest'];
    const holder = await docker
      .getImage(tag)
      .inspect()
      .then(
        (i) => i.Id,
        () => undefined,
      );
    if (holder && holder !== item.name) continue; // the tag is someone else's image here: left alone, the container uses the id
    if (!holder)
      await docker
        .getImage(item.name)
        .tag({ repo, tag: t })
        .catch((err: unknown) => {
          throw dockerError(err, `could not tag image ${item.name} as ${tag}`);
        });
    tagged.push(tag);
  }
  return { tagged };
}

/**
 * `docker load` applies the tags written inside the archive (manifest.json RepoTags, a legacy
 * repositories file), which could move a tag of an unrelated image on this engine. bbackup exports
 * by id, so its archives carry none: one carrying any, or naming another image, was not made by it
 * and is refused (by the preflight, before anything changes). Only top-level files are unpacked (into a private temp dir).
 */
export async function checkImageArchive(backupDir: string, item: ImageItem, signal: AbortSignal): Promise<void> {
  const entry = item.files[0];
  if (!entry) throw new BbackupError('INTEGRITY', `image ${item.name}: the manifest lists no file`);
  const path = sourcePath(backupDir, entry.path);
  const argv = DECOMPRESS[item.compression];
  const dir = await mkdtemp(join(tmpdir(), 'bbackup-image-'));
  const refuse = (why: string) =>
    new BbackupError('INTEGRITY', `image ${item.name}: ${entry.path} was not made by bbackup's export (${why})`, {
      path,
    });
  try {
    const tarArgs = ['-xf', argv ? '-' : path, '-C', dir, '--no-same-owner', '--no-same-permissions', '--exclude=*/*'];
    const opts = { cancelSignal: signal, forceKillAfterDelay: 2000, stderr: 'pipe' as const };
    await (
      argv ? execa(argv[0], [...argv[1], path], opts).pipe('tar', tarArgs, opts) : execa('tar', tarArgs, opts)
    ).catch((err: { stderr?: string }) => {
      if (signal.aborted) throw signal.reason;
      throw new BbackupError(
        'INTEGRITY',
        `image ${item.name}: ${entry.path} cannot be read as an image archive: ${lastLines(err.stderr, 2) || describeError(err)}`,
        { path },
        { cause: err },
      );
    });
    if (
      await lstat(join(dir, 'repositories')).then(
        () => true,
        () => false,
      )
    )
      throw refuse('it carries a repositories file with tags');
    const manifestPath = join(dir, 'manifest.json');
    if (
      !(await lstat(manifestPath).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      throw refuse('no manifest.json');
    let entries: { Config?: unknown; RepoTags?: unknown }[];
    try {
      entries = JSON.parse(await readFile(manifestPath, 'utf8')) as typeof entries;
    } catch {
      throw refuse('manifest.json is not JSON');
    }
    if (!Array.isArray(entries) || entries.length !== 1) throw refuse('it holds more than one image');
    const [e] = entries;
    if (e!.Config !== `${item.name.replace(/^sha256:/, '')}.json`) throw refuse(`it holds image ${String(e!.Config)}`);
    if (Array.isArray(e!.RepoTags) && e!.RepoTags.length > 0) throw refuse(`it carries tags ${e!.RepoTags.join(', ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
