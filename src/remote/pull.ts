// Download a remote backup into the local store, checked and decrypted. A snapshot of the
// repository (remote format 2) is rebuilt by src/remote/repo/pull.ts; what follows here is format 1.
// The remote is untrusted
// (anyone who can write there may have written it): remote-index.json may name only paths the
// layout produces (pull-index.ts); the manifest is fetched first and checked, and every file must
// match ITS size and sha256 after decryption; packed volume trees are unpacked through the archive
// gate and then compared with their tree index. On a remote that is encrypted, plaintext files are
// refused. Packed trees are unpacked back into volumes/<name>/ so the result is the same layout the
// backup engine wrote (restore and verify need nothing special). Work happens in a hidden .pull-*
// folder, renamed to <id> at the end and removed on any failure: nothing is written outside it.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { AGE_SUFFIX } from '../crypto/age.js';
import { fsyncDir, syncFilesystem } from '../store/durable.js';
import { backupDir, hostDir, MANIFEST, rel } from '../store/layout.js';
import { checkManifest } from '../store/manifest-check.js';
import { readManifest, type FileEntry } from '../store/manifest.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../store/private.js';
import { registerReader } from '../store/readers.js';
import { listRemoteBackups, type RemoteBackup } from './list.js';
import { Meter } from './meter.js';
import { openRemote, remoteConfig } from './open.js';
import { downloadSnapshot } from './repo/pull.js';
import { REMOTE_INDEX, unpackTree } from './packing.js';
import { checkIndex, manifestEntry, parseIndex, planPull } from './pull-index.js';
import { checkUnpackedTree } from './tree-check.js';
import type { Remote } from './types.js';

export interface PullOptions {
  /** local store root (default: config.backup.store) */
  store?: string;
  /** host the backup belongs to; default: the only host on the remote holding this id */
  host?: string;
  emit?: Emit;
  signal: AbortSignal;
  jobId?: string;
  /** what to do when the backup is already in the local store (default: error) */
  ifExists?: 'error' | 'reuse';
}

async function findRemoteBackup(remote: Remote, id: string, o: PullOptions): Promise<RemoteBackup> {
  const { backups } = await listRemoteBackups(remote, o.signal, o.host);
  const found = backups.filter((b) => b.id === id);
  if (found.length === 0)
    throw new BbackupError(
      'NOT_FOUND',
      `remote ${remote.name} has no backup ${id}${o.host ? ` of host ${o.host}` : ''} (bbackup list-remote-backups -r ${remote.name})`,
      { remote: remote.name, id },
    );
  if (found.length > 1)
    throw new BbackupError(
      'USAGE',
      `remote ${remote.name} holds backup ${id} of several hosts (${found.map((b) => b.host).join(', ')}); choose one with --host`,
    );
  return found[0]!;
}

/**
 * Fetches only what restoring `paths` of one volume needs (remote format 2: the volume's index,
 * skeleton and the chosen files' objects, or its archive) into a hidden work folder of the store,
 * runs `use` on it and removes it. Format-1 remotes hold packed trees: undefined, pull it whole.
 */
export async function withPartialPull<T>(
  config: Config,
  remoteName: string,
  id: string,
  o: PullOptions & { volume: string; paths: readonly string[] },
  use: (dir: string, fetchedBytes: number) => Promise<T>,
): Promise<T | undefined> {
  const emit = o.emit ?? noEmit;
  const remote = openRemote(config, remoteName, { emit, jobId: o.jobId ?? `pull-${id}` });
  try {
    const backup = await findRemoteBackup(remote, id, o);
    if (backup.format !== 2) return undefined;
    const store = o.store ?? config.backup.store;
    const folder = hostDir(store, backup.host);
    await mkdir(folder, { recursive: true, mode: PRIVATE_DIR });
    // as for a whole pull: the reader mark names the work folder, so a killed run's is swept
    const workName = `.pull-${id}-${randomBytes(3).toString('hex')}`;
    const reader = await registerReader(folder, id, 'pull', { mustExist: false, work: workName, signal: o.signal });
    const work = join(folder, workName);
    let fetched = 0;
    try {
      await mkdir(work, { mode: PRIVATE_DIR });
      await downloadSnapshot(remote, backup, work, {
        signal: o.signal,
        emit,
        encryptionConfigured: config.encryption.enabled,
        store,
        transfers: remoteConfig(config, remoteName).transfers,
        onBytes: (n) => (fetched += n),
        only: { volume: o.volume, paths: o.paths },
      });
      return await use(work, fetched);
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
      await reader.release();
    }
  } finally {
    await remote.close();
  }
}

