// Send one local backup to a remote as a snapshot of the repository (remote format 2): only the
// objects the remote lacks travel, packed (several packs at once), then snapshot.json, info.json,
// refs.json.gz, and manifest.json last: a snapshot without its manifest is not a backup, so a cut
// upload is never listed; its packs (with their indexes) are found by the next upload and not
// sent again. Under a shared remote lock, so no sweep deletes what this upload reuses.
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BbackupError } from '../../errors.js';
import { noEmit, type Emit } from '../../events.js';
import { MANIFEST } from '../../store/layout.js';
import type { Manifest } from '../../store/manifest.js';
import { hashedGroup, manifestGroup } from '../../store/retention-group.js';
import { RemoteError } from '../errors.js';
import { collect, isManifestKey, type Remote } from '../types.js';
import { jsonBytes, PACKS_DIR, REPO_FORMAT, SNAP, snapshotPrefix } from './format.js';
import { eachLimit, putBytes, readJson } from './io.js';
import { acquireRemoteLock, type HeldLock } from './lock.js';
import { resolveNaming } from './naming.js';
import { loadObjectIndex, planPacks, writePack, type PackItem } from './packs.js';
import { makeSkeletons, planUpload } from './plan-upload.js';
import { openRepo, scratchDir } from './repo.js';
import { parseInfo, type SnapshotDoc, type SnapshotInfo, type SnapshotRefs } from './snapshot.js';

export interface SnapshotUploadRequest {
  remote: Remote;
  backupDir: string;
  manifest: Manifest;
  /** local store root: holds the repository cache */
  store: string;
  /** zstd level of packs */
  level: number;
  /** encryption is on: the remote encrypts what it stores, objects get keyed names */
  encrypted: boolean;
  /** an identity is configured: another host's naming key can be read (shared objects) */
  canDecrypt: boolean;
  signal: AbortSignal;
  emit?: Emit;
  jobId?: string;
  /** progress item name (default "upload <remote>") */
  item?: string;
  /** packs sent at once (default 4) */
  transfers?: number;
  /** plaintext bytes per pack (default 32 MiB) */
  packSize?: number;
  /** how long to wait for a rotation that holds the remote (default 15 min) */
  lockWaitMs?: number;
  leaseMs?: number;
}

export interface SnapshotUploadResult {
  remote: string;
  /** snapshots/<host>/<id> */
  prefix: string;
  existed: boolean;
  /** plaintext bytes of the backup's distinct objects */
  total: number;
  /** of those, already on the remote */
  skipped: number;
  /** of those, sent now */
  added: number;
  /** bytes this upload stored (packs, their indexes, the snapshot's files) */
  stored: number;
  packs: number;
  objects: number;
  /** milliseconds per phase: open, lock, plan (listing, pack indexes, tree indexes, skeletons), send, finish */
  phases?: Record<string, number>;
}

export const DEFAULT_PACK_SIZE = 32 << 20;
export const DEFAULT_TRANSFERS = 4;

