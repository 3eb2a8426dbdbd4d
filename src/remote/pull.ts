// Download a remote backup into the local store, checked and decrypted: every file's plaintext
// size and sha256 must match remote-index.json; packed volume trees are unpacked back into
// volumes/<name>/ so the result is the same layout the backup engine wrote (restore and verify
// need nothing special). Work happens in a hidden .pull-* folder renamed to <id> at the end.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { backupDir, hostDir } from '../store/layout.js';
import { readManifest } from '../store/manifest.js';
import { registerReader } from '../store/readers.js';
import { listRemoteBackups } from './list.js';
import { Meter } from './meter.js';
import { openRemote } from './open.js';
import { REMOTE_INDEX, unpackTree, type RemoteFile, type RemoteIndex } from './packing.js';
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

/** Pull remote backup `id` into the local store; returns the local backup folder. */
export async function pullBackup(config: Config, remoteName: string, id: string, o: PullOptions): Promise<string> {
  const emit = o.emit ?? noEmit;
  const remote = openRemote(config, remoteName, { emit, jobId: o.jobId ?? `pull-${id}` });
  try {
    const { backups } = await listRemoteBackups(remote, o.signal, o.host);
    const found = backups.filter((b) => b.id === id);
    if (found.length === 0) throw new BbackupError('NOT_FOUND', `remote ${remoteName} has no backup ${id}${o.host ? ` of host ${o.host}` : ''} (bbackup list-remote-backups -r ${remoteName})`, { remote: remoteName, id });
    if (found.length > 1) throw new BbackupError('USAGE', `remote ${remoteName} holds backup ${id} of several hosts (${found.map((b) => b.host).join(', ')}); choose one with --host`);
    const backup = found[0]!;
    const store = o.store ?? config.backup.store;
    const target = backupDir(store, backup.host, id);
    if (await exists(target)) {
      if (o.ifExists === 'reuse') return target;
      throw new BbackupError('CONFLICT', `backup ${id} is already in the local store at ${target}`, { dir: target });
    }
    const folder = hostDir(store, backup.host);
    await mkdir(folder, { recursive: true });
    // The reader mark (written before the work folder exists) keeps rotation off <id> until we
    // return, and names the work folder: a killed pull's is removed under the host lock (leftovers.ts).
    const workName = `.pull-${id}-${randomBytes(3).toString('hex')}`;
    const reader = await registerReader(folder, id, 'pull', { mustExist: false, work: workName, signal: o.signal });
    const work = join(folder, workName);
    try {
      await mkdir(work);
      await download(remote, backup.prefix, work, o.signal);
      await readManifest(work); // a manifest we cannot read is not worth keeping
      await rename(work, target);
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

async function download(remote: Remote, prefix: string, work: string, signal: AbortSignal): Promise<void> {
  const listed = new Set<string>();
  for await (const e of remote.list(prefix, { signal })) listed.add(e.key.slice(prefix.length + 1));
  const indexKey = listed.has(`${REMOTE_INDEX}.age`) ? `${REMOTE_INDEX}.age` : REMOTE_INDEX;
  if (!listed.has(indexKey)) throw new BbackupError('INTEGRITY', `remote ${remote.name}: ${prefix} has no ${REMOTE_INDEX}; it was not uploaded by bbackup`);
  const index = JSON.parse(await readAll(await remote.get(`${prefix}/${indexKey}`, { signal }))) as RemoteIndex;
  for (const f of index.files) {
    if (!listed.has(f.stored)) throw new BbackupError('INTEGRITY', `remote ${remote.name}: ${prefix}/${f.stored} is missing`);
    const source = await remote.get(`${prefix}/${f.stored}`, { signal });
    await receive(remote.name, source, f, work, signal);
  }
}

async function receive(remoteName: string, source: Readable, f: RemoteFile, work: string, signal: AbortSignal): Promise<void> {
  const meter = new Meter(f.sha256 === undefined ? [] : ['sha256']);
  source.on('error', (err) => meter.destroy(err));
  const checked = source.pipe(meter);
  if (f.unpackTo) {
    const dir = join(work, ...f.unpackTo.split('/'));
    await mkdir(dir, { recursive: true });
    await unpackTree(checked, dir, signal);
  } else {
    const path = join(work, ...f.path.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await pipeline(checked, createWriteStream(path), { signal });
  }
  const got = meter.result();
  if (got.size !== f.size || (f.sha256 !== undefined && got.hashes.sha256 !== f.sha256)) {
    throw new BbackupError('INTEGRITY', `remote ${remoteName}: ${f.path} is damaged: got ${got.size} bytes sha256 ${got.hashes.sha256?.slice(0, 12)}, expected ${f.size} bytes${f.sha256 ? ` sha256 ${f.sha256.slice(0, 12)}` : ''}`, { path: f.path });
  }
}

async function readAll(s: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

const exists = (p: string) => stat(p).then(() => true, () => false);
