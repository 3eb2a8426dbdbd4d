// startRestore: the restore job both front ends drive. It plans (or takes a plan), refuses when
// anything is in the way or missing, checks the backup, and only then changes the engine:
// replaced objects are removed, then networks, volumes and containers are created in that order.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { ensureImage, workerImageSpec } from '../docker/images.js';
import { BbackupError, describeError, isAbortError } from '../errors.js';
import { noEmit, type Emit, type ItemKind, type Outcome } from '../events.js';
import type { JobHandle, JobResult } from '../jobs/types.js';
import { readManifest } from '../store/manifest.js';
import { removeContainer } from './container.js';
import { removeStaleHelpers } from './helper.js';
import { PauseGate } from '../pause-gate.js';
import { Skipped, progressReporter } from './job-control.js';
import { planRestore } from './plan.js';
import { preflight, preflightBytes } from './preflight.js';
import { runItem, type RunContext } from './run-item.js';
import type { PlanItem, RestorePlan, RestoreRequest, VolumeMode } from './types.js';

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
}

export interface RestoreValue {
  backupId: string;
  plan: RestorePlan;
  restored: { kind: PlanItem['kind']; source: string; target: string }[];
}

export const itemName = (i: Pick<PlanItem, 'kind' | 'target'>): string => `${i.kind} ${i.target}`;

/** Refuse a plan with conflicts or missing images: nothing has been touched yet. */
export function assertRunnable(plan: RestorePlan): void {
  if (plan.missingImages.length > 0) {
    throw new BbackupError('NOT_FOUND', `refused: images are missing; nothing was restored:\n  ${plan.missingImages.map((p) => p.message).join('\n  ')}`, { images: plan.missingImages.map((p) => p.name) });
  }
  if (plan.conflicts.length > 0) {
    throw new BbackupError('CONFLICT', `refused: ${plan.conflicts.length} conflict${plan.conflicts.length > 1 ? 's' : ''}; nothing was changed:\n  ${plan.conflicts.map((p) => p.message).join('\n  ')}`, { conflicts: plan.conflicts });
  }
}