/** Pull remote backup `id` into the local store; returns the local backup folder. */
export async function pullBackup(config: Config, remoteName: string, id: string, o: PullOptions): Promise<string> {
  const emit = o.emit ?? noEmit;
  const remote = openRemote(config, remoteName, { emit, jobId: o.jobId ?? `pull-${id}` });
  try {
    const backup = await findRemoteBackup(remote, id, o);
    const store = o.store ?? config.backup.store;
    const target = backupDir(store, backup.host, id);
    if (await exists(target)) {
      if (o.ifExists === 'reuse') return target;
      throw new BbackupError('CONFLICT', `backup ${id} is already in the local store at ${target}`, { dir: target });
    }
    const folder = hostDir(store, backup.host);
    await mkdir(folder, { recursive: true, mode: PRIVATE_DIR });
    // The reader mark (written before the work folder exists) keeps rotation off <id> until we
    // return, and names the work folder: a killed pull's is removed under the host lock (leftovers.ts).
    const workName = `.pull-${id}-${randomBytes(3).toString('hex')}`;
    const reader = await registerReader(folder, id, 'pull', { mustExist: false, work: workName, signal: o.signal });
    const work = join(folder, workName);
    try {
      await mkdir(work, { mode: PRIVATE_DIR });
      if (backup.format === 2) {
        await downloadSnapshot(remote, backup, work, {
          signal: o.signal,
          emit,
          encryptionConfigured: config.encryption.enabled,
          store,
          transfers: remoteConfig(config, remoteName).transfers,
        });
      } else
        await download(remote, backup, work, {
          signal: o.signal,
          emit,
          encryptionConfigured: config.encryption.enabled,
        });
      await readManifest(work); // a manifest we cannot read is not worth keeping
      await syncFilesystem(work, o.signal); // on disk before it looks like a backup (src/store/durable.ts)
      await rename(work, target);
      await fsyncDir(folder);
    } catch (err) {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
      throw err;
    } finally {
      await reader.release();
    }
    emit({ type: 'log', level: 'info', source: 'pull', msg: `pulled ${id} from ${remoteName} into ${target}` });
    return target;
  } finally {
    await remote.close();
  }
}

export interface DownloadOptions {
  signal: AbortSignal;
  emit: Emit;
  /** encryption is configured (enabled with recipients or a passphrase): every file must be .age */
  encryptionConfigured: boolean;
}

/** Manifest and index are read into memory: more than this is not a bbackup file. */
const MAX_JSON = 64 << 20;

