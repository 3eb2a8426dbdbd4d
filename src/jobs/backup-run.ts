// The body of a backup job once the host's lock is held: clean leftovers, plan, claim an id,
// run every item through the queue, write metadata and the manifest last, flush it all to disk,
// rename into place, flush the rename (src/store/durable.ts has the argument). Anything that
// goes wrong before the rename removes the .partial folder: a half-written backup never looks whole.
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { saveContainer } from '../backup/containers.js';
import { writeMetadataArchive } from '../backup/metadata.js';
import { saveNetwork } from '../backup/networks.js';
import type { BackupPlan, BackupRequest, BackupValue } from '../backup/types.js';
import { backupVolume } from '../backup/volume-job.js';
import { saveImage } from '../backup/image-job.js';
import { saveProject } from '../backup/project-job.js';
import { listBackups } from '../store/catalog.js';
import { NotRunning } from '../dump/run-dump.js';
import { createReader } from '../backup/volume-readers/index.js';
import { removeStaleHelpers } from '../backup/volume-readers/worker.js';
import { dockerError } from '../docker/errors.js';
import { BbackupError, describeError, toErrorInfo, type ErrorCode } from '../errors.js';
import type { ItemKind } from '../events.js';
import { allocateBackup } from '../store/allocate.js';
import { fsyncDir, syncFilesystem } from '../store/durable.js';
import { octal, tightenDirs } from '../store/private.js';
import { removePartials } from '../store/catalog.js';
import { removeLeftovers } from '../store/leftovers.js';
import { MANIFEST_FORMAT, type ItemError, type Manifest, type ManifestItem } from '../store/manifest.js';
import { writeManifest } from '../store/write-manifest.js';
import { version } from '../version.js';
import type { BackupDeps } from './backup-job.js';
import { runPostBackup } from './post-backup.js';
import { dumpTasks } from './dump-tasks.js';
import type { JobContext, StepEnd } from './job.js';
import { byteCounter } from './progress.js';
import type { Task, TaskOutcome, WorkQueue } from './queue.js';
import type { JobError } from './types.js';

export interface RunEnv {
  ctx: JobContext;
  request: BackupRequest;
  deps: BackupDeps;
  queue: WorkQueue;
  hostDir: string;
  loadPlan(): Promise<BackupPlan>;
}

/** A manifest's item error, with a code of ours (the manifest itself stores any string it reads back). */
type RunError = ItemError & { code: ErrorCode };

export interface Planned {
  item: string;
  kind: ItemKind;
  name: string;
  total?: number;
  task: Task;
}

const KIND_ORDER: Record<ManifestItem['kind'], number> = {
  container: 0,
  network: 1,
  image: 2,
  project: 3,
  volume: 4,
  dump: 5,
  metadata: 6,
};

