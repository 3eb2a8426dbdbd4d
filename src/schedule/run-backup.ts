// One backup with everything operations adds around it: global pre/post hooks, the container
// labels (stop, exec pre/post) around each volume, a notification, and (for schedules) the
// state file. Used by the daemon, `schedule run` (systemd) and `bbackup backup`. The backup job
// itself is passed in (`start`), so this layer does not depend on the job layer above it.
import type { BackupHooks, BackupRequest, BackupValue } from '../backup/types.js';
import type { Config, ScheduleConfig } from '../config/schema.js';
import { isLocalEngine, type DockerConnection } from '../docker/client.js';
import { BbackupError, describeError } from '../errors.js';
import type { Emit } from '../events.js';
import { createConsistency, type Consistency } from '../hooks/consistency.js';
import { journalPathFor, recoverStopped, stoppedJournal } from '../hooks/stopped-journal.js';
import { aroundRun, beginRun, type AroundRunResult, type RunOutcome } from '../hooks/around-run.js';
import type { JobHandle, JobResult } from '../jobs/types.js';
import type { Logger } from '../log/logger.js';
import type { NotifyOptions } from '../notify/notify.js';
import { hostDir } from '../store/layout.js';

export type StartBackup = (
  request: BackupRequest,
  deps: { config: Config; docker: DockerConnection; emit: Emit; logger?: Logger; hooks?: BackupHooks },
) => JobHandle<BackupValue>;

export interface OperatedBackupOptions {
  config: Config;
  request: BackupRequest;
  /** opens the engine; a failure is reported as backup.unavailable */
  connect: () => Promise<DockerConnection>;
  /** the host's name for reports before the engine answered (hosts entry name or address) */
  hostLabel: string;
  start: StartBackup;
  emit: Emit;
  logger?: Logger;
  schedule?: string;
  signal?: AbortSignal;
  /** the CLI and TUI get the handle for pause/skip/cancel */
  onStart?: (handle: JobHandle<BackupValue>) => void;
  notify?: Omit<NotifyOptions, 'logger' | 'signal'>;
}

export interface OperatedBackupResult extends AroundRunResult {
  result?: JobResult<BackupValue>;
}

/** A finished backup job as the report's terms. */
export function outcomeOf(result: JobResult<BackupValue>): RunOutcome {
  const value = result.value && !result.value.dryRun ? result.value : undefined;
  const manifest = value?.manifest;
  const failedItems = new Set(result.errors.map((e) => e.item));
  const items = manifest?.items ?? [];
  const stored = items.filter((i) => i.kind !== 'metadata').length;
  // Logical sizes: a volume counts its own bytes and files, everything else the files it stored.
  let bytes = 0;
  let files = 0;
  for (const i of items) {
    if (i.kind === 'volume') {
      bytes += i.bytes;
      files += i.fileCount;
    } else {
      bytes += i.files.reduce((sum, f) => sum + f.size, 0);
      files += i.files.length;
    }
  }
  return {
    status: result.outcome,
    backupId: value?.id,
    backupDir: value?.dir,
    items: { total: stored + failedItems.size, ok: stored, failed: failedItems.size, skipped: 0 },
    sizes: { bytes, files },
    errors: result.errors,
  };
}

export async function runOperatedBackup(o: OperatedBackupOptions): Promise<OperatedBackupResult> {
  let result: JobResult<BackupValue> | undefined;
  let host = o.hostLabel;
  const ctx = {
    config: o.config,
    host,
    storeDir: hostDir(o.config.backup.store, host),
    schedule: o.schedule,
    logger: o.logger,
    emit: o.emit,
    signal: o.signal,
    notify: o.notify,
  };
  const run = await aroundRun(ctx, async () => {
    o.signal?.throwIfAborted();
    const docker = await o.connect();
    host = docker.hostName;
    ctx.host = host;
    ctx.storeDir = hostDir(o.config.backup.store, host);
    const consistency = await prepareConsistency(o.config, docker, o.emit, o.signal);
    const hooks: BackupHooks = {
      planned: (volumes) => consistency.expect(volumes),
      beforeVolume: (volume, containers, signal) =>
        consistency.beforeVolume(
          volume.name,
          containers.map((name) => ({ name })),
          signal,
        ),
    };
    const handle = o.start(o.request, { config: o.config, docker, emit: o.emit, logger: o.logger, hooks });
    const cancel = () => handle.cancel();
    o.signal?.addEventListener('abort', cancel, { once: true });
    o.onStart?.(handle);
    try {
      result = await handle.done;
    } finally {
      o.signal?.removeEventListener('abort', cancel);
      // The engine releases every volume in a finally; this catches anything a bug left stopped.
      await consistency.releaseAll();
    }
    const outcome = outcomeOf(result);
    // A job that failed before it produced anything could not open its store, engine or lock.
    if (result.outcome === 'failed' && !result.value) throw new SetupFailure(result, outcome);
    return outcome;
  });
  return { ...run, result };
}

