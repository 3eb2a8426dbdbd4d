// The repository in a remote's root: bbackup-repo.json names it (format, a random id), and the
// local store keeps a cache per repository id under <store>/.remotes/<id>/ (private, 0700): the
// naming keys this host uses and the pack indexes it has read. The cache only saves transfers;
// what exists is always decided by listing the remote.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError } from '../../errors.js';
import { PRIVATE_DIR } from '../../store/private.js';
import { collect, type Remote } from '../types.js';
import { checkFormat, REPO_FILE, REPO_FORMAT } from './format.js';
import { putJson, readJson } from './io.js';

export interface RepoFile {
  format: typeof REPO_FORMAT;
  /** random, 32 hex: names the local cache */
  id: string;
  created: string;
}

export interface Repo {
  remote: Remote;
  info: RepoFile;
  /** <store>/.remotes/<id> */
  cacheDir: string;
}

export const CACHE_ROOT = '.remotes';

/** The repository's description, or undefined when the remote holds none (format 1 or empty). */
export async function readRepoFile(remote: Remote, signal: AbortSignal): Promise<RepoFile | undefined> {
  const found = (await collect(remote.list('', { signal, maxDepth: 1 }))).some((e) => e.key === REPO_FILE);
  if (!found) return undefined;
  return loadRepoFile(remote, signal);
}

/** Read and check bbackup-repo.json (listed): a newer major format is refused here, before anything else is read. */
export async function loadRepoFile(remote: Remote, signal: AbortSignal): Promise<RepoFile> {
  const d = checkFormat(await readJson(remote, REPO_FILE, 64 * 1024, signal), `remote ${remote.name}: ${REPO_FILE}`);
  if (typeof d.id !== 'string' || !/^[0-9a-f]{32}$/.test(d.id))
    throw new BbackupError('INTEGRITY', `remote ${remote.name}: ${REPO_FILE} has no valid id`);
  return { format: REPO_FORMAT, id: d.id, created: typeof d.created === 'string' ? d.created : '' };
}

/**
 * The repository of this remote, made when `create` and there is none yet. Two hosts creating it
 * at once both succeed: the last description wins and the other host's cache is simply unused.
 */
export async function openRepo(
  remote: Remote,
  store: string,
  o: { create: boolean; signal: AbortSignal },
): Promise<Repo | undefined> {
  let info = await readRepoFile(remote, o.signal);
  if (!info) {
    if (!o.create) return undefined;
    info = { format: REPO_FORMAT, id: randomBytes(16).toString('hex'), created: new Date().toISOString() };
    await putJson(remote, REPO_FILE, info, o.signal, true);
  }
  const cacheDir = join(store, CACHE_ROOT, info.id);
  await mkdir(cacheDir, { recursive: true, mode: PRIVATE_DIR });
  return { remote, info, cacheDir };
}

/** A scratch folder in the cache (same filesystem as the store); stale ones (> 1 day) are removed. */
export async function scratchDir(repo: Repo): Promise<string> {
  const names = await readdir(repo.cacheDir).catch(() => [] as string[]);
  for (const n of names.filter((x) => x.startsWith('work-'))) {
    const st = await stat(join(repo.cacheDir, n)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 24 * 3600 * 1000)
      await rm(join(repo.cacheDir, n), { recursive: true, force: true });
  }
  const dir = join(repo.cacheDir, `work-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { mode: PRIVATE_DIR });
  return dir;
}
