// Which pack keeps each live object. An object may sit in more than one pack: a rewrite cut after
// its new pack was written (the old pack still holds the same objects), or two hosts sending the
// same object at once. The sweep keeps one copy: in the pack holding it whose bytes are most live
// (ties: the smaller pack id, so every run decides alike). A pack then keeps only the objects it
// owns; one that owns none can go, and a cut rewrite is finished by dropping the old pack (the new
// one, all live, owns everything).
import type { PackInfo } from './packs.js';

export interface PackPlan {
  packId: string;
  /** plaintext bytes listed in the pack's index */
  total: number;
  /** objects this pack keeps and their plaintext bytes */
  own: Set<string>;
  ownBytes: number;
}

/** Packs without an index are left out (the sweep handles them by age). */
export function planPackOwners(packs: Iterable<PackInfo>, live: ReadonlySet<string>): Map<string, PackPlan> {
  const indexed = [...packs].filter((p) => p.objects !== undefined);
  const liveShare = new Map<string, number>();
  for (const p of indexed) {
    const total = p.objects!.reduce((a, [, s]) => a + s, 0);
    const liveBytes = p.objects!.filter(([id]) => live.has(id)).reduce((a, [, s]) => a + s, 0);
    // an empty-content pack that holds live objects counts as fully live
    liveShare.set(p.packId, total > 0 ? liveBytes / total : 1);
  }
  const better = (a: string, b: string) =>
    liveShare.get(a)! > liveShare.get(b)! || (liveShare.get(a) === liveShare.get(b) && a < b);
  const owner = new Map<string, string>();
  for (const p of indexed)
    for (const [id] of p.objects!) {
      if (!live.has(id)) continue;
      const cur = owner.get(id);
      if (cur === undefined || better(p.packId, cur)) owner.set(id, p.packId);
    }
  const out = new Map<string, PackPlan>();
  for (const p of indexed) {
    const plan: PackPlan = { packId: p.packId, total: 0, own: new Set(), ownBytes: 0 };
    for (const [id, size] of p.objects!) {
      plan.total += size;
      if (owner.get(id) === p.packId && !plan.own.has(id)) {
        plan.own.add(id);
        plan.ownBytes += size;
      }
    }
    out.set(p.packId, plan);
  }
  return out;
}