/** Throws when the run fails; the job runner (job.ts) reports it. */
export async function runBackupItems(env: RunEnv): Promise<StepEnd<BackupValue>> {
  const { deps, hostDir } = env;
  const { jobId, signal, emit } = env.ctx;
  const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) =>
    emit({ type: 'log', jobId, level, source: 'backup', msg });
  const startedAt = (deps.now ?? (() => new Date()))();
  for (const t of await tightenDirs([deps.config.backup.store, hostDir])) {
    log(
      'info',
      `made ${t.path} private (mode ${octal(t.was)} -> 0700): backups hold container secrets and volume files only root may read`,
    );
  }
  const leftovers = await removePartials(hostDir);
  if (leftovers.length > 0) log('info', `removed unfinished backups of earlier runs: ${leftovers.join(', ')}`);
  const dead = await removeLeftovers(hostDir);
  if (dead.length > 0) log('info', `removed leftovers of killed runs: ${dead.join(', ')}`);
  const stale = await removeStaleHelpers(deps.docker.docker).catch(
    (err) => (log('warn', `could not look for leftover helper containers: ${describeError(err)}`), []),
  );
  if (stale.length > 0) log('info', `removed helper containers of dead runs: ${stale.join(', ')}`);
  const plan = await env.loadPlan();
  for (const w of plan.warnings) log('warn', w);
  if (plan.containers.length + plan.volumes.length + plan.networks.length === 0)
    throw new BbackupError(
      'USAGE',
      'nothing to back up: the selection and scope leave no container, volume or network',
    );
  signal.throwIfAborted();
  const { id, partial } = await allocateBackup(hostDir, startedAt);
  const finalDir = join(hostDir, id);
  let renamed = false;
  try {
    const items: ManifestItem[] = [];
    const errors: RunError[] = [];
    const bytes = new Map<string, number>();
    const details = new Map<string, string>();
    const planned = planItems(env, plan, partial, items, { bytes, details }, errors);
    env.ctx.start(`backup ${plan.host} -> ${id}`, planned.length);
    for (const p of planned) emit({ type: 'item.queued', jobId, item: p.item, kind: p.kind, total: p.total });
    const byItem = new Map(planned.map((p) => [p.item, p]));
    const onOutcome = (o: TaskOutcome) => {
      const p = byItem.get(o.item)!;
      const kind = p.kind as ItemError['kind'];
      if (o.status === 'done')
        emit({
          type: 'item.done',
          jobId,
          item: o.item,
          bytes: bytes.get(o.item) ?? 0,
          ...(details.has(o.item) ? { detail: details.get(o.item) } : {}),
        });
      else if (o.status === 'skipped') {
        errors.push({ kind, name: p.name, code: 'SKIPPED', message: 'skipped by user' });
        emit({ type: 'item.skipped', jobId, item: o.item, reason: 'skipped by user' });
      } else if (o.status === 'failed' && o.error instanceof NotRunning) {
        // a stopped server's files are at rest and its volumes are copied: a skip, not a failure
        emit({ type: 'item.skipped', jobId, item: o.item, reason: o.error.message });
      } else if (o.status === 'failed') {
        const error = toErrorInfo(o.error);
        errors.push({ kind, name: p.name, ...error });
        emit({ type: 'item.failed', jobId, item: o.item, error });
      }
    };
    const onStart = (item: string) => {
      const p = byItem.get(item)!;
      emit({ type: 'item.start', jobId, item, kind: p.kind, total: p.total });
    };
    // Definitions first (quick, and worth having even if a big volume fails), then volumes.
    await env.queue.runAll(
      planned.filter((p) => p.kind !== 'volume').map((p) => p.task),
      onOutcome,
      onStart,
    );
    await env.queue.runAll(
      planned.filter((p) => p.kind === 'volume').map((p) => p.task),
      onOutcome,
      onStart,
    );
    signal.throwIfAborted();
    const disk = errors.find((e) => e.code === 'DISK');
    if (disk)
      throw new BbackupError(
        'DISK',
        `${disk.message}; the unfinished backup was removed, earlier backups are untouched`,
      );
    if (items.length === 0)
      throw new BbackupError(
        'PARTIAL',
        `nothing was stored: ${errors.map((e) => `${e.kind} ${e.name}: ${e.message}`).join('; ')}`,
      );

    items.sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name));
    const parents = items.flatMap((i) => (i.kind === 'volume' && i.parent ? [i.parent] : [])).sort();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id,
      host: plan.host,
      created: startedAt.toISOString(),
      finished: '',
      tool: { name: 'bbackup', version },
      status: errors.length > 0 ? 'partial' : 'complete',
      scope: { ...plan.scope, ...(plan.backupSet ? { backupSet: plan.backupSet } : {}) },
      group: plan.group,
      compression: plan.compression,
      parent: parents.at(-1),
      encrypted: false,
      items,
      errors,
    };
    emit({ type: 'item.start', jobId, item: 'metadata', kind: 'metadata' });
    await writeManifest(partial, { ...manifest, finished: new Date().toISOString() });
    const metadata = await writeMetadataArchive(partial, plan.compression, signal);
    manifest.items.push({ kind: 'metadata', name: 'metadata', files: [metadata] });
    manifest.finished = new Date().toISOString();
    await writeManifest(partial, manifest);
    emit({ type: 'item.done', jobId, item: 'metadata', bytes: metadata.size });
    signal.throwIfAborted();
    try {
      await (deps.syncStore ?? syncFilesystem)(partial, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      throw new BbackupError(
        'DISK',
        `could not flush backup ${id} to disk, so it was not completed: ${describeError(err)}; the unfinished backup was removed, earlier backups are untouched`,
        { path: partial },
        { cause: err },
      );
    }
    await rename(partial, finalDir);
    renamed = true;
    const flushed = await fsyncDir(hostDir).then(
      (): JobError[] => [],
      (err: unknown): JobError[] => [
        {
          item: 'backup',
          code: 'DISK',
          message: `backup ${id} is complete, but its rename could not be flushed to disk (${describeError(err)}); it may be missing after a power cut`,
        },
      ],
    );
    log('info', `backup ${id} written to ${finalDir}`);

    const result = [...flushed, ...(await postBackup(env, finalDir, manifest))];
    const outcome = signal.aborted ? 'cancelled' : errors.length + result.length > 0 ? 'partial' : 'ok';
    const jobErrors: JobError[] = [
      ...errors.map((e) => ({ item: `${e.kind} ${e.name}`, code: e.code, message: e.message })),
      ...result,
    ];
    return {
      outcome,
      value: { dryRun: false, id, dir: finalDir, manifest, plan },
      errors: jobErrors,
      backupId: id,
      summary: summarize(manifest, jobErrors.length),
    };
  } finally {
    if (!renamed) await rm(partial, { recursive: true, force: true }).catch(() => undefined);
  }
}

