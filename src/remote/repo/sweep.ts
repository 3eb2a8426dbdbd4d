// Mark and sweep: free the space of objects no backup needs any more. Under an exclusive remote
// lock (never while any upload holds its shared lock: that upload may reuse any object). Live =
// every object in the refs.json.gz (plaintext) of every snapshot that has a manifest, of every
// host, so no identity is needed. Then:
// - each live object is kept in one pack (pack-owners.ts); a pack that keeps none goes (index
//   first, then the pack), so duplicates left by a cut rewrite or by two uploads go too;
// - a pack mostly dead (>= REWRITE_AT of its bytes) is rewritten with its live objects when it can be read
//   (unencrypted, or the identity is configured) and is of the kind uploads now write; otherwise
//   it stays until nothing in it is live;
// - snapshot folders without a manifest (cut uploads), packs without an index and indexes without
//   a pack are removed once older than a day (younger ones may belong to a run that is still going).
// A snapshot whose refs cannot be read stops the sweep: nothing is removed when unsure.
import { createHash, createHmac } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError, describeError } from '../../errors.js';
import { noEmit, type Emit } from '../../events.js';
import { listRemoteBackups } from '../list.js';
import type { Remote } from '../types.js';
import { MAX_REFS, packIndexKey, SNAP } from './format.js';
import { readJson } from './io.js';
import { acquireRemoteLock, readLocks, describeLock } from './lock.js';
import { readableKeys } from './naming.js';
import { planPackOwners, type PackPlan } from './pack-owners.js';
import { loadObjectIndex, writePack, type PackInfo, type PackItem } from './packs.js';
import { readPack } from './fetch.js';
import { openRepo, scratchDir, type Repo } from './repo.js';
import { parseRefs } from './snapshot.js';

export interface SweepOptions {
  /** local store root (repository cache) */
  store: string;
  signal: AbortSignal;
  emit?: Emit;
  jobId?: string;
  dryRun: boolean;
  /** uploads encrypt now: only packs of that kind are rewritten */
  encrypted: boolean;
  /** an identity is configured: encrypted packs can be rewritten */
  canDecrypt: boolean;
  /** zstd level for rewritten packs */
  level: number;
  /** leftovers of cut runs younger than this stay (default 1 day) */
  cutGraceMs?: number;
  /** a pack is rewritten when at least this share of its bytes is dead (default 0.5) */
  rewriteAt?: number;
  leaseMs?: number;
  /** tests only: called after a rewrite stored its new pack and index, before the old pack goes */
  afterNewPack?: (oldPack: string, newPack: string) => Promise<void>;
}

/**
 * A pack is rewritten when at least this share of its plaintext bytes is no longer needed: below
 * it, the bytes freed are not worth reading and sending the rest again.
 */
export const REWRITE_AT = 0.5;

export interface SweepReport {
  /** false: not run, see `reason` */
  ran: boolean;
  reason?: string;
  packsRemoved: number;
  packsRewritten: number;
  /** bytes freed (stored size) */
  freed: number;
  /** snapshot folders of cut uploads removed */
  cutRemoved: string[];
  /** mostly dead packs that stay (encrypted without an identity, or of the other kind) */
  packsKept: number;
}

const DAY = 24 * 3600 * 1000;