export async function uploadSnapshot(req: SnapshotUploadRequest): Promise<SnapshotUploadResult> {
  const { remote, manifest, signal } = req;
  const emit = req.emit ?? noEmit;
  const jobId = req.jobId ?? `upload-${manifest.id}`;
  const item = req.item ?? `upload ${remote.name}`;
  const prefix = snapshotPrefix(manifest.host, manifest.id);
  const transfers = Math.max(1, req.transfers ?? DEFAULT_TRANSFERS);
  const clock = phaseClock();
  const repo = (await openRepo(remote, req.store, { create: true, signal }))!;
  const scratch = await scratchDir(repo);
  // local work first and alongside the remote's round trips: the skeletons need nothing from it
  const skeletons = makeSkeletons(req.backupDir, manifest, scratch, signal);
  skeletons.catch(() => undefined); // awaited below, or settled before the scratch folder goes
  clock.lap('open');
  let lock: HeldLock | undefined;
  try {
    lock = await acquireRemoteLock(remote, {
      kind: 'shared',
      purpose: `upload of ${manifest.id}`,
      host: manifest.host,
      signal,
      emit,
      waitMs: req.lockWaitMs ?? 15 * 60_000,
      leaseMs: req.leaseMs,
    });
    clock.lap('lock');
    const naming = (await resolveNaming(repo, {
      encrypted: req.encrypted,
      canDecrypt: req.canDecrypt,
      create: true,
      signal,
      emit,
    }))!;
    const [there, present, plan] = await Promise.all([
      collect(remote.list(prefix, { signal, maxDepth: 1 })),
      loadObjectIndex(repo, { signal, only: req.encrypted ? 'encrypted' : 'plaintext', transfers }),
      skeletons.then((sk) => planUpload(req.backupDir, manifest, naming, sk, signal)),
    ]);
    if (there.some((e) => isManifestKey(e.key))) return await existing(remote, prefix, manifest.id, signal);
    clock.lap('plan');
    const all = [...plan.meta.values(), ...plan.data.values()];
    const total = all.reduce((a, o) => a + o.size, 0);
    const missing = (m: Map<string, PackItem>) => [...m.values()].filter((o) => !present.objects.has(o.obj));
    const batches = [
      ...planPacks(missing(plan.meta), req.packSize ?? DEFAULT_PACK_SIZE),
      ...planPacks(missing(plan.data), req.packSize ?? DEFAULT_PACK_SIZE),
    ];
    const skipped = total - batches.flat().reduce((a, o) => a + o.size, 0);

    // Progress of the whole backup: plaintext bytes done (skipped ones count at once), stored bytes sent.
    let read = 0;
    const sentBy = new Map<number, number>();
    const sentNow = () => [...sentBy.values()].reduce((a, b) => a + b, 0);
    // Rate, ETA and throttling are added by the job's emit (src/jobs/progress.ts).
    const progress = (bytes: number) =>
      emit({ type: 'item.progress', jobId, item, bytes, total, sent: sentNow(), skipped });
    progress(skipped);
    const hash = (it: PackItem) => {
      const h = createHash('sha256');
      return {
        update: (b: Buffer) => {
          h.update(b);
          read += b.length;
          progress(skipped + read);
        },
        check: () => {
          const got = h.digest('hex');
          if (got !== it.sha256)
            throw new BbackupError(
              'INTEGRITY',
              `${it.source} does not match the sha256 its index or manifest records (the local backup is damaged; run bbackup verify); nothing of it was sent`,
              { path: it.source },
            );
        },
      };
    };
    const written: { packId: string; stored: number }[] = [];
    await eachLimit(batches, transfers, async (items, i) => {
      const w = await writePack(remote, items, {
        level: req.level,
        encrypted: req.encrypted,
        signal,
        hash,
        onSent: (b) => sentBy.set(i, b),
      });
      sentBy.set(i, w.stored);
      written.push(w);
      emit({
        type: 'log',
        jobId,
        level: 'debug',
        source: 'remote',
        msg: `remote ${remote.name}: stored pack ${w.packId} (${items.length} objects, ${w.stored} bytes)`,
      });
    });
    clock.lap('send');
    await checkPacks(
      remote,
      written.map((w) => w.packId),
      all.map((o) => present.objects.get(o.obj)?.pack).filter((p): p is string => p !== undefined),
      signal,
    );

    const snapshot: SnapshotDoc = {
      format: REPO_FORMAT,
      id: manifest.id,
      host: manifest.host,
      uploaded: new Date().toISOString(),
      encrypted: req.encrypted,
      keyId: naming.keyId,
      files: plan.files,
      trees: plan.trees,
    };
    const objects = all.map((o) => o.obj).sort();
    const refs: SnapshotRefs = { format: REPO_FORMAT, id: manifest.id, objects };
    const group = manifestGroup(manifest);
    const packBytes = written.reduce((a, w) => a + w.stored, 0);
    let stored = packBytes;
    stored += (await putBytes(remote, `${prefix}/${SNAP.snapshot}`, jsonBytes(snapshot), signal, false)).size;
    stored += (await putBytes(remote, `${prefix}/${SNAP.refs}`, gzipSync(jsonBytes(refs)), signal, true)).size;
    const info: SnapshotInfo = {
      format: REPO_FORMAT,
      id: manifest.id,
      host: manifest.host,
      status: manifest.status,
      group: req.encrypted ? hashedGroup(group) : group,
      encrypted: req.encrypted,
      uploaded: snapshot.uploaded,
      size: plan.logical,
      objects: objects.length,
      added: total - skipped,
      stored,
    };
    stored += (await putBytes(remote, `${prefix}/${SNAP.info}`, jsonBytes(info), signal, true)).size;
    // Last: from here on it is a backup.
    const manifestBytes = await readFile(join(req.backupDir, MANIFEST));
    const m = await putBytes(remote, `${prefix}/${SNAP.manifest}`, manifestBytes, signal, false);
    stored += m.size;
    const listed = await collect(remote.list(prefix, { signal, maxDepth: 1 }));
    if (!listed.some((e) => e.key === m.key && e.size === m.size))
      throw new RemoteError('INTEGRITY', remote.name, `upload check: ${m.key} is missing after upload`, false);
    progress(total);
    clock.lap('finish');
    emit({
      type: 'log',
      jobId,
      level: 'debug',
      source: 'remote',
      msg: `remote ${remote.name}: upload of ${manifest.id} phases ms ${JSON.stringify(clock.phases)}`,
    });
    return {
      phases: clock.phases,
      remote: remote.name,
      prefix,
      existed: false,
      total,
      skipped,
      added: total - skipped,
      stored,
      packs: written.length,
      objects: objects.length,
    };
  } finally {
    await skeletons.catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
    await lock?.release();
  }
}

/** Milliseconds spent in each phase of the upload, for the debug log and the bench. */
function phaseClock() {
  const phases: Record<string, number> = {};
  let last = performance.now();
  return {
    phases,
    lap(name: string) {
      const now = performance.now();
      phases[name] = Math.round(now - last);
      last = now;
    },
  };
}

/** Every pack just written, and every pack holding a reused object, must be listed with its index. */
async function checkPacks(remote: Remote, written: string[], reused: string[], signal: AbortSignal): Promise<void> {
  const names = new Set(
    (await collect(remote.list(PACKS_DIR, { signal, maxDepth: 1 }))).map((e) => e.key.replace(/\.age$/, '')),
  );
  for (const id of new Set([...written, ...reused])) {
    for (const k of [`${PACKS_DIR}/${id}.tar.zst`, `${PACKS_DIR}/${id}.idx.json`]) {
      if (!names.has(k))
        throw new RemoteError(
          'INTEGRITY',
          remote.name,
          `upload check: ${k} is missing${written.includes(id) ? ' after upload' : ' (removed while this upload ran?)'}; nothing was recorded, run the upload again`,
          true,
        );
    }
  }
}

async function existing(
  remote: Remote,
  prefix: string,
  id: string,
  signal: AbortSignal,
): Promise<SnapshotUploadResult> {
  const info = parseInfo(
    await readJson(remote, `${prefix}/${SNAP.info}`, 64 * 1024, signal).catch(() => undefined),
    id,
  );
  return {
    remote: remote.name,
    prefix,
    existed: true,
    total: info?.size ?? 0,
    skipped: info?.size ?? 0,
    added: 0,
    stored: 0,
    packs: 0,
    objects: info?.objects ?? 0,
  };
}
