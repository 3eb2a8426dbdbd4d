// Apply the retention plan to the local store of one host and to remotes. Locally a backup is
// removed by removeLocalBackup (store/remove-backup.ts): first renamed to a hidden .removing-<id>
// folder, so a crash half way through deleting never leaves a folder that looks like a backup, and
// kept while a restore, pull or verify reads it; on a remote the manifest goes first.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { noEmit, type Emit } from '../events.js';
import { listRemoteBackups } from '../remote/list.js';
import { remoteStatus } from '../remote/retention-info.js';
import { isManifestKey, type Remote } from '../remote/types.js';
import { listBackups } from '../store/catalog.js';
import { BACKUP_ID_RE, backupIdTime, safeSegment } from '../store/layout.js';
import { readManifest, type Manifest } from '../store/manifest.js';
import {
  planRetention,
  type RetentionCandidate,
  type RetentionPlan,
  type RetentionPolicy,
} from '../store/retention.js';
import { hashedGroup, manifestGroup } from '../store/retention-group.js';
import { inodeSizes } from '../store/retention-sizes.js';
import { removeLocalBackup } from '../store/remove-backup.js';

export interface RotationReport {
  /** "local" or the remote's name */
  target: string;
  host: string;
  dryRun: boolean;
  plan: RetentionPlan;
  removed: string[];
  /** remote only: leftovers of cut uploads (<id>.partial older than a day) removed */
  cleaned?: string[];
}

/** A cut upload's .partial folder is garbage once its backup is this old: no upload runs that long. */
const STALE_PARTIAL_MS = 24 * 3600 * 1000;

export interface RotateOptions {
  dryRun: boolean;
  signal: AbortSignal;
  emit?: Emit;
  jobId?: string;
  /** keep_within counts back from here (default: now) */
  now?: Date;
}

export interface RemoteRotateOptions extends RotateOptions {
  /** the local store folder of this host: its manifests tell the status of remote backups without retention.json */
  localHostDir?: string;
  /** an age identity or passphrase is configured: encrypted remote manifests can be read as a last resort */
  canDecrypt?: boolean;
}

export function policyFrom(cfg: Config['retention']): RetentionPolicy {
  const within = parseDuration(cfg.keep_within) ?? 0; // the schema refused anything else
  return {
    last: cfg.last,
    daily: cfg.daily,
    weekly: cfg.weekly,
    monthly: cfg.monthly,
    yearly: cfg.yearly,
    keepWithinMs: within,
    keepWithinLabel: String(cfg.keep_within).trim(),
    maxBytes: cfg.max_storage_gb > 0 ? cfg.max_storage_gb * 1e9 : undefined,
  };
}

/** Whether rotation can read an encrypted remote manifest with this config. */
export const canDecryptWith = (cfg: Config['encryption']): boolean => Boolean(cfg.identity_file || cfg.passphrase);

/** Rotation reads a small file per remote backup: its transfers are not worth progress lines. */
export const logsOnly =
  (emit: Emit): Emit =>
  (e) =>
    e.type === 'log' ? emit(e) : undefined;

const log = (o: RotateOptions, msg: string) =>
  (o.emit ?? noEmit)({ type: 'log', jobId: o.jobId, level: 'info', source: 'retention', msg });

/** Leftovers of killed runs that hold disk space until cleaned: counted in the quota. */
const LEFTOVER_RE = /^\.(removing-|pull-)/;

/** Rotate one host folder of the local store (call while holding its lock). */
export async function rotateLocal(
  hostFolder: string,
  host: string,
  policy: RetentionPolicy,
  o: RotateOptions,
): Promise<RotationReport> {
  const entries = await listBackups(hostFolder);
  const candidates: RetentionCandidate[] = [];
  for (const e of entries) {
    // A backup whose manifest cannot be read is a group of its own: kept for a human to look at.
    const group = e.manifest ? manifestGroup(e.manifest) : `damaged:${e.id}`;
    candidates.push({
      id: e.id,
      time: backupIdTime(e.id),
      complete: e.manifest?.status === 'complete',
      group,
      note: e.manifest ? undefined : 'manifest unreadable, kept for inspection',
      objects: policy.maxBytes ? await inodeSizes(e.dir, o.signal) : undefined,
    });
  }
  const leftovers = policy.maxBytes ? await leftoverSizes(hostFolder, o.signal) : undefined;
  const plan = planRetention(candidates, policy, { now: o.now, leftovers });
  const removed: string[] = [];
  if (!o.dryRun) {
    for (const id of [...plan.remove]) {
      o.signal.throwIfAborted();
      const r = await removeLocalBackup(hostFolder, id, o.signal);
      if (!r.removed) {
        // a restore, pull or verify reads it: kept, and shown so
        const d = plan.decisions.find((x) => x.id === id);
        if (d) Object.assign(d, { keep: true, reasons: [`in use by ${r.inUseBy}`] });
        plan.remove = plan.remove.filter((x) => x !== id);
        log(o, `kept local backup ${id}: in use by ${r.inUseBy}`);
        continue;
      }
      removed.push(id);
      log(o, `removed local backup ${id} (${plan.decisions.find((d) => d.id === id)?.reasons.join('; ')})`);
    }
  }
  return { target: 'local', host, dryRun: o.dryRun, plan, removed };
}