export async function sweepRemote(remote: Remote, o: SweepOptions): Promise<SweepReport> {
  const report: SweepReport = {
    ran: false,
    packsRemoved: 0,
    packsRewritten: 0,
    freed: 0,
    cutRemoved: [],
    packsKept: 0,
  };
  const emit = o.emit ?? noEmit;
  const log = (level: 'info' | 'warn', msg: string) =>
    emit({ type: 'log', jobId: o.jobId, level, source: 'retention', msg: `remote ${remote.name}: ${msg}` });
  const repo = await openRepo(remote, o.store, { create: false, signal: o.signal });
  if (!repo) return { ...report, reason: 'no repository on this remote' };
  let lock;
  if (o.dryRun) {
    const busy = (await readLocks(remote, o.signal)).filter((l) => l.live);
    if (busy.length > 0) return { ...report, reason: `would wait: ${busy.map(describeLock).join('; ')}` };
  } else {
    try {
      lock = await acquireRemoteLock(remote, {
        kind: 'exclusive',
        purpose: 'rotation (sweep)',
        host: '',
        signal: o.signal,
        emit,
        leaseMs: o.leaseMs,
      });
    } catch (err) {
      if (err instanceof BbackupError && err.code === 'LOCKED') {
        log(
          'info',
          `space not freed now (${err.message.replace(/^remote \S+ is locked: /, '')}); the next rotation frees it`,
        );
        return { ...report, reason: err.message };
      }
      throw err;
    }
  }
  try {
    return await sweep(repo, o, report, log);
  } finally {
    await lock?.release();
  }
}

async function sweep(
  repo: Repo,
  o: SweepOptions,
  report: SweepReport,
  log: (l: 'info' | 'warn', m: string) => void,
): Promise<SweepReport> {
  const { remote } = repo;
  const grace = o.cutGraceMs ?? DAY;
  const now = Date.now();
  const listing = await listRemoteBackups(remote, o.signal);
  const live = new Set<string>();
  for (const b of listing.backups.filter((x) => x.format === 2)) {
    if (!b.entries?.has(SNAP.refs))
      throw new BbackupError(
        'INTEGRITY',
        `remote ${remote.name}: backup ${b.id} of ${b.host} has no ${SNAP.refs}: nothing was removed (remove that backup by hand if it is damaged)`,
      );
    const refs = parseRefs(
      await readJson(remote, `${b.prefix}/${SNAP.refs}`, MAX_REFS, o.signal),
      b.id,
      `remote ${remote.name}: ${b.prefix}/${SNAP.refs}`,
    );
    for (const obj of refs.objects) live.add(obj);
  }
  for (const c of listing.cut) {
    if (now - c.newest.getTime() < grace) continue;
    if (!o.dryRun) await remote.removeDir(c.prefix, { signal: o.signal });
    report.cutRemoved.push(c.prefix);
    log('info', `${o.dryRun ? 'would remove' : 'removed'} ${c.prefix}: an upload cut off more than a day ago`);
  }
  const index = await loadObjectIndex(repo, { signal: o.signal });
  const old = (p: PackInfo) => now - p.mtime.getTime() >= grace;
  const plans = planPackOwners(index.packs.values(), live);
  const rewrite: PackInfo[] = [];
  for (const p of index.packs.values()) {
    o.signal.throwIfAborted();
    const plan = plans.get(p.packId);
    if (!plan) {
      if (old(p)) await drop(repo, p, o, report, false);
      continue;
    }
    // nothing it holds is needed, or every needed object of it has a better copy in another pack
    if (plan.own.size === 0) await drop(repo, p, o, report, true);
    else if (plan.total > 0 && 1 - plan.ownBytes / plan.total >= (o.rewriteAt ?? REWRITE_AT)) {
      if (p.encrypted === o.encrypted && (!p.encrypted || o.canDecrypt)) rewrite.push(p);
      else report.packsKept++;
    }
  }
  for (const k of index.orphanIndexes) if (!o.dryRun) await remote.remove(k, { signal: o.signal });
  if (rewrite.length > 0) await rewritePacks(repo, rewrite, plans, o, report, log);
  report.ran = true;
  if (report.packsRemoved + report.packsRewritten > 0)
    log(
      'info',
      `${o.dryRun ? 'would free' : 'freed'} ${report.freed} bytes: ${report.packsRemoved} pack(s) removed, ${report.packsRewritten} rewritten`,
    );
  if (report.packsKept > 0)
    log(
      'info',
      `${report.packsKept} mostly unused pack(s) stay until nothing in them is used (rewriting them needs the identity, or they are of the other encryption kind)`,
    );
  return report;
}