export async function download(remote: Remote, backup: RemoteBackup, work: string, o: DownloadOptions): Promise<void> {
  const { prefix } = backup;
  const where = `remote ${remote.name}: backup ${backup.id} of ${backup.host}`;
  const listed = new Set<string>();
  for await (const e of remote.list(prefix, { signal: o.signal })) listed.add(e.key.slice(prefix.length + 1));
  const indexKey = listed.has(`${REMOTE_INDEX}${AGE_SUFFIX}`) ? `${REMOTE_INDEX}${AGE_SUFFIX}` : REMOTE_INDEX;
  if (!listed.has(indexKey))
    throw new BbackupError('INTEGRITY', `${where}: no ${REMOTE_INDEX}; it was not uploaded by bbackup`);
  const rules = { listed, encrypted: o.encryptionConfigured || indexKey.endsWith(AGE_SUFFIX) };
  if (rules.encrypted && !indexKey.endsWith(AGE_SUFFIX)) {
    throw new BbackupError(
      'INTEGRITY',
      `${where}: refused: ${REMOTE_INDEX} is stored unencrypted but encryption is configured: someone without the key may have replaced it. A backup uploaded before encryption was switched on pulls with encryption.enabled: false; nothing was pulled`,
    );
  }
  const index = parseIndex(
    (
      await readAll(await remote.get(`${prefix}/${indexKey}`, { signal: o.signal }), `${where}: ${REMOTE_INDEX}`)
    ).toString('utf8'),
    where,
  );
  rules.encrypted ||= index.encrypted === true;
  checkIndex(index, where, rules);

  // The manifest first: it says what every other file must hold.
  const m = manifestEntry(index, where, listed);
  const bytes = await readAll(await remote.get(`${prefix}/${m.stored}`, { signal: o.signal }), `${where}: ${MANIFEST}`);
  if (
    bytes.length !== m.size ||
    (m.sha256 !== undefined && createHash('sha256').update(bytes).digest('hex') !== m.sha256)
  ) {
    throw new BbackupError(
      'INTEGRITY',
      `${where}: refused: ${MANIFEST} is damaged (${bytes.length} bytes, not the ${m.size} the upload recorded); nothing was pulled`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BbackupError('INTEGRITY', `${where}: ${MANIFEST} is not JSON (${(err as Error).message})`);
  }
  const manifest = checkManifest(doc, where, { id: backup.id, host: backup.host });
  const plan = planPull(index, manifest, where, listed);
  await writeFile(join(work, MANIFEST), bytes, { flag: 'wx', mode: PRIVATE_FILE });
  for (const path of plan.ignored)
    o.emit({ type: 'log', level: 'warn', source: 'pull', msg: `${where}: ${path} is not in the manifest; not pulled` });
  for (const { file, expect } of plan.files)
    await receive(remote, `${prefix}/${file.stored}`, expect, work, where, o.signal);
  for (const t of plan.trees) {
    const dir = join(work, ...rel.volumeTree(t.volume).split('/'));
    await mkdir(dirname(dir), { recursive: true, mode: PRIVATE_DIR });
    await mkdir(dir, { mode: PRIVATE_DIR });
    const what = `the packed tree of volume ${t.volume} (${where})`;
    await unpackTree(await remote.get(`${prefix}/${t.file.stored}`, { signal: o.signal }), dir, o.signal, what);
    const problems = await checkUnpackedTree(dir, join(work, ...t.index.split('/')), o.signal);
    if (problems.length > 0)
      throw new BbackupError(
        'INTEGRITY',
        `${where}: refused: volume ${t.volume} does not match its tree index; nothing was pulled:\n  ${problems.join('\n  ')}`,
        { problems },
      );
  }
}

/** One file, written only where the layout puts it, and checked against the manifest's size and sha256. */
async function receive(
  remote: Remote,
  key: string,
  expect: FileEntry,
  work: string,
  where: string,
  signal: AbortSignal,
): Promise<void> {
  const source = await remote.get(key, { signal });
  const meter = new Meter(['sha256']);
  const path = join(work, ...expect.path.split('/'));
  await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR });
  await pipeline(source, meter, createWriteStream(path, { flags: 'wx', mode: PRIVATE_FILE }), { signal });
  const got = meter.result();
  if (got.size !== expect.size || got.hashes.sha256 !== expect.sha256) {
    throw new BbackupError(
      'INTEGRITY',
      `${where}: refused: ${expect.path} does not match the manifest: got ${got.size} bytes sha256 ${got.hashes.sha256?.slice(0, 12)}…, the manifest says ${expect.size} bytes sha256 ${expect.sha256.slice(0, 12)}…; nothing was pulled`,
      { path: expect.path },
    );
  }
}

async function readAll(s: Readable, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of s) {
    size += (c as Buffer).length;
    if (size > MAX_JSON) {
      s.destroy();
      throw new BbackupError('INTEGRITY', `${what} is larger than ${MAX_JSON >> 20} MiB; refused`);
    }
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
