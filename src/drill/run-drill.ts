// A restore drill: the chosen backup is restored by the restore engine into a sandbox (renamed
// objects, isolated, src/drill/sandbox.ts), its volumes are compared with the backup's index, the
// containers that were running at backup time are started and must become ready (healthcheck,
// uptime, probe), and the sandbox is removed again unless kept. The originals are never touched:
// every object the drill makes or removes carries the drill's own prefix.
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { BbackupError, describeError, isAbortError, toErrorInfo } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { startContainer } from '../restore/container.js';
import { planRestore } from '../restore/plan.js';
import { startRestore } from '../restore/restore-job.js';
import type { RestoreRequest } from '../restore/types.js';
import { backupIdFor } from '../store/layout.js';
import { readManifest, type VolumeItem } from '../store/manifest.js';
import { removeDeadSandboxes } from './leftovers.js';
import { waitReady } from './readiness.js';
import { drillPrefix, makeSandbox, sandboxRenames } from './sandbox.js';
import type { DrillContainerResult, DrillOptions, DrillReport, DrillRequest, DrillVolumeResult } from './types.js';
import { checkRestoredVolume } from './volume-check.js';

const RUNNING = new Set(['running', 'paused', 'restarting']);

export const newDrillId = (now = new Date()): string =>
  `${backupIdFor(now).replace(/Z$/, '')}-${randomBytes(2).toString('hex')}`;

