// Apply the retention plan to the local store of one host and to remotes. Locally a backup is
// removed by removeLocalBackup (store/remove-backup.ts): first renamed to a hidden .removing-<id>
// folder, so a crash half way through deleting never leaves a folder that looks like a backup, and
// kept while a restore, pull or verify reads it; on a remote the manifest goes first.
import type { Config } from '../config/schema.js';
import { noEmit, type Emit } from '../events.js';
import { listRemoteBackups } from '../remote/list.js';
import { isManifestKey, type Remote } from '../remote/types.js';
import { listBackups } from '../store/catalog.js';
import { BACKUP_ID_RE, backupIdTime } from '../store/layout.js';
import { planRetention, type RetentionCandidate, type RetentionPlan, type RetentionPolicy } from '../store/retention.js';
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
}

export function policyFrom(cfg: Config['retention']): RetentionPolicy {
  return { last: cfg.last, daily: cfg.daily, weekly: cfg.weekly, monthly: cfg.monthly, yearly: cfg.yearly, maxBytes: cfg.max_storage_gb > 0 ? cfg.max_storage_gb * 1e9 : undefined };
}

const log = (o: RotateOptions, msg: string) => (o.emit ?? noEmit)({ type: 'log', jobId: o.jobId, level: 'info', source: 'retention', msg });

/** Rotate one host folder of the local store (call while holding its lock). */
export async function rotateLocal(hostFolder: string, host: string, policy: RetentionPolicy, o: RotateOptions): Promise<RotationReport> {
  const entries = await listBackups(hostFolder);
  const candidates: RetentionCandidate[] = [];
  for (const e of entries) {
    candidates.push({
      id: e.id,
      time: backupIdTime(e.id),
      complete: e.manifest?.status === 'complete',
      objects: policy.maxBytes ? await inodeSizes(e.dir, o.signal) : undefined,
    });
  }
  const plan = planRetention(candidates, policy);
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

/** Rotate one host's backups on a remote. */
export async function rotateRemote(remote: Remote, host: string, policy: RetentionPolicy, o: RotateOptions): Promise<RotationReport> {
  const { backups, incomplete } = await listRemoteBackups(remote, o.signal, host);
  // Remote copies share nothing: each backup's bytes are its own object.
  const candidates: RetentionCandidate[] = backups.map((b) => ({ id: b.id, time: new Date(b.time), complete: true, objects: new Map([[b.prefix, b.size]]) }));
  const plan = planRetention(candidates, policy);
  const removed: string[] = [];
  if (!o.dryRun) {
    for (const id of plan.remove) {
      o.signal.throwIfAborted();
      const prefix = backups.find((b) => b.id === id)!.prefix;
      for await (const e of remote.list(prefix, { signal: o.signal })) if (isManifestKey(e.key) && e.key.split('/').length === 3) await remote.remove(e.key, { signal: o.signal });
      await remote.removeDir(prefix, { signal: o.signal });
      removed.push(id);
      log(o, `removed ${id} from remote ${remote.name} (${plan.decisions.find((d) => d.id === id)?.reasons.join('; ')})`);
    }
  }
  const cleaned: string[] = [];
  for (const prefix of incomplete) {
    const id = prefix.split('/')[1]!.replace(/\.partial$/, '');
    if (!prefix.endsWith('.partial') || !BACKUP_ID_RE.test(id) || Date.now() - backupIdTime(id).getTime() < STALE_PARTIAL_MS) continue;
    if (!o.dryRun) {
      await remote.removeDir(prefix, { signal: o.signal });
      log(o, `removed ${prefix} from remote ${remote.name}: an upload cut off more than a day ago`);
    }
    cleaned.push(prefix);
  }
  return { target: remote.name, host, dryRun: o.dryRun, plan, removed, cleaned };
}
