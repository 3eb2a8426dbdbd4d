// `bbackup backup` as a step of the job runner (job.ts): plan, lock, copy every item through the
// work queue, write the manifest last, rename <id>.partial to <id>, then hand over to post-backup
// (uploads, rotation). The CLI and the TUI both drive it through the JobHandle and watch the same EngineEvents.
import { accessSync, constants } from 'node:fs';
import type { BackupRequest, BackupHooks, BackupPlan, BackupValue } from '../backup/types.js';
import { planBackup } from '../backup/plan.js';
import { readImageFacts } from '../backup/image-plan.js';
import type { Config } from '../config/schema.js';
import { isLocalEngine, type DockerConnection } from '../docker/client.js';
import { readInventory } from '../docker/inventory.js';
import { readContainerEnv } from '../dump/container-env.js';
import type { Emit } from '../events.js';
import type { Logger } from '../log/logger.js';
import { listBackups } from '../store/catalog.js';
import { hostDir as hostDirOf } from '../store/layout.js';
import type { SyncTree } from '../store/durable.js';
import { acquireLock } from '../store/lock.js';
import { makePrivateDir } from '../store/private.js';
import { startJob, type JobContext, type StepEnd } from './job.js';
import type { JobHandle } from './types.js';
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
  /** flushes the finished backup to disk before the rename that completes it (default: syncfs of the store, src/store/durable.ts) */
  syncStore?: SyncTree;
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

/** The plan for a request against the live engine and store (--dry-run). `sizes`: ask the engine for volume sizes (it walks every volume: worth it for a plan shown to a
 * person, not for the run itself, which learns totals from rsync and from the previous backup). */
export async function loadBackupPlan(
  request: BackupRequest,
  deps: Pick<BackupDeps, 'config' | 'docker'>,
  opts: { sizes?: boolean } = {},
): Promise<BackupPlan> {
  const { config, docker } = deps;
  const hostDir = hostDirOf(config.backup.store, docker.hostName);
  const [inventory, backups] = await Promise.all([
    readInventory(docker.docker, { sizes: opts.sizes ?? true }),
    listBackups(hostDir),
  ]);
  const images = await readImageFacts(
    docker.docker,
    inventory.containers.flatMap((c) => (c.imageId ? [c.imageId] : [])),
  );
  const containerEnv = await readContainerEnv(docker.docker, inventory.containers);
  return planBackup(request, inventory, config, {
    images,
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
 * Start a backup. Setup failures (lock held, unknown container, Docker down) end the job with
 * outcome 'failed' and the error in `errors`; `done` never rejects.
 */
export function startBackup(
  request: BackupRequest,
  deps: BackupDeps,
  o: { signal?: AbortSignal } = {},
): JobHandle<BackupValue> {
  return startJob<BackupValue>(
    { kind: 'backup', title: 'backup', item: 'backup', run: (ctx) => runJob(request, deps, ctx) },
    { emit: deps.emit, signal: o.signal },
  );
}

async function runJob(request: BackupRequest, deps: BackupDeps, ctx: JobContext): Promise<StepEnd<BackupValue>> {
  const { signal, emit } = ctx;
  if (request.dryRun) {
    const plan = await loadBackupPlan(request, deps);
    ctx.start(`plan backup of ${plan.host} (dry run)`, 0);
    return { outcome: 'ok', value: { dryRun: true, plan }, errors: [], summary: 'dry run: nothing written' };
  }
  const queue = new WorkQueue(signal, deps.config.backup.volumes.concurrency, ctx.gate);
  ctx.control({ pause: () => queue.pause(), resume: () => queue.resume(), skip: (item) => queue.skip(item) });
  const hostDir = hostDirOf(deps.config.backup.store, deps.docker.hostName);
  await makePrivateDir(hostDir); // store root and host folder 0700 when this run creates them
  const lock = await acquireLock(hostDir, { wait: request.wait, signal });
  // Another machine judged this run dead and took the store over: stop before touching more of it.
  const onLost = () => ctx.abort(lock.lost.reason);
  lock.lost.addEventListener('abort', onLost, { once: true });
  try {
    return await runBackupItems({
      ctx,
      request,
      deps: { ...deps, emit },
      queue,
      hostDir,
      loadPlan: () => loadBackupPlan(request, deps, { sizes: false }),
    });
  } finally {
    lock.lost.removeEventListener('abort', onLost);
    await lock.release();
  }
}