export async function runDrill(
  docker: Docker,
  req: DrillRequest,
  o: DrillOptions & { emit?: Emit; signal: AbortSignal; id?: string },
): Promise<DrillReport> {
  const emit = o.emit ?? noEmit;
  const id = o.id ?? newDrillId();
  const prefix = drillPrefix(id);
  const log = (msg: string, level: 'info' | 'warn' | 'error' = 'info') =>
    emit({ type: 'log', jobId: `drill-${id}`, level, source: 'drill', msg });
  const manifest = await readManifest(req.backupDir);
  const started = new Date();
  const report: DrillReport = {
    id,
    host: manifest.host,
    backup_id: manifest.id,
    backup_created: manifest.created,
    outcome: 'failed',
    schedule: req.schedule ?? null,
    started: started.toISOString(),
    finished: '',
    rto_seconds: null,
    rpo_seconds: Math.max(0, Math.round((started.getTime() - Date.parse(manifest.created)) / 1000)),
    containers: [],
    volumes: [],
    errors: [],
    kept: req.keep,
    sandbox: { prefix, containers: [], volumes: [], networks: [] },
  };
  const sandbox = makeSandbox(id, prefix);
  const fail = (item: string, err: unknown) => report.errors.push({ item, ...toErrorInfo(err) });
  try {
    await removeDeadSandboxes(docker, emit).catch((err: unknown) =>
      log(`could not look for sandboxes of killed drills: ${describeError(err)}`, 'warn'),
    );
    const request: RestoreRequest = {
      backupDir: req.backupDir,
      containers: req.containers,
      volumes: [],
      networks: [],
      all: req.containers.length === 0,
      renames: sandboxRenames(manifest, prefix),
      force: false,
      start: false,
      verify: true,
      allowPrivileged: req.allowPrivileged,
    };
    const plan = await planRestore(req.backupDir, manifest, request, docker);
    const created = plan.items.filter((i) => i.action === 'create');
    report.sandbox.containers = created.filter((i) => i.kind === 'container').map((i) => i.target);
    report.sandbox.volumes = created.filter((i) => i.kind === 'volume').map((i) => i.target);
    report.sandbox.networks = created.filter((i) => i.kind === 'network').map((i) => i.target);
    log(`drill ${id}: restoring backup ${manifest.id} into the sandbox ${prefix}*`);
    const job = startRestore(request, {
      docker,
      emit,
      localEngine: o.localEngine,
      volumeMode: o.volumeMode,
      workerImage: o.workerImage,
      helperLabels: o.helperLabels,
      plan,
      store: o.store,
      sandbox,
    });
    const onAbort = () => job.cancel();
    o.signal.addEventListener('abort', onAbort, { once: true });
    const restored = await job.done.finally(() => o.signal.removeEventListener('abort', onAbort));
    o.signal.throwIfAborted();
    for (const e of restored.errors) report.errors.push(e);
    const done = new Set((restored.value?.restored ?? []).map((r) => `${r.kind}:${r.source}`));

    for (const item of plan.items.filter((i) => i.kind === 'volume' && done.has(`volume:${i.source}`))) {
      const v = manifest.items.find((i): i is VolumeItem => i.kind === 'volume' && i.name === item.source)!;
      const r: DrillVolumeResult = await checkRestoredVolume(docker, req.backupDir, v, item.target, {
        localEngine: o.localEngine,
        signal: o.signal,
      });
      report.volumes.push(r);
      if (!r.ok)
        for (const p of r.problems) report.errors.push({ item: `volume ${v.name}`, code: 'INTEGRITY', message: p });
    }
    const volumesOk = report.volumes.every((v) => v.ok) && report.errors.length === 0;

    const toWait: DrillContainerResult[] = [];
    for (const item of plan.items.filter((i) => i.kind === 'container')) {
      const state = manifest.items.find((i) => i.kind === 'container' && i.name === item.source) as { state: string };
      const r: DrillContainerResult = {
        name: item.source,
        sandbox: item.target,
        state: 'not started',
        ok: true,
        detail: '',
      };
      report.containers.push(r);
      if (!done.has(`container:${item.source}`))
        Object.assign(r, { state: 'restore failed', ok: false, detail: 'not restored (see errors)' });
      else if (!RUNNING.has(state.state)) r.detail = `was ${state.state} at backup time: created, not started`;
      else if (!volumesOk)
        Object.assign(r, { ok: false, detail: 'not started: the restored data does not match the backup' });
      else {
        try {
          await startContainer(docker, item.target, item.target);
          toWait.push(r);
        } catch (err) {
          Object.assign(r, { state: 'error', ok: false, detail: describeError(err) });
          fail(`container ${item.source}`, err);
        }
      }
    }
    if (toWait.length > 0) log(`drill ${id}: waiting for ${toWait.map((c) => c.sandbox).join(', ')} to be ready`);
    await Promise.all(
      toWait.map(async (r) => {
        const ready = await waitReady(docker, r.sandbox, {
          upSeconds: req.upSeconds,
          timeoutSeconds: req.timeoutSeconds,
          localEngine: o.localEngine,
          signal: o.signal,
        });
        Object.assign(
          r,
          { state: ready.how, ok: ready.ok, detail: ready.detail },
          ready.probe ? { probe: ready.probe } : {},
        );
        if (!ready.ok)
          report.errors.push({
            item: `container ${r.name}`,
            code: 'DRILL_FAILED',
            message: `container ${r.name} (${r.sandbox}): ${ready.detail}`,
          });
      }),
    );
    if (report.errors.length === 0 && report.containers.every((c) => c.ok)) {
      report.outcome = 'passed';
      report.rto_seconds = Math.round((Date.now() - started.getTime()) / 100) / 10;
    }
  } catch (err) {
    if (o.signal.aborted || isAbortError(err)) report.outcome = 'cancelled';
    fail(o.signal.aborted ? 'drill' : 'restore', err);
  } finally {
    for (const v of sandbox.extraVolumes) if (!report.sandbox.volumes.includes(v)) report.sandbox.volumes.push(v);
    if (!req.keep) await removeSandbox(docker, report).catch((err: unknown) => fail('sandbox removal', err));
    report.finished = new Date().toISOString();
  }
  log(
    `drill ${id}: ${report.outcome}${report.rto_seconds !== null ? `, recovered in ${report.rto_seconds} s` : ''}, data ${report.rpo_seconds} s old`,
    report.outcome === 'passed' ? 'info' : 'error',
  );
  return report;
}

/**
 * Remove every sandbox object; each name carries the drill's prefix, so nothing else can be hit.
 * A timeout of its own: the drill's signal may already be aborted.
 */
export async function removeSandbox(docker: Docker, report: Pick<DrillReport, 'sandbox'>): Promise<void> {
  const problems: string[] = [];
  const gone = (err: { statusCode?: number }) => err.statusCode === 404;
  const safe = (name: string) => name.startsWith(report.sandbox.prefix);
  for (const c of report.sandbox.containers.filter(safe)) {
    await docker
      .getContainer(c)
      .remove({ force: true, v: true })
      .catch(
        (err: { statusCode?: number }) => void (gone(err) || problems.push(`container ${c}: ${describeError(err)}`)),
      );
  }
  for (const v of report.sandbox.volumes.filter(safe)) {
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => void (gone(err) || problems.push(`volume ${v}: ${describeError(err)}`)));
  }
  for (const n of report.sandbox.networks.filter(safe)) {
    await docker
      .getNetwork(n)
      .remove()
      .catch(
        (err: { statusCode?: number }) => void (gone(err) || problems.push(`network ${n}: ${describeError(err)}`)),
      );
  }
  if (problems.length > 0)
    throw new BbackupError(
      'DOCKER_FAILED',
      `the drill's sandbox was not removed completely (remove by hand):\n  ${problems.join('\n  ')}`,
    );
}
