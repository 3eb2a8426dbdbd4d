// startRestore: the restore step of the job runner (src/jobs/job.ts), which both front ends drive.
// It plans (or takes a plan), refuses when anything is in the way or missing, checks the backup,
// and only then changes the engine: replaced objects are removed, then networks, volumes and
// containers are created in that order.
import type Docker from 'dockerode';
import { ensureImage, workerImageSpec } from '../docker/images.js';
import { BbackupError, describeError, isAbortError, toErrorInfo } from '../errors.js';
import type { Emit, ItemKind, Outcome } from '../events.js';
import { SkipSignal, startJob, type JobContext, type JobStep, type StepEnd } from '../jobs/job.js';
import { byteCounter } from '../jobs/progress.js';
import type { JobError, JobHandle } from '../jobs/types.js';
import { readManifest } from '../store/manifest.js';
import { readerForDir } from '../store/readers.js';
import { removeContainer } from './container.js';
import { removeStaleHelpers } from './helper.js';
import { planRestore } from './plan.js';
import { CopyMismatch } from './fill-tree.js';
import { checkedOnCopy, mismatchRefusal, preflight, preflightBytes } from './preflight.js';
import { runItem, type RunContext } from './run-item.js';
import { loadImage } from './image.js';
import { writeProjectFiles } from './project-files.js';
import { projectRenameSandbox } from './project-rename.js';
import type { ImageItem } from '../store/manifest.js';
import {
  privilegeLines,
  privilegesAccepted,
  type PlanImage,
  type PlanItem,
  type RestorePlan,
  type RestoreRequest,
  type Sandbox,
  type VolumeMode,
} from './types.js';

export interface RestoreDeps {
  docker: Docker;
  emit?: Emit;
  /** volumes' Mountpoints are on this machine (a unix socket engine) */
  localEngine: boolean;
  volumeMode?: VolumeMode;
  workerImage?: string;
  /** extra labels for helper containers (tests add theirs) */
  helperLabels?: Record<string, string>;
  /** a plan made moments ago (e.g. shown to the user); made here when absent */
  plan?: RestorePlan;
  /** the local store: a backup of it is marked in use for the whole restore, so rotation keeps it */
  store?: string;
  /** a drill's sandbox (renames come in the request; this isolates what is created) */
  sandbox?: Sandbox;
}

export interface RestoreValue {
  backupId: string;
  plan: RestorePlan;
  restored: { kind: PlanItem['kind']; source: string; target: string }[];
}

export const itemName = (i: Pick<PlanItem, 'kind' | 'target'>): string => `${i.kind} ${i.target}`;

/** Refuse a plan that needs privileges nobody accepted, has conflicts or misses images: nothing has been touched yet. */
export function assertRunnable(plan: RestorePlan, allowPrivileged?: RestoreRequest['allowPrivileged']): void {
  if (!privilegesAccepted(plan, allowPrivileged)) {
    const lines = privilegeLines(plan);
    throw new BbackupError(
      'USAGE',
      `refused: restoring from backup ${plan.backupId} would grant these privileges on this host; nothing was changed:\n  ${lines.join('\n  ')}\n` +
        'A backup folder can be edited by whoever could write it. If these are expected (e.g. a monitoring agent that mounts the Docker socket), restore again with --allow-privileged.',
      { privileges: lines },
    );
  }
  if (plan.missingImages.length > 0) {
    throw new BbackupError(
      'NOT_FOUND',
      `refused: images are missing; nothing was restored:\n  ${plan.missingImages.map((p) => p.message).join('\n  ')}`,
      { images: plan.missingImages.map((p) => p.name) },
    );
  }
  if (plan.conflicts.length > 0) {
    throw new BbackupError(
      'CONFLICT',
      `refused: ${plan.conflicts.length} conflict${plan.conflicts.length > 1 ? 's' : ''}; nothing was changed:\n  ${plan.conflicts.map((p) => p.message).join('\n  ')}`,
      { conflicts: plan.conflicts },
    );
  }
}

/**
 * Start a restore. A refusal (privileges not accepted, conflicts, missing images, a backup that
 * does not match its manifest) rejects `done` with the BbackupError that says why: nothing was changed.
 */
export function startRestore(
  request: RestoreRequest,
  deps: RestoreDeps,
  o: { signal?: AbortSignal } = {},
): JobHandle<RestoreValue> {
  let current: { item: string; abort: AbortController } | undefined;
  const step: JobStep<RestoreValue> = {
    kind: 'restore',
    title: 'restore',
    rejects: true,
    run: async (job) => {
      job.control({
        skip(item?: string) {
          if (current && (item === undefined || item === current.item))
            current.abort.abort(new SkipSignal(current.item));
        },
      });
      const reader =
        deps.store === undefined ? undefined : await readerForDir(deps.store, request.backupDir, 'restore', job.signal);
      try {
        return await restore(request, deps, job, (c) => (current = c));
      } finally {
        await reader?.release();
      }
    },
  };
  return startJob(step, { emit: deps.emit, signal: o.signal });
}