async function drop(repo: Repo, p: PackInfo, o: SweepOptions, report: SweepReport, indexed: boolean): Promise<void> {
  if (!o.dryRun) {
    if (indexed) await repo.remote.remove(packIndexKey(p.packId), { signal: o.signal }); // first: the objects stop being "there"
    await repo.remote.remove(p.key, { signal: o.signal });
  }
  report.packsRemoved++;
  report.freed += p.stored + p.indexStored;
}

/** Check that a content is the object it is named as: sha256, or the keyed name under a key we hold. */
function namer(keys: Buffer[]): (obj: string, sha256: string) => boolean {
  return (obj, sha) =>
    obj === sha || keys.some((k) => createHmac('sha256', k).update(Buffer.from(sha, 'hex')).digest('hex') === obj);
}

async function rewritePacks(
  repo: Repo,
  packs: PackInfo[],
  plans: Map<string, PackPlan>,
  o: SweepOptions,
  report: SweepReport,
  log: (l: 'info' | 'warn', m: string) => void,
): Promise<void> {
  if (o.dryRun) {
    for (const p of packs) {
      const plan = plans.get(p.packId)!;
      const deadShare = 1 - plan.ownBytes / Math.max(1, plan.total);
      report.packsRewritten++;
      report.freed += Math.round(p.stored * deadShare);
    }
    return;
  }
  const isNamed = namer([...(await readableKeys(repo, { canDecrypt: o.canDecrypt, signal: o.signal })).values()]);
  const scratch = await scratchDir(repo);
  try {
    for (const p of packs) {
      const keep = plans.get(p.packId)!.own;
      const dir = join(scratch, p.packId);
      await mkdir(dir, { mode: 0o700 });
      const items: PackItem[] = [];
      let ok = true;
      await readPack(
        repo.remote,
        p.key,
        p.packId,
        { signal: o.signal, where: `remote ${repo.remote.name}` },
        async (name, body, size) => {
          if (!keep.has(name) || !ok) {
            for await (const _ of body) void _;
            return;
          }
          const h = createHash('sha256');
          const file = join(dir, name);
          await pipeline(
            Readable.from(
              (async function* () {
                for await (const c of body) {
                  h.update(c);
                  yield c;
                }
              })(),
            ),
            createWriteStream(file, { mode: 0o600 }),
          );
          const sha256 = h.digest('hex');
          if (!isNamed(name, sha256)) ok = false; // damaged, or named under a key we do not hold: leave the pack alone
          items.push({
            obj: name,
            size,
            sha256,
            source: file,
            open: () => createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>,
          });
        },
      );
      if (!ok || items.length !== keep.size) {
        log(
          'warn',
          `pack ${p.packId} not rewritten: ${ok ? 'objects its index names are missing from it' : 'an object does not match its name'}; run bbackup verify --remote --read-data`,
        );
        report.packsKept++;
        continue;
      }
      try {
        const w = await writePack(repo.remote, items, {
          level: o.level,
          encrypted: p.encrypted,
          signal: o.signal,
          hash: (it) => checkSha(it),
        });
        // The new pack and its index are stored (durably, as every put) before the old one goes: a
        // run cut here leaves both, and the next sweep drops the old one (the new one owns its objects).
        await o.afterNewPack?.(p.packId, w.packId);
        await drop(repo, p, o, report, true);
        report.packsRemoved--; // counted as rewritten instead
        report.packsRewritten++;
        report.freed -= w.stored;
      } catch (err) {
        if (o.signal.aborted) throw err;
        log('warn', `pack ${p.packId} not rewritten: ${describeError(err)}`);
      }
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function checkSha(it: PackItem) {
  const h = createHash('sha256');
  return {
    update: (b: Buffer) => void h.update(b),
    check: () => {
      if (h.digest('hex') !== it.sha256)
        throw new BbackupError('INTEGRITY', `${it.source} changed while it was rewritten`);
    },
  };
}