export function startRestore(request: RestoreRequest, deps: RestoreDeps): JobHandle<RestoreValue> {
  const jobId = `restore-${randomBytes(4).toString('hex')}`;
  const emit = deps.emit ?? noEmit;
  const abort = new AbortController();
  const gate = new PauseGate();
  let current: { item: string; abort: AbortController } | undefined;

  const run = async (): Promise<JobResult<RestoreValue>> => {
    const plan = deps.plan ?? (await planRestore(request.backupDir, await readManifest(request.backupDir), request, deps.docker));
    assertRunnable(plan);
    const work = plan.items;
    emit({ type: 'job.start', jobId, kind: 'restore', title: `restore ${plan.backupId}`, items: work.length + 1 });
    const verifyItem = 'verify backup';
    emit({ type: 'item.queued', jobId, item: verifyItem, kind: 'file', total: preflightBytes(plan, request.verify) });
    for (const i of work) emit({ type: 'item.queued', jobId, item: itemName(i), kind: i.kind as ItemKind, total: i.bytes || undefined });

    const total = preflightBytes(plan, request.verify);
    emit({ type: 'item.start', jobId, item: verifyItem, kind: 'file', total });
    const progress = progressReporter(emit, jobId, verifyItem, total);
    try {
      await preflight(plan, { verify: request.verify, signal: abort.signal, onBytes: progress.add });
      progress.flush();
      emit({ type: 'item.done', jobId, item: verifyItem, bytes: progress.bytes, detail: request.verify ? 'matches the manifest' : 'archives checked (--no-verify)' });
    } catch (err) {
      const cancelled = abort.signal.aborted || isAbortError(err);
      emit({ type: 'item.failed', jobId, item: verifyItem, error: info(err) });
      emit({ type: 'job.end', jobId, outcome: cancelled ? 'cancelled' : 'failed', summary: cancelled ? 'cancelled before anything was changed' : describeError(err) });
      if (cancelled) return { outcome: 'cancelled', errors: [] };
      throw err;
    }

    const ctx: RunContext = {
      plan, request, docker: deps.docker, emit, jobId,
      localEngine: deps.localEngine, volumeMode: deps.volumeMode ?? 'auto', helperLabels: deps.helperLabels,
      workerImage: deps.workerImage ?? 'bbackup-worker:local',
      ensureWorker: once(async () => {
        await removeStaleHelpers(deps.docker);
        await ensureImage(deps.docker, workerImageSpec(deps.workerImage ?? 'bbackup-worker:local'));
      }),
      failed: new Set(),
      rolledBack: new Set(),
    };
    const errors: JobResult['errors'] = [];
    const restored: RestoreValue['restored'] = [];
    let cancelled = false;
    let skipped = 0;
    // Containers replaced with --force go first: their volumes and networks may be replaced too.
    for (const item of work.filter((i) => i.kind === 'container' && i.action === 'replace')) {
      emit({ type: 'log', jobId, level: 'warn', source: 'restore', msg: `removing existing container ${item.target} (--force)` });
      await removeContainer(deps.docker, item.target).catch((err: unknown) => {
        ctx.failed.add(itemName(item));
        errors.push({ item: itemName(item), ...info(err) });
        emit({ type: 'item.failed', jobId, item: itemName(item), error: info(err) });
      });
    }
    for (const item of work) {
      const name = itemName(item);
      if (ctx.failed.has(name)) continue;
      try {
        await gate.wait(abort.signal);
      } catch {
        cancelled = true;
        break;
      }
      const itemAbort = new AbortController();
      const onJobAbort = () => itemAbort.abort(abort.signal.reason);
      abort.signal.addEventListener('abort', onJobAbort, { once: true });
      current = { item: name, abort: itemAbort };
      try {
        const outcome = await runItem(item, { ...ctx, signal: itemAbort.signal });
        if (outcome.skipped) {
          skipped++;
          ctx.failed.add(name);
          emit({ type: 'item.skipped', jobId, item: name, reason: outcome.skipped });
        } else restored.push({ kind: item.kind, source: item.source, target: item.target });
      } catch (err) {
        ctx.failed.add(name);
        if (abort.signal.aborted) {
          cancelled = true;
          emit({ type: 'item.failed', jobId, item: name, error: { code: 'CANCELLED', message: 'cancelled' } });
          break;
        }
        if (itemAbort.signal.reason instanceof Skipped) {
          skipped++;
          emit({ type: 'item.skipped', jobId, item: name, reason: 'skipped by user' });
          continue;
        }
        errors.push({ item: name, ...info(err) });
        emit({ type: 'item.failed', jobId, item: name, error: info(err) });
      } finally {
        abort.signal.removeEventListener('abort', onJobAbort);
        current = undefined;
      }
    }
    // volumes made empty for a dump that did not load were removed again: not restored
    for (let i = restored.length - 1; i >= 0; i--) if (ctx.rolledBack?.has(itemName(restored[i]!))) restored.splice(i, 1);
    // Anything not restored (failed, or skipped by the user or for a missing dependency) makes it partial.
    const outcome: Outcome = cancelled ? 'cancelled' : errors.length + skipped === 0 ? 'ok' : restored.length > 0 || errors.length === 0 ? 'partial' : 'failed';
    const summary = `${restored.length} of ${work.length} restored${errors.length ? `, ${errors.length} failed` : ''}${skipped ? `, ${skipped} skipped` : ''}${cancelled ? ', cancelled' : ''}`;
    emit({ type: 'job.end', jobId, outcome, summary, backupId: plan.backupId });
    return { outcome, errors, value: { backupId: plan.backupId, plan, restored } };
  };

  const done = run();
  return {
    id: jobId,
    done,
    get paused() {
      return gate.paused;
    },
    pause() {
      if (gate.paused) return;
      gate.close();
      emit({ type: 'job.paused', jobId });
    },
    resume() {
      if (!gate.paused) return;
      gate.open();
      emit({ type: 'job.resumed', jobId });
    },
    skip(item?: string) {
      if (current && (item === undefined || item === current.item)) current.abort.abort(new Skipped(`${current.item} skipped by user`));
    },
    cancel() {
      abort.abort(new BbackupError('CANCELLED', 'restore cancelled'));
    },
  };
}

const info = (err: unknown) => ({ code: err instanceof BbackupError ? err.code : isAbortError(err) ? 'CANCELLED' : 'INTERNAL', message: describeError(err) });

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}
