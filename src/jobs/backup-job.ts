// `bbackup backup` as a job: plan, lock, copy every item through the work queue, write the
// manifest last, rename <id>.partial to <id>, then hand over to post-backup (uploads, rotation).
// The CLI and the TUI both drive it through the JobHandle and watch the same EngineEvents.
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import type { BackupRequest, BackupHooks, BackupPlan, BackupValue } from '../backup/types.js';
import { planBackup } from '../backup/plan.js';
import type { Config } from '../config/schema.js';
import { isLocalEngine, type DockerConnection } from '../docker/client.js';
import { readInventory } from '../docker/inventory.js';
import { readContainerEnv } from '../dump/container-env.js';
import { BbackupError, describeError } from '../errors.js';
import type { Emit } from '../events.js';
import type { Logger } from '../log/logger.js';
import { listBackups } from '../store/catalog.js';
import { hostDir as hostDirOf } from '../store/layout.js';
import { acquireLock, type HeldLock } from '../store/lock.js';
import type { JobHandle, JobResult } from './types.js';
import { throttleProgress } from './progress.js';
import { WorkQueue } from './queue.js';
import { runBackupItems } from './backup-run.js';

export interface BackupDeps {
  config: Config;
  docker: DockerConnection;
  emit: Emit;
  logger?: Logger;
  /** operations' hooks around each volume (stop containers, exec hooks) */
  hooks?: BackupHooks;
  /** the clock that names the backup (tests pin it to show same-second ids) */
  now?: () => Date;
}

/** Can this process read a Mountpoint (mode auto picks host then)? */
export function mountpointReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The plan for a request against the live engine and store: --dry-run, the TUI's scope dialog. */
/** `sizes`: ask the engine for volume sizes (it walks every volume: worth it for a plan shown to a
 * person, not for the run itself, which learns totals from rsync and from the previous backup). */
export async function loadBackupPlan(request: BackupRequest, deps: Pick<BackupDeps, 'config' | 'docker'>, opts: { sizes?: boolean } = {}): Promise<BackupPlan> {
  const { config, docker } = deps;
  const hostDir = hostDirOf(config.backup.store, docker.hostName);
  const [inventory, backups] = await Promise.all([readInventory(docker.docker, { sizes: opts.sizes ?? true }), listBackups(hostDir)]);
  const containerEnv = await readContainerEnv(docker.docker, inventory.containers);
  return planBackup(request, inventory, config, {
    containerEnv,
    host: docker.hostName,
    hostDir,
    backups: backups.filter((b) => b.manifest),
    localEngine: isLocalEngine(docker.target),
    volumeMode: docker.target.volumeMode,
    mountpointReadable,
  });
}

/**
 * Start a backup. Never throws: setup failures (lock held, unknown container, Docker down) end
 * the job with outcome 'failed' and the error in `errors`; `done` rejects only on a bug.
 */
export function startBackup(request: BackupRequest, deps: BackupDeps): JobHandle<BackupValue> {
  const jobId = `backup-${randomUUID().slice(0, 8)}`;
  const abort = new AbortController();
  const throttled = throttleProgress(deps.emit);
  const emit = throttled.emit;
  const queue = new WorkQueue(abort.signal, deps.config.backup.volumes.concurrency);
  const done = runJob(jobId, request, { ...deps, emit }, abort.signal, queue).finally(() => {
    throttled.flush();
    throttled.close();
  });
  return {
    id: jobId,
    done,
    pause() {
      if (queue.paused || abort.signal.aborted) return;
      void queue.pause();
      emit({ type: 'job.paused', jobId });
    },
    resume() {
      if (!queue.paused) return;
      void queue.resume();
      emit({ type: 'job.resumed', jobId });
    },
    get paused() {
      return queue.paused;
    },
    skip: (item) => queue.skip(item),
    cancel() {
      if (abort.signal.aborted) return;
      // A paused job must run again to notice.
      void queue.resume();
      abort.abort(new BbackupError('CANCELLED', 'backup cancelled'));
    },
  };
}

async function runJob(jobId: string, request: BackupRequest, deps: BackupDeps, signal: AbortSignal, queue: WorkQueue): Promise<JobResult<BackupValue>> {
  const { emit } = deps;
  const fail = (err: unknown, started: boolean): JobResult<BackupValue> => {
    const cancelled = signal.aborted;
    const code = err instanceof BbackupError ? err.code : cancelled ? 'CANCELLED' : 'INTERNAL';
    if (!started) emit({ type: 'job.start', jobId, kind: 'backup', title: 'backup', items: 0 });
    emit({ type: 'job.end', jobId, outcome: cancelled ? 'cancelled' : 'failed', summary: describeError(err) });
    return { outcome: cancelled ? 'cancelled' : 'failed', errors: [{ item: 'backup', code, message: describeError(err) }] };
  };
  if (request.dryRun) {
    try {
      const plan = await loadBackupPlan(request, deps);
      emit({ type: 'job.start', jobId, kind: 'backup', title: `plan backup of ${plan.host} (dry run)`, items: 0 });
      emit({ type: 'job.end', jobId, outcome: 'ok', summary: 'dry run: nothing written' });
      return { outcome: 'ok', value: { dryRun: true, plan }, errors: [] };
    } catch (err) {
      return fail(err, false);
    }
  }
  const hostDir = hostDirOf(deps.config.backup.store, deps.docker.hostName);
  let lock: HeldLock;
  try {
    lock = await acquireLock(hostDir, { wait: request.wait, signal });
  } catch (err) {
    return fail(err, false);
  }
  try {
    return await runBackupItems({ jobId, request, deps, signal, queue, hostDir, emit, loadPlan: () => loadBackupPlan(request, deps, { sizes: false }), fail });
  } finally {
    await lock.release();
  }
}
