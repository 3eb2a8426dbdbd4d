// retention.json: a small plaintext file in every remote backup, so rotation knows each backup's
// status and group without decrypting anything (the backup host may hold only age recipients).
// Uploaded with the backup, before the manifest, inside the .partial folder that the final rename
// makes visible: a backup that has a manifest has its retention.json too (older uploads excepted).
// Never in remote-index.json: pull does not download it, it is not part of the local layout.
//
// For a backup without one (uploaded by an older bbackup), remoteStatus falls back to the local
// store's manifest of the same id, then to the remote manifest (plaintext, or encrypted when an
// identity is configured), and otherwise reports it unknown: rotation then keeps it as a group of
// its own, so missing information never removes a backup.
import type { Readable } from 'node:stream';
import { BbackupError } from '../errors.js';
import { MANIFEST } from '../store/layout.js';
import { hashedGroup, isGroupKey, manifestGroup } from '../store/retention-group.js';
import type { Manifest } from '../store/manifest.js';
import type { Remote } from './types.js';

export const RETENTION_FILE = 'retention.json';
export const RETENTION_FORMAT = 1;

export interface RetentionInfo {
  format: typeof RETENTION_FORMAT;
  id: string;
  status: 'complete' | 'partial';
  /** the group key; on an encrypted remote its hash (hashedGroup) */
  group: string;
}

export interface RemoteStatus {
  complete: boolean;
  /** the group key, or its hash when only that is known */
  group: string;
  /** where it was learnt */
  source: 'retention.json' | 'local manifest' | 'remote manifest';
}

export function retentionInfoBody(manifest: Manifest, encrypted: boolean): Buffer {
  const group = manifestGroup(manifest);
  const info: RetentionInfo = {
    format: RETENTION_FORMAT,
    id: manifest.id,
    status: manifest.status,
    group: encrypted ? hashedGroup(group) : group,
  };
  return Buffer.from(`${JSON.stringify(info)}\n`);
}

export interface StatusSources {
  /** the manifest of this id in the local store, if it is there */
  localManifest(id: string): Promise<Manifest | undefined>;
  /** an age identity or passphrase is configured: an encrypted manifest can be read */
  canDecrypt: boolean;
}

/** Status and group of the remote backup at prefix, or undefined when nothing tells them. */
export async function remoteStatus(
  remote: Remote,
  prefix: string,
  id: string,
  files: ReadonlySet<string>,
  src: StatusSources,
  signal: AbortSignal,
): Promise<RemoteStatus | undefined> {
  if (files.has(RETENTION_FILE)) {
    const info = parseInfo(
      await readSmall(remote, `${prefix}/${RETENTION_FILE}`, 64 * 1024, signal).catch(() => undefined),
      id,
    );
    if (info) return { complete: info.status === 'complete', group: info.group, source: 'retention.json' };
  }
  const local = await src.localManifest(id);
  if (local && local.id === id)
    return { complete: local.status === 'complete', group: manifestGroup(local), source: 'local manifest' };
  const key = files.has(MANIFEST)
    ? MANIFEST
    : files.has(`${MANIFEST}.age`) && src.canDecrypt
      ? `${MANIFEST}.age`
      : undefined;
  if (!key) return undefined;
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readSmall(remote, `${prefix}/${key}`, 64 * 1024 * 1024, signal));
  } catch (err) {
    if (signal.aborted) throw err;
    return undefined; // unreadable (wrong key, damaged): unknown, so kept
  }
  const m = manifest as Partial<Manifest> | null;
  if (!m || m.id !== id || (m.status !== 'complete' && m.status !== 'partial')) return undefined;
  return { complete: m.status === 'complete', group: manifestGroup(m), source: 'remote manifest' };
}

/** A retention.json is trusted for nothing but its shape: it must name this backup. */
function parseInfo(text: string | undefined, id: string): RetentionInfo | undefined {
  if (text === undefined) return undefined;
  try {
    const x = JSON.parse(text) as Partial<RetentionInfo> | null;
    if (
      !x ||
      x.format !== RETENTION_FORMAT ||
      x.id !== id ||
      (x.status !== 'complete' && x.status !== 'partial') ||
      !isGroupKey(x.group)
    )
      return undefined;
    return x as RetentionInfo;
  } catch {
    return undefined;
  }
}

async function readSmall(remote: Remote, key: string, limit: number, signal: AbortSignal): Promise<string> {
  const stream: Readable = await remote.get(key, { signal });
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new BbackupError('INTEGRITY', `remote ${remote.name}: ${key} is larger than ${limit} bytes`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}
