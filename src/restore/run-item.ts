// One plan item, executed: a network created, a volume created and filled, a container created
// (and started). Anything half-made by a failed or skipped item is removed again, so what is left
// on the engine is either restored whole or not there.
import type Docker from 'dockerode';
import { dockerError } from '../docker/errors.js';
import { BbackupError } from '../errors.js';
import type { Emit } from '../events.js';
import { rel } from '../store/layout.js';
import type { ContainerItem } from '../store/manifest.js';
import { createContainer, removeContainer, startContainer } from './container.js';
import type { ContainerInspect, NetworkInspect } from './inspect-types.js';
import { byteCounter } from '../jobs/progress.js';
import { buildNetworkSpec } from './network.js';
import { containerPrivileges, networkPrivileges } from './privileges.js';
import { readJson, unwrap } from './plan.js';
import { usedNetworks, usedVolumes } from './plan-build.js';
import { archiveEntry, checkedSha256, volumeItem } from './preflight.js';
import { renameLookup, renamed } from './renames.js';
import type { PlanItem, RestorePlan, RestoreRequest, Sandbox, VolumeMode } from './types.js';
import { chooseMode, fillVolume, sourcePath } from './volume.js';
import { loadContainerDump } from './load-dump-item.js';

export interface RunContext {
  plan: RestorePlan;
  request: RestoreRequest;
  docker: Docker;
  emit: Emit;
  jobId: string;
  localEngine: boolean;
  volumeMode: VolumeMode;
  workerImage: string;
  helperLabels?: Record<string, string>;
  ensureWorker: () => Promise<void>;
  /** item names ("volume x") that failed: containers needing them are skipped */
  failed: Set<string>;
  /** tree volumes the copy checks against their index (the preflight did not) */
  checkOnCopy?: (item: PlanItem) => boolean;
  /** item names restored, then removed again (a volume made empty for a dump that did not load) */
  rolledBack?: Set<string>;
  signal?: AbortSignal;
  /** rewrites what is created: a drill's sandbox (src/drill/sandbox.ts), --project-rename's labels */
  sandbox?: Sandbox;
}

export async function runItem(
  item: PlanItem,
  ctx: RunContext & { signal: AbortSignal },
): Promise<{ skipped?: string }> {
  const name = `${item.kind} ${item.target}`;
  const { emit, jobId } = ctx;
  if (item.action === 'reuse') {
    emit({ type: 'item.done', jobId, item: name, bytes: 0, detail: 'exists: used as it is' });
    return {};
  }
  const waiting = item.kind === 'container' ? await blockedBy(item, ctx) : undefined;
  if (waiting) return { skipped: `needs ${waiting}, which was not restored` };
  emit({ type: 'item.start', jobId, item: name, kind: item.kind, total: item.bytes || undefined });
  for (const note of item.notes)
    emit({
      type: 'log',
      jobId,
      level: item.action === 'replace' ? 'warn' : 'info',
      source: 'restore',
      msg: `${name}: ${note}`,
    });
  ctx.signal.throwIfAborted();
  if (item.kind === 'network') await restoreNetwork(item, ctx);
  else if (item.kind === 'volume') await restoreVolume(item, ctx);
  else await restoreContainer(item, ctx, name);
  return {};
}

async function restoreNetwork(item: PlanItem, ctx: RunContext): Promise<void> {
  const { docker } = ctx;
  if (item.action === 'replace')
    await docker
      .getNetwork(item.target)
      .remove()
      .catch((err) => {
        throw dockerError(err, `could not remove network ${item.target}`);
      });
  const saved = unwrap(
    await readJson<NetworkInspect | NetworkInspect[]>(
      ctx.plan.backupDir,
      rel.network(item.source),
      `network ${item.source}`,
    ),
  );
  assertNoNewPrivileges(item, networkPrivileges(saved));
  const spec = buildNetworkSpec(saved, item.target, new Map());
  if (!item.network?.fixedSubnet) delete (spec.create.IPAM as { Config?: unknown }).Config;
  ctx.sandbox?.network(spec.create);
  await docker.createNetwork(spec.create as unknown as Docker.NetworkCreateOptions).catch((err) => {
    throw dockerError(err, `could not create network ${item.target}`);
  });
  ctx.emit({
    type: 'item.done',
    jobId: ctx.jobId,
    item: `network ${item.target}`,
    bytes: 0,
    detail: item.network?.fixedSubnet ? 'subnet kept' : 'subnet chosen by the engine',
  });
}

