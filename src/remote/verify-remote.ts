// bbackup verify --remote R [ID]: check backups where they are stored. A snapshot (format 2) is
// checked object by object (src/remote/repo/verify.ts); a format 1 backup is downloaded into a
// scratch folder with every check a pull makes, then the scratch folder is removed.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { BbackupError, describeError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { PRIVATE_DIR } from '../store/private.js';
import { listRemoteBackups, type RemoteBackup } from './list.js';
import { openRemote, remoteConfig } from './open.js';
import { download } from './pull.js';
import { CACHE_ROOT } from './repo/repo.js';
import { verifySnapshot } from './repo/verify.js';

export interface RemoteVerifyOptions {
  store: string;
  host?: string;
  /** one backup; default: the newest of each host (or every one with `all`) */
  id?: string;
  all?: boolean;
  readData: boolean;
  signal: AbortSignal;
  emit?: Emit;
}

export interface RemoteVerifyReport {
  remote: string;
  host: string;
  id: string;
  format: 1 | 2;
  objects?: number;
  packs?: number;
  /** bytes read and checked */
  bytes: number;
  problems: string[];
}

function choose(backups: RemoteBackup[], o: RemoteVerifyOptions, remote: string): RemoteBackup[] {
  if (o.id !== undefined) {
    const found = backups.filter((b) => b.id === o.id);
    if (found.length === 0)
      throw new BbackupError(
        'NOT_FOUND',
        `remote ${remote} has no backup ${o.id}${o.host ? ` of host ${o.host}` : ''} (bbackup list-remote-backups -r ${remote})`,
      );
    return found;
  }
  if (o.all) return backups;
  const newest = new Map<string, RemoteBackup>();
  for (const b of backups) newest.set(b.host, b); // sorted oldest first
  return [...newest.values()];
}

export async function verifyRemote(
  config: Config,
  remoteName: string,
  o: RemoteVerifyOptions,
): Promise<RemoteVerifyReport[]> {
  const emit = o.emit ?? noEmit;
  const remote = openRemote(config, remoteName, { emit: (e) => (e.type === 'log' ? emit(e) : undefined) });
  const canDecrypt = Boolean(config.encryption.identity_file || config.encryption.passphrase);
  const transfers = remoteConfig(config, remoteName).transfers;
  try {
    const { backups } = await listRemoteBackups(remote, o.signal, o.host);
    if (backups.length === 0 && o.id === undefined)
      throw new BbackupError('NOT_FOUND', `remote ${remoteName} holds no backups${o.host ? ` of host ${o.host}` : ''}`);
    const out: RemoteVerifyReport[] = [];
    for (const b of choose(backups, o, remoteName)) {
      o.signal.throwIfAborted();
      const base = { remote: remoteName, host: b.host, id: b.id, format: b.format };
      if (b.format === 2) {
        const r = await verifySnapshot(remote, b, {
          store: o.store,
          readData: o.readData,
          canDecrypt,
          transfers,
          signal: o.signal,
        });
        out.push({ ...base, ...r });
        continue;
      }
      // format 1: a pull into a scratch folder is the check
      const scratch = join(o.store, CACHE_ROOT, `verify-${randomBytes(4).toString('hex')}`);
      await mkdir(scratch, { recursive: true, mode: PRIVATE_DIR });
      try {
        await download(remote, b, scratch, { signal: o.signal, emit, encryptionConfigured: config.encryption.enabled });
        out.push({ ...base, bytes: b.size, problems: [] });
      } catch (err) {
        if (o.signal.aborted) throw err;
        out.push({ ...base, bytes: 0, problems: [describeError(err)] });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    }
    return out;
  } finally {
    await remote.close();
  }
}