/** Objects of .removing-*, .pull-* folders; one that vanishes meanwhile (cleaned, renamed) counts nothing. */
async function leftoverSizes(hostFolder: string, signal: AbortSignal): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const names = await readdir(hostFolder).catch(() => [] as string[]);
  for (const n of names.filter((x) => LEFTOVER_RE.test(x))) {
    try {
      for (const [k, v] of await inodeSizes(join(hostFolder, n), signal)) out.set(k, v);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

/** Rotate one host's backups on a remote. */
export async function rotateRemote(
  remote: Remote,
  host: string,
  policy: RetentionPolicy,
  o: RemoteRotateOptions,
): Promise<RotationReport> {
  const { backups, incomplete } = await listRemoteBackups(remote, o.signal, host);
  const files = new Map<string, Set<string>>();
  for await (const e of remote.list(safeSegment(host), { signal: o.signal })) {
    const [, id, ...rest] = e.key.split('/');
    if (id && rest.length > 0) (files.get(id) ?? files.set(id, new Set()).get(id)!).add(rest.join('/'));
  }
  const localManifest = async (id: string): Promise<Manifest | undefined> =>
    o.localHostDir ? readManifest(join(o.localHostDir, id)).catch(() => undefined) : undefined;
  // Groups are compared by their hash (what an encrypted remote records) and shown by name where known.
  const names = new Map<string, string>();
  for (const e of o.localHostDir ? await listBackups(o.localHostDir) : [])
    if (e.manifest) names.set(hashedGroup(manifestGroup(e.manifest)), manifestGroup(e.manifest));
  const candidates: RetentionCandidate[] = [];
  for (const b of backups) {
    const s = await remoteStatus(
      remote,
      b.prefix,
      b.id,
      files.get(b.id) ?? new Set(),
      { localManifest, canDecrypt: o.canDecrypt === true },
      o.signal,
    );
    // Remote copies share nothing: each backup's bytes are its own object.
    const base = { id: b.id, time: new Date(b.time), objects: new Map([[b.prefix, b.size]]) };
    if (!s) {
      // Nothing tells what it holds: a group of its own, taken as complete, so it is never removed.
      candidates.push({
        ...base,
        complete: true,
        group: `unknown:${b.id}`,
        groupLabel: 'unknown',
        note: 'no retention.json, manifest not readable: kept',
      });
      continue;
    }
    const id = hashedGroup(s.group);
    if (!s.group.startsWith('h:')) names.set(id, s.group);
    candidates.push({ ...base, complete: s.complete, group: id });
  }
  for (const c of candidates) c.groupLabel ??= names.get(c.group) ?? c.group;
  const plan = planRetention(candidates, policy, { now: o.now });
  const removed: string[] = [];
  if (!o.dryRun) {
    for (const id of plan.remove) {
      o.signal.throwIfAborted();
      const prefix = backups.find((b) => b.id === id)!.prefix;
      for await (const e of remote.list(prefix, { signal: o.signal }))
        if (isManifestKey(e.key) && e.key.split('/').length === 3) await remote.remove(e.key, { signal: o.signal });
      await remote.removeDir(prefix, { signal: o.signal });
      removed.push(id);
      log(
        o,
        `removed ${id} from remote ${remote.name} (${plan.decisions.find((d) => d.id === id)?.reasons.join('; ')})`,
      );
    }
  }
  const cleaned: string[] = [];
  for (const prefix of incomplete) {
    const id = prefix.split('/')[1]!.replace(/\.partial$/, '');
    if (
      !prefix.endsWith('.partial') ||
      !BACKUP_ID_RE.test(id) ||
      Date.now() - backupIdTime(id).getTime() < STALE_PARTIAL_MS
    )
      continue;
    if (!o.dryRun) {
      await remote.removeDir(prefix, { signal: o.signal });
      log(o, `removed ${prefix} from remote ${remote.name}: an upload cut off more than a day ago`);
    }
    cleaned.push(prefix);
  }
  return { target: remote.name, host, dryRun: o.dryRun, plan, removed, cleaned };
}