/** Turns a failed-at-setup job into the `backup.unavailable` report, keeping the job's error code. */
class SetupFailure extends BbackupError {
  constructor(
    readonly result: JobResult<BackupValue>,
    readonly outcome: RunOutcome,
  ) {
    super(
      result.errors[0]?.code ?? 'DOCKER_FAILED',
      result.errors.map((e) => e.message).join('; ') || 'the backup could not start',
    );
  }
}

/** The backup request a schedule stands for. Two schedules on one host wait for each other's lock. */
export function scheduleRequest(s: ScheduleConfig, name: string): BackupRequest {
  return {
    containers: s.containers,
    backupSet: s.backup_set,
    scope: s.scope,
    remotes: s.remotes,
    wait: true,
    schedule: name,
  };
}

/** Operations around a backup the caller runs itself (`bbackup backup`, the TUI). */
export interface OperatedRun {
  /** pass to startBackup's deps */
  hooks: BackupHooks;
  /** after the job ended: restart anything still stopped, post-hooks, notification */
  finish(result: JobResult<BackupValue>): Promise<OperatedBackupResult>;
}

/**
 * Runs the global pre-hooks and prepares the label hooks. A failing pre-hook is reported (post-
 * hooks, notification) and then thrown: the backup must not start.
 */
export async function beginOperatedBackup(o: {
  config: Config;
  docker: DockerConnection;
  emit: Emit;
  logger?: Logger;
  signal?: AbortSignal;
}): Promise<OperatedRun> {
  const host = o.docker.hostName;
  const run = await beginRun({
    config: o.config,
    host,
    storeDir: hostDir(o.config.backup.store, host),
    logger: o.logger,
    emit: o.emit,
    signal: o.signal,
  });
  if (run.preError !== undefined) {
    await run.finish(undefined, run.preError);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the pre-hook's own error, rethrown as it came
    throw run.preError;
  }
  const consistency = await prepareConsistency(o.config, o.docker, o.emit, o.signal);
  return {
    hooks: {
      planned: (volumes) => consistency.expect(volumes),
      beforeVolume: (volume, containers, signal) =>
        consistency.beforeVolume(
          volume.name,
          containers.map((name) => ({ name })),
          signal,
        ),
    },
    finish: async (result) => {
      await consistency.releaseAll();
      const outcome = outcomeOf(result);
      const setupFailed = result.outcome === 'failed' && !result.value;
      const done = await run.finish(
        setupFailed ? undefined : outcome,
        setupFailed ? new SetupFailure(result, outcome) : undefined,
      );
      return { ...done, result };
    },
  };
}

/** The engine could not even be opened: post-hooks and a `backup.unavailable` notification, then the caller rethrows. */
export async function reportUnavailable(o: {
  config: Config;
  hostLabel: string;
  error: unknown;
  emit?: Emit;
  logger?: Logger;
}): Promise<AroundRunResult> {
  return aroundRun(
    {
      config: o.config,
      host: o.hostLabel,
      storeDir: hostDir(o.config.backup.store, o.hostLabel),
      logger: o.logger,
      emit: o.emit,
    },
    async () => {
      throw o.error;
    },
  );
}

/** Label hooks for one run, after restarting what a run that died left stopped on this host. */
async function prepareConsistency(
  config: Config,
  docker: DockerConnection,
  emit: Emit,
  signal?: AbortSignal,
): Promise<Consistency> {
  const journalPath = journalPathFor(hostDir(config.backup.store, docker.hostName));
  await recoverStopped(docker.docker, journalPath, emit).catch((err) =>
    emit({ type: 'log', level: 'warn', source: 'hooks', msg: `cannot check ${journalPath}: ${describeError(err)}` }),
  );
  return createConsistency({
    docker: docker.docker,
    defaultTimeoutSec: config.hooks.timeout,
    emit,
    signal,
    journal: stoppedJournal(journalPath),
    localEngine: isLocalEngine(docker.target),
  });
}

/**
 * Start a backup with operations around it and hand back its job handle (the TUI): pre-hooks run
 * first (a failure rejects, after being reported), and `done` settles only after the post-hooks
 * and notifications.
 */
export async function startOperatedBackup(
  request: BackupRequest,
  deps: { config: Config; docker: DockerConnection; emit: Emit; logger?: Logger },
  start: StartBackup,
): Promise<JobHandle<BackupValue>> {
  const ops = await beginOperatedBackup(deps);
  const job = start(request, { ...deps, hooks: ops.hooks });
  const done = job.done.then(async (result) => {
    await ops.finish(result).catch((err) => deps.logger?.error(`after the backup: ${describeError(err)}`));
    return result;
  });
  return {
    id: job.id,
    done,
    pause: () => job.pause(),
    resume: () => job.resume(),
    get paused() {
      return job.paused;
    },
    skip: (item) => job.skip(item),
    cancel: () => job.cancel(),
  };
}