function planItems(
  env: RunEnv,
  plan: BackupPlan,
  partial: string,
  items: ManifestItem[],
  done: { bytes: Map<string, number>; details: Map<string, string> },
  errors: RunError[],
): Planned[] {
  const { deps } = env;
  const { jobId, emit } = env.ctx;
  const docker = deps.docker.docker;
  const config = deps.config;
  const out: Planned[] = [];
  for (const c of plan.containers) {
    const item = `container ${c.name}`;
    out.push({
      item,
      kind: 'container',
      name: c.name,
      task: {
        item,
        run: async (t) =>
          void items.push(await saveContainer(docker, c.name, partial, config.backup.logs.lines, t.signal)),
      },
    });
  }
  for (const n of plan.networks) {
    const item = `network ${n.name}`;
    out.push({
      item,
      kind: 'network',
      name: n.name,
      task: { item, run: async (t) => void items.push(await saveNetwork(docker, n.name, partial, t.signal)) },
    });
  }
  for (const p of plan.projects) {
    const item = `project ${p.name}`;
    out.push({
      item,
      kind: 'project',
      name: p.name,
      task: {
        item,
        run: async (t) => {
          const saved = await saveProject(p, partial, t.signal);
          items.push(saved.item);
          done.bytes.set(
            item,
            saved.item.files.reduce((a, f) => a + f.size, 0),
          );
          for (const problem of saved.problems) {
            const message = `compose file ${problem}; the project's other files, containers, volumes and networks are backed up`;
            errors.push({ kind: 'project', name: p.name, code: 'NOT_FOUND', message });
            emit({ type: 'log', jobId, level: 'warn', source: 'backup', msg: `project ${p.name}: ${message}` });
          }
        },
      },
    });
  }
  const earlier = once(async () => (await listBackups(env.hostDir)).filter((b) => b.manifest));
  for (const img of plan.images) {
    const item = `image ${img.tags[0] ?? img.id.slice(7, 19)}`;
    out.push({
      item,
      kind: 'image',
      name: img.id,
      total: img.bytes,
      task: {
        item,
        run: async (t) => {
          const progress = byteCounter(emit, jobId, item, img.bytes);
          let seen = 0;
          const saved = await saveImage(img, {
            docker,
            folder: partial,
            hostDir: env.hostDir,
            backups: await earlier(),
            compression: plan.compression,
            signal: t.signal,
            onBytes: (total) => {
              progress.add(total - seen);
              seen = total;
            },
            log: (msg) => emit({ type: 'log', jobId, level: 'warn', source: 'backup', msg }),
          });
          items.push(saved);
          done.bytes.set(item, saved.files[0]?.size ?? 0);
          if (saved.linkedFrom) done.details.set(item, `unchanged: linked to backup ${saved.linkedFrom}`);
        },
      },
    });
  }
  out.push(...dumpTasks(env, plan, partial, items, done.bytes));
  const readerDeps = {
    docker: deps.docker,
    workerImage: config.backup.volumes.worker_image,
    store: config.backup.store,
  };
  deps.hooks?.planned?.(plan.volumes);
  for (const v of plan.volumes) {
    const item = `volume ${v.name}`;
    out.push({
      item,
      kind: 'volume',
      name: v.name,
      total: v.estimatedBytes,
      task: {
        item,
        run: async (t) => {
          const info = await inspectVolume(docker, v.name, t.signal);
          const volume = await backupVolume(v, {
            folder: partial,
            hostDir: env.hostDir,
            reader: createReader(v.mode, readerDeps),
            compression: plan.compression,
            hooks: deps.hooks,
            labels: info.Labels ?? {},
            options: info.Options ?? {},
            gate: () => t.gate.wait(t.signal),
            onRestoreError: (err) =>
              errors.push({
                kind: 'volume',
                name: v.name,
                code: 'HOOK_FAILED',
                message: `restoring after the backup hook failed: ${describeError(err)}`,
              }),
            ctx: {
              signal: t.signal,
              progress: (bytes, total) => emit({ type: 'item.progress', jobId, item, bytes, total }),
              suspendable: t.suspendable,
              log: (level, msg) => emit({ type: 'log', jobId, level, source: 'backup', msg }),
            },
          });
          items.push(volume);
          done.bytes.set(item, volume.bytes);
          if (volume.skippedDevices)
            done.details.set(
              item,
              `${volume.skippedDevices} device node${volume.skippedDevices === 1 ? '' : 's'} left out`,
            );
        },
      },
    });
  }
  return out;
}