async function restoreVolume(item: PlanItem, ctx: RunContext & { signal: AbortSignal }): Promise<void> {
  const { docker } = ctx;
  const v = volumeItem(ctx.plan, item.source);
  if (item.action === 'replace')
    await docker
      .getVolume(item.target)
      .remove()
      .catch((err) => {
        throw dockerError(err, `could not remove volume ${item.target}`);
      });
  await docker
    .createVolume({
      Name: item.target,
      Driver: v.driver || 'local',
      DriverOpts: v.options ?? {},
      Labels: ctx.sandbox?.labels(v.labels ?? {}) ?? v.labels ?? {},
    })
    .catch((err) => {
      throw dockerError(err, `could not create volume ${item.target}`);
    });
  const name = `volume ${item.target}`;
  if (item.dumpFills)
    return void ctx.emit({
      type: 'item.done',
      jobId: ctx.jobId,
      item: name,
      bytes: 0,
      detail: `empty, for the dump of container ${item.dumpFills}`,
    });
  const progress = byteCounter(ctx.emit, ctx.jobId, name, v.bytes || undefined);
  try {
    const { Mountpoint } = (await docker.getVolume(item.target).inspect()) as { Mountpoint?: string };
    const mode = await chooseMode(ctx.volumeMode, ctx.localEngine, Mountpoint);
    if (mode !== 'host') await ctx.ensureWorker();
    const relPath = v.format === 'tree' ? rel.volumeTree(v.name) : archiveEntry(v)?.path;
    if (!relPath) throw new BbackupError('INTEGRITY', `volume ${v.name}: the manifest lists no archive file`);
    const expectIndex = ctx.checkOnCopy?.(item) ? sourcePath(ctx.plan.backupDir, rel.volumeIndex(v.name)) : undefined;
    if (expectIndex && mode === 'stream')
      throw new BbackupError(
        'INTEGRITY',
        `volume ${item.target}: not checked before the restore, and stream mode cannot check it while copying; restore with volumes.mode host or worker`,
      );
    await fillVolume(
      {
        docker,
        item: v,
        source: sourcePath(ctx.plan.backupDir, relPath),
        volume: item.target,
        mode,
        workerImage: ctx.workerImage,
        helperLabels: ctx.helperLabels,
        signal: ctx.signal,
        onBytes: progress.add,
        debug: (msg) => ctx.emit({ type: 'log', jobId: ctx.jobId, level: 'debug', source: 'restore', msg }),
        expectIndex,
        checkedSha256: checkedSha256(ctx.plan, relPath),
      },
      Mountpoint,
    );
    ctx.emit({
      type: 'item.done',
      jobId: ctx.jobId,
      item: name,
      bytes: progress.bytes,
      detail: `${v.format}, ${mode}`,
    });
  } catch (err) {
    // A half-filled volume must not look restored.
    await docker
      .getVolume(item.target)
      .remove({ force: true })
      .catch(() => undefined);
    throw err;
  }
}

async function restoreContainer(
  item: PlanItem,
  ctx: RunContext & { signal: AbortSignal },
  name: string,
): Promise<void> {
  const { docker, plan } = ctx;
  if (item.action === 'replace') await removeContainer(docker, item.target); // normally gone already (restore-job)
  const inspect = await savedInspect(ctx, item.source);
  const idToName = new Map(
    plan.manifest.items.filter((i): i is ContainerItem => i.kind === 'container').map((c) => [c.id, c.name]),
  );
  const restored = new Set(plan.items.filter((i) => i.kind === 'container').map((i) => i.source));
  assertNoNewPrivileges(item, containerPrivileges(inspect, { restored, idToName }));
  const dropStaticIp = new Map<string, string>();
  for (const n of usedNetworks(inspect)) {
    const target = renamed(plan.renames, 'network', n);
    const planned = plan.items.find((i) => i.kind === 'network' && i.source === n);
    const why = target !== n ? `network renamed to ${target}` : planned?.network?.dropStaticIp;
    if (why) dropStaticIp.set(n, why);
  }
  const created = await createContainer(
    docker,
    inspect,
    {
      target: item.target,
      rename: renameLookup(plan.renames),
      imageRef: item.container!.imageRef,
      restoredVolumes: new Set(plan.items.filter((i) => i.kind === 'volume').map((i) => i.source)),
      dropStaticIp,
      idToName,
    },
    ctx.sandbox,
  );
  for (const note of created.notes)
    ctx.emit({ type: 'log', jobId: ctx.jobId, level: 'info', source: 'restore', msg: `${name}: ${note}` });
  if (item.dump) {
    const loaded = await loadContainerDump(item, ctx, created.id);
    return void ctx.emit({
      type: 'item.done',
      jobId: ctx.jobId,
      item: name,
      bytes: loaded.bytes,
      detail: `created${item.container!.start ? ' and started' : ''}; ${loaded.detail}`,
    });
  }
  if (item.container!.start) await startContainer(docker, created.id, item.target);
  ctx.emit({
    type: 'item.done',
    jobId: ctx.jobId,
    item: name,
    bytes: 0,
    detail: item.container!.start ? 'created and started' : 'created',
  });
}

/**
 * The definition is read again here: if it was changed after the plan was shown (and accepted),
 * anything it now needs beyond what the plan listed is refused.
 */
function assertNoNewPrivileges(item: PlanItem, now: string[]): void {
  const added = now.filter((p) => !item.privileges.includes(p));
  if (added.length > 0) {
    throw new BbackupError(
      'INTEGRITY',
      `${item.kind} ${item.target} not created: its saved definition changed after the plan was made and now also needs: ${added.join('; ')}`,
      { privileges: added },
    );
  }
}

/** The first image, volume or network this container needs that failed to restore. */
async function blockedBy(item: PlanItem, ctx: RunContext): Promise<string | undefined> {
  const inspect = await savedInspect(ctx, item.source);
  const needs = [
    ...(inspect.Image ? [`image ${inspect.Image}`] : []),
    ...usedVolumes(inspect).map((v) => `volume ${renamed(ctx.plan.renames, 'volume', v)}`),
    ...usedNetworks(inspect).map((n) => `network ${renamed(ctx.plan.renames, 'network', n)}`),
  ];
  return needs.find((n) => ctx.failed.has(n));
}

const savedInspect = async (ctx: RunContext, name: string): Promise<ContainerInspect> =>
  unwrap(
    await readJson<ContainerInspect | ContainerInspect[]>(
      ctx.plan.backupDir,
      rel.containerInspect(name),
      `container ${name}`,
    ),
  );
