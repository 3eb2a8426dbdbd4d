// A restored container's dump (src/dump/load-dump.ts) inside the restore job: progress on the
// container's item, and on failure the container and the volumes made empty for the dump are
// removed again, so nothing half-loaded is left or reported as restored.
import { DEFAULT_WAIT_SECONDS, restoreDump } from '../dump/load-dump.js';
import { BbackupError, describeError } from '../errors.js';
import { startContainer } from './container.js';
import { byteCounter } from '../jobs/progress.js';
import type { RunContext } from './run-item.js';
import type { PlanItem } from './types.js';

/** Returns the words for the report and the dump bytes fed to the server. */
export async function loadContainerDump(
  item: PlanItem,
  ctx: RunContext & { signal: AbortSignal },
  id: string,
): Promise<{ detail: string; bytes: number }> {
  const load = item.dump!;
  const name = `container ${item.target}`;
  const progress = byteCounter(ctx.emit, ctx.jobId, name, load.bytes || undefined);
  try {
    const detail = await restoreDump(id, item.target, load, {
      docker: ctx.docker,
      backupDir: ctx.plan.backupDir,
      signal: ctx.signal,
      localEngine: ctx.localEngine,
      waitSeconds: ctx.request.dumpWait ?? DEFAULT_WAIT_SECONDS,
      onBytes: progress.add,
      log: (level, msg) => ctx.emit({ type: 'log', jobId: ctx.jobId, level, source: 'dump', msg }),
      helperLabels: ctx.helperLabels,
      start: item.container!.start ? () => startContainer(ctx.docker, id, item.target) : undefined,
    });
    return { detail, bytes: progress.bytes };
  } catch (err) {
    const removed = await rollBack(ctx, id, load.freshVolumes);
    const cause =
      err instanceof BbackupError
        ? err
        : new BbackupError(
            'DUMP_FAILED',
            `${name}: loading its ${load.engine} dump failed: ${describeError(err)}`,
            {},
            { cause: err },
          );
    if (ctx.signal.aborted) throw err;
    throw new BbackupError(
      'DUMP_FAILED',
      `${cause.message}\n${removed}; restore it again (--dump-wait for a slow server), or with --no-dump for the file copy`,
      { container: item.target },
      { cause: err },
    );
  }
}

/** Remove the container and the volumes made empty for its dump; returns what was done, in words. */
async function rollBack(ctx: RunContext, id: string, volumes: string[]): Promise<string> {
  const gone: string[] = [];
  await ctx.docker
    .getContainer(id)
    .remove({ force: true, v: false })
    .then(
      () => gone.push('the container'),
      () => undefined,
    );
  for (const v of volumes) {
    const ok = await ctx.docker
      .getVolume(v)
      .remove({ force: true })
      .then(
        () => true,
        () => false,
      );
    if (ok) {
      gone.push(`volume ${v}`);
      ctx.rolledBack?.add(`volume ${v}`);
      ctx.emit({
        type: 'log',
        jobId: ctx.jobId,
        level: 'warn',
        source: 'restore',
        msg: `volume ${v} removed again: the dump meant to fill it did not load`,
      });
    }
  }
  return gone.length
    ? `nothing half-loaded was kept: removed ${gone.join(' and ')}`
    : 'the container could not be removed: remove it by hand';
}