async function inspectVolume(
  docker: Docker,
  name: string,
  signal: AbortSignal,
): Promise<{ Labels?: Record<string, string> | null; Options?: Record<string, string> | null }> {
  try {
    return (await docker.getVolume(name).inspect()) as {
      Labels?: Record<string, string> | null;
      Options?: Record<string, string> | null;
    };
  } catch (err) {
    throw dockerError(err, `volume ${name}`, signal);
  }
}

/** Uploads and rotation: their failures make the backup partial, never undo it. */
async function postBackup(env: RunEnv, backupDir: string, manifest: Manifest): Promise<JobError[]> {
  const { signal, emit, jobId } = env.ctx;
  if (signal.aborted) return [];
  try {
    const r = await runPostBackup({
      config: env.deps.config,
      hostDir: env.hostDir,
      backupDir,
      manifest,
      remotes: env.request.remotes,
      emit,
      signal,
      jobId,
    });
    return r.uploads
      .filter((u) => !u.ok)
      .map((u) => ({
        item: `upload ${u.remote}`,
        code: 'REMOTE_IO',
        message: u.error ?? `upload to ${u.remote} failed`,
      }));
  } catch (err) {
    if (signal.aborted) return [];
    return [{ item: 'post-backup', ...toErrorInfo(err) }];
  }
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

function summarize(m: Manifest, errors: number): string {
  const count = (k: ManifestItem['kind']) => m.items.filter((i) => i.kind === k).length;
  const bytes = m.items.reduce((s, i) => s + (i.kind === 'volume' ? i.bytes : 0), 0);
  return `${count('container')} containers, ${count('volume')} volumes (${bytes} bytes), ${count('network')} networks${count('dump') ? `, ${count('dump')} database dumps` : ''}${errors ? `, ${errors} problems` : ''}`;
}