/** Removes what a restore created (never what it reused), newest first; returns what could not be removed. */
async function undoCreated(docker: Docker, created: RestoreValue['restored']): Promise<string[]> {
  const left: string[] = [];
  for (const c of [...created].reverse()) {
    const gone =
      c.kind === 'container'
        ? removeContainer(docker, c.target)
        : c.kind === 'volume'
          ? docker.getVolume(c.target).remove({ force: true })
          : docker.getNetwork(c.target).remove();
    await Promise.resolve(gone).catch((err: unknown) =>
      left.push(`${c.kind} ${c.target} was created and could not be removed again: ${describeError(err)}`),
    );
  }
  return left;
}

async function restore(
  request: RestoreRequest,
  deps: RestoreDeps,
  job: JobContext,
  setCurrent: (c: { item: string; abort: AbortController } | undefined) => void,
): Promise<StepEnd<RestoreValue>> {
  const { jobId, emit, signal } = job;
  const plan =
    deps.plan ?? (await planRestore(request.backupDir, await readManifest(request.backupDir), request, deps.docker));
  assertRunnable(plan, request.allowPrivileged);
  const work = plan.items;
  const imageName = (i: PlanImage) => `image ${i.tags[0] ?? i.id.slice(0, 19)}`;
  job.start(`restore ${plan.backupId}`, work.length + plan.images.length + plan.projectFiles.length + 1);
  const verifyItem = 'verify backup';
  const place = { verify: request.verify, localEngine: deps.localEngine, volumeMode: deps.volumeMode ?? 'auto' };
  const onCopy = (i: PlanItem) => checkedOnCopy(plan, i, place);
  const total = preflightBytes(plan, request.verify, onCopy);
  emit({ type: 'item.queued', jobId, item: verifyItem, kind: 'file', total });
  for (const i of plan.images) emit({ type: 'item.queued', jobId, item: imageName(i), kind: 'image', total: i.bytes });
  for (const p of plan.projectFiles)
    emit({ type: 'item.queued', jobId, item: `project ${p.project}`, kind: 'project' });
  for (const i of work)
    emit({ type: 'item.queued', jobId, item: itemName(i), kind: i.kind as ItemKind, total: i.bytes || undefined });

  emit({ type: 'item.start', jobId, item: verifyItem, kind: 'file', total });
  const progress = byteCounter(emit, jobId, verifyItem, total);
  try {
    await preflight(plan, { verify: request.verify, signal, onBytes: progress.add, onCopy });
    emit({
      type: 'item.done',
      jobId,
      item: verifyItem,
      bytes: progress.bytes,
      detail: request.verify ? 'matches the manifest' : 'archives checked (--no-verify)',
    });
  } catch (err) {
    emit({ type: 'item.failed', jobId, item: verifyItem, error: toErrorInfo(err) });
    if (signal.aborted || isAbortError(err))
      return { outcome: 'cancelled', errors: [], summary: 'cancelled before anything was changed' };
    throw err;
  }

  const ctx: RunContext = {
    plan,
    request,
    docker: deps.docker,
    emit,
    jobId,
    localEngine: deps.localEngine,
    volumeMode: deps.volumeMode ?? 'auto',
    helperLabels: deps.helperLabels,
    workerImage: deps.workerImage ?? 'bbackup-worker:local',
    ensureWorker: once(async () => {
      await removeStaleHelpers(deps.docker);
      await ensureImage(deps.docker, workerImageSpec(deps.workerImage ?? 'bbackup-worker:local'));
    }),
    failed: new Set(),
    checkOnCopy: onCopy,
    sandbox: plan.projectRenames ? projectRenameSandbox(plan.projectRenames, deps.sandbox) : deps.sandbox,
    rolledBack: new Set(),
  };
  const errors: JobError[] = [];
  const restored: RestoreValue['restored'] = [];
  let cancelled = false;
  let skipped = 0;
  let loadedImages = 0;
  // Containers replaced with --force go first: their volumes and networks may be replaced too.
  for (const item of work.filter((i) => i.kind === 'container' && i.action === 'replace')) {
    emit({
      type: 'log',
      jobId,
      level: 'warn',
      source: 'restore',
      msg: `removing existing container ${item.target} (--force)`,
    });
    await removeContainer(deps.docker, item.target).catch((err: unknown) => {
      ctx.failed.add(itemName(item));
      errors.push({ item: itemName(item), ...toErrorInfo(err) });
      emit({ type: 'item.failed', jobId, item: itemName(item), error: toErrorInfo(err) });
    });
  }
  // Images before any container: a container whose image could not be loaded is skipped (run-item's blockedBy).
  for (const img of plan.images) {
    const name = imageName(img);
    try {
      await job.gate.wait(signal);
    } catch {
      cancelled = true;
      break;
    }
    emit({ type: 'item.start', jobId, item: name, kind: 'image', total: img.bytes });
    try {
      const item = plan.manifest.items.find((i): i is ImageItem => i.kind === 'image' && i.name === img.id)!;
      const { tagged } = await loadImage(deps.docker, item, plan.backupDir, signal);
      emit({
        type: 'item.done',
        jobId,
        item: name,
        bytes: img.bytes,
        detail: `loaded${tagged.length ? `, tagged ${tagged.join(', ')}` : ''}`,
      });
      loadedImages++;
    } catch (err) {
      ctx.failed.add(`image ${img.id}`);
      if (signal.aborted) {
        cancelled = true;
        emit({ type: 'item.failed', jobId, item: name, error: { code: 'CANCELLED', message: 'cancelled' } });
        break;
      }
      errors.push({ item: name, ...toErrorInfo(err) });
      emit({ type: 'item.failed', jobId, item: name, error: toErrorInfo(err) });
    }
  }
  for (const p of plan.projectFiles) {
    if (cancelled) break;
    const name = `project ${p.project}`;
    emit({ type: 'item.start', jobId, item: name, kind: 'project' });
    try {
      await writeProjectFiles(plan.backupDir, p, request.force);
      emit({ type: 'item.done', jobId, item: name, bytes: 0, detail: `${p.files.length} files in ${p.dir}` });
    } catch (err) {
      errors.push({ item: name, ...toErrorInfo(err) });
      emit({ type: 'item.failed', jobId, item: name, error: toErrorInfo(err) });
    }
  }
  for (const item of work) {
    if (cancelled) break;
    const name = itemName(item);
    if (ctx.failed.has(name)) continue;
    try {
      await job.gate.wait(signal);
    } catch {
      cancelled = true;
      break;
    }
    const itemAbort = new AbortController();
    const onJobAbort = () => itemAbort.abort(signal.reason);
    signal.addEventListener('abort', onJobAbort, { once: true });
    setCurrent({ item: name, abort: itemAbort });
    try {
      const outcome = await runItem(item, { ...ctx, signal: itemAbort.signal });
      if (outcome.skipped) {
        skipped++;
        ctx.failed.add(name);
        emit({ type: 'item.skipped', jobId, item: name, reason: outcome.skipped });
      } else restored.push({ kind: item.kind, source: item.source, target: item.target });
    } catch (err) {
      ctx.failed.add(name);
      if (signal.aborted) {
        cancelled = true;
        emit({ type: 'item.failed', jobId, item: name, error: { code: 'CANCELLED', message: 'cancelled' } });
        break;
      }
      if (itemAbort.signal.reason instanceof SkipSignal) {
        skipped++;
        emit({ type: 'item.skipped', jobId, item: name, reason: 'skipped by user' });
        continue;
      }
      if (err instanceof CopyMismatch) {
        // bbcopy found the backup damaged while it copied (preflight.ts, checkedOnCopy): undo
        // what this restore created, so the outcome is the preflight's: refused, nothing changed.
        emit({ type: 'item.failed', jobId, item: name, error: toErrorInfo(err) });
        const created = restored.filter((r) =>
          work.some((i) => i.kind === r.kind && i.target === r.target && i.action === 'create'),
        );
        const undone = await undoCreated(deps.docker, created);
        throw mismatchRefusal(plan, [...err.problems, ...undone]);
      }
      errors.push({ item: name, ...toErrorInfo(err) });
      emit({ type: 'item.failed', jobId, item: name, error: toErrorInfo(err) });
    } finally {
      signal.removeEventListener('abort', onJobAbort);
      setCurrent(undefined);
    }
  }
  // volumes made empty for a dump that did not load were removed again: not restored
  for (let i = restored.length - 1; i >= 0; i--) if (ctx.rolledBack?.has(itemName(restored[i]!))) restored.splice(i, 1);
  // Anything not restored (failed, or skipped by the user or for a missing dependency) makes it partial.
  const outcome: Outcome = cancelled
    ? 'cancelled'
    : errors.length + skipped === 0
      ? 'ok'
      : restored.length > 0 || errors.length === 0
        ? 'partial'
        : 'failed';
  const summary = `${restored.length} of ${work.length} restored${plan.images.length ? `, ${loadedImages} of ${plan.images.length} images loaded` : ''}${errors.length ? `, ${errors.length} failed` : ''}${skipped ? `, ${skipped} skipped` : ''}${cancelled ? ', cancelled' : ''}`;
  return { outcome, errors, value: { backupId: plan.backupId, plan, restored }, summary, backupId: plan.backupId };
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
