// Each snapshot's share of a remote's stored bytes (objects shared by snapshots carry one key),
// for the quota's rotation (src/jobs/rotate.ts).
import type { RemoteBackup } from '../list.js';
import type { Remote } from '../types.js';
import { MAX_REFS, SNAP } from './format.js';
import { eachLimit, readJson } from './io.js';
import { loadObjectIndex, type ObjectIndex } from './packs.js';
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
