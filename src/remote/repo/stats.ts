// What a remote holds, in numbers: backups, bytes stored, bytes the backups restore to (their
// ratio is what deduplication saves), and what the newest local backup would add if sent now
// (its objects the remote lacks). Also each snapshot's share of the stored bytes, for the quota.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { listBackups } from '../../store/catalog.js';
import { rel } from '../../store/layout.js';
import type { Manifest } from '../../store/manifest.js';
import { listRemoteBackups, type RemoteBackup } from '../list.js';
import { collect, type Remote } from '../types.js';
import { MAX_REFS, SNAP } from './format.js';
import { eachLimit, readJson } from './io.js';
import { resolveNaming, type Naming } from './naming.js';
import { loadObjectIndex, type ObjectIndex } from './packs.js';
import { parseIndexLine } from './plan-upload.js';
import { openRepo } from './repo.js';
import { parseRefs } from './snapshot.js';

/** Stored bytes per object of a pack: its share of the pack's stored size. */
function storedPerObject(index: ObjectIndex): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of index.packs.values()) {
    const plain = (p.objects ?? []).reduce((a, [, s]) => a + s, 0);
    for (const [id, size] of p.objects ?? [])
      if (!out.has(id)) out.set(id, plain > 0 ? (size / plain) * (p.stored + p.indexStored) : 0);
  }
  return out;
}

/** For the quota: each snapshot's objects with their stored bytes (shared objects carry one key). */
export async function snapshotShares(
  remote: Remote,
  store: string,
  backups: RemoteBackup[],
  signal: AbortSignal,
): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  const repo = await openRepo(remote, store, { create: false, signal });
  if (!repo) return out;
  const perObject = storedPerObject(await loadObjectIndex(repo, { signal }));
  await eachLimit(backups, 4, async (b) => {
    const own = new Map<string, number>([[b.prefix, [...(b.entries?.values() ?? [])].reduce((a, e) => a + e.size, 0)]]);
    try {
      const refs = parseRefs(await readJson(remote, `${b.prefix}/${SNAP.refs}`, MAX_REFS, signal), b.id, b.prefix);
      for (const obj of refs.objects) own.set(obj, perObject.get(obj) ?? 0);
    } catch (err) {
      if (signal.aborted) throw err;
    }
    out.set(b.prefix, own);
  });
  return out;
}

export interface RemoteStats {
  backups: number;
  /** of those, in remote format 1 (not deduplicated) */
  format1: number;
  /** bytes stored on the remote (everything listed) */
  stored: number;
  /** bytes the backups restore to, added up */
  logical: number;
  /** logical / stored */
  dedupRatio?: number;
  /** what the newest local backup would send (plaintext bytes), when it can be told */
  wouldAdd?: { bytes: number; of: number; backup: string; sent: boolean };
}

export interface StatsOptions {
  store: string;
  /** this host's folder in the store: its newest backup is the "new backup" */
  hostDir?: string;
  encrypted: boolean;
  canDecrypt: boolean;
  signal: AbortSignal;
}

export async function remoteStats(remote: Remote, o: StatsOptions): Promise<RemoteStats> {
  const listing = await listRemoteBackups(remote, o.signal, undefined, { details: true });
  const stored = (await collect(remote.list('', { signal: o.signal }))).reduce((a, e) => a + e.size, 0);
  const logical = listing.backups.reduce((a, b) => a + b.size, 0);
  const stats: RemoteStats = {
    backups: listing.backups.length,
    format1: listing.backups.filter((b) => b.format === 1).length,
    stored,
    logical,
    dedupRatio: stored > 0 && logical > 0 ? logical / stored : undefined,
  };
  const newest = o.hostDir ? (await listBackups(o.hostDir)).filter((e) => e.manifest).at(-1) : undefined;
  if (!newest?.manifest) return stats;
  const sent = listing.backups.some((b) => b.format === 2 && b.id === newest.id && b.host === newest.manifest!.host);
  const repo = listing.repo ? await openRepo(remote, o.store, { create: false, signal: o.signal }) : undefined;
  const naming = repo
    ? await resolveNaming(repo, { encrypted: o.encrypted, canDecrypt: o.canDecrypt, create: false, signal: o.signal })
    : undefined;
  const present =
    repo && naming
      ? (await loadObjectIndex(repo, { signal: o.signal, only: o.encrypted ? 'encrypted' : 'plaintext' })).objects
      : new Map<string, unknown>();
  const { total, missing } = await newObjects(newest.dir, newest.manifest, naming, present);
  stats.wouldAdd = { bytes: missing, of: total, backup: newest.id, sent };
  return stats;
}

/** Plaintext bytes of a local backup's distinct contents, and of those the remote lacks (no naming: all). */
async function newObjects(
  dir: string,
  manifest: Manifest,
  naming: Naming | undefined,
  present: Map<string, unknown>,
): Promise<{ total: number; missing: number }> {
  const seen = new Set<string>();
  let total = 0;
  let missing = 0;
  const add = (sha: string, size: number) => {
    if (seen.has(sha)) return;
    seen.add(sha);
    total += size;
    if (!naming || !present.has(naming.objectId(sha))) missing += size;
  };
  for (const item of manifest.items) {
    for (const f of item.files) add(f.sha256, f.size);
    if (item.kind !== 'volume' || item.format !== 'tree') continue;
    const where = join(dir, rel.volumeIndex(item.name));
    for await (const line of createInterface({
      input: createReadStream(where, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    })) {
      if (!line) continue;
      const e = parseIndexLine(line, where);
      if (e.t === 'f' && e.size) add(e.sha256!, e.size);
    }
  }
  return { total, missing };
}
