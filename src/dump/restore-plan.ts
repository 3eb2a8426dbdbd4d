// Restore planning for dumps. Pure: after the ordinary plan is made, each restored container that
// has a dump in the backup is told how to get it back, and its data volume is told to stay empty
// (a server initialises an empty data dir, then the dump is loaded: a file copy of a live
// database may not even start, so the dump wins whenever it can be loaded). The dump is never
// loaded into data that exists already: a reused volume, a bind mount, or an original container.
import type { EngineSnapshot } from '../restore/plan-build.js';
import type { ContainerInspect } from '../restore/inspect-types.js';
import { renamed } from '../restore/renames.js';
import type { RestorePlan } from '../restore/types.js';
import type { DumpItem } from '../store/manifest.js';
import { posix } from 'node:path';
import { rel } from '../store/layout.js';
import { volumeHolding } from './detect.js';
import { DUMP_ENGINES, LOAD_WHEN, type PlannedLoad } from './types.js';

export interface DumpPlanInput {
  /** false: --no-dump */
  dump: boolean;
  inspects: Map<string, ContainerInspect>;
  engine: Pick<EngineSnapshot, 'volumes'>;
}

const FRESH = new Set(['create', 'replace']);

/** Mounts of a saved inspect as {type, source, destination}. */
export function savedMounts(inspect: ContainerInspect): { type: string; source: string; destination: string }[] {
  return (inspect.Mounts ?? []).map((m) => ({
    type: m.Type ?? '',
    source: (m.Type === 'volume' ? m.Name : m.Source) ?? '',
    destination: m.Destination ?? '',
  }));
}

export function attachDumps(plan: RestorePlan, input: DumpPlanInput): RestorePlan {
  const dumps = plan.manifest.items.filter((i): i is DumpItem => i.kind === 'dump');
  for (const item of plan.items) {
    if (item.kind !== 'container' || !FRESH.has(item.action)) continue;
    const dump = dumps.find((d) => d.name === item.source);
    const inspect = input.inspects.get(item.source);
    if (!dump || !inspect) continue;
    const what = `container ${item.target}`;
    const bad = untrusted(dump);
    if (bad) {
      plan.warnings.push(`${what}: its dump in the manifest is not usable (${bad}): not loaded`);
      continue;
    }
    const dataVolume = volumeHolding(dump.dataDir, savedMounts(inspect));
    if (!input.dump) {
      item.notes.push(`its ${dump.engine} dump is not loaded (--no-dump): the data comes from the volume copy`);
      if (dump.only)
        plan.warnings.push(
          `${what}: its data volume was not backed up (bbackup.dump.only), and --no-dump leaves it without its ${dump.engine} data`,
        );
      continue;
    }
    const when = LOAD_WHEN[dump.engine];
    if (when === 'after-start' && !item.container?.start) {
      plan.warnings.push(
        `${what} is not started (--no-start, or it was stopped at backup time): its ${dump.engine} dump is not loaded${dump.only ? ', and its data volume was not backed up (bbackup.dump.only)' : '; the data comes from the volume copy'}`,
      );
      continue;
    }
    const refusal = freshness(plan, input, dump, dataVolume, when);
    if (refusal) {
      plan.warnings.push(`${what}: its ${dump.engine} dump is not loaded: ${refusal}`);
      continue;
    }
    const freshVolumes: string[] = [];
    if (when === 'after-start' && dataVolume) {
      const v = plan.items.find((i) => i.kind === 'volume' && i.source === dataVolume);
      if (v) {
        v.dumpFills = item.target;
        v.detail = `created empty: the ${dump.engine} dump of container ${item.target} fills it`;
        v.bytes = 0;
        freshVolumes.push(v.target);
      }
    }
    const load: PlannedLoad = {
      engine: dump.engine,
      file: rel.dump(dump.name, dump.engine),
      bytes: dump.bytes,
      ...(dump.path ? { path: dump.path } : {}),
      when,
      freshVolumes,
    };
    item.dump = load;
    item.detail +=
      when === 'after-start'
        ? `, then its ${dump.engine} dump is loaded`
        : `, with its ${dump.engine} snapshot put in place first`;
  }
  return plan;
}

/** Why the dump must not be loaded here (the data it would land on is not fresh); undefined = fine. */
function freshness(
  plan: RestorePlan,
  input: DumpPlanInput,
  dump: DumpItem,
  dataVolume: string | undefined,
  when: PlannedLoad['when'],
): string | undefined {
  const inspect = input.inspects.get(dump.name);
  const holds = (m: { destination: string }) =>
    dump.dataDir === m.destination || dump.dataDir.startsWith(`${m.destination.replace(/\/$/, '')}/`);
  const mount = inspect
    ? savedMounts(inspect)
        .filter(holds)
        .sort((a, b) => b.destination.length - a.destination.length)[0]
    : undefined;
  if (mount?.type === 'bind')
    return `its data folder ${dump.dataDir} is a bind mount of ${mount.source}, whose contents are used as they are`;
  if (!dataVolume) return when === 'before-start' ? `${dump.path ?? dump.dataDir} is not on a volume` : undefined; // container layer: a fresh container is empty
  const target = renamed(plan.renames, 'volume', dataVolume);
  const v = plan.items.find((i) => i.kind === 'volume' && i.source === dataVolume);
  if (v)
    return FRESH.has(v.action)
      ? undefined
      : `volume ${target} exists and is used as it is (restore it too with -V ${dataVolume} --force, or under a new name with --rename ${dataVolume}:NEW)`;
  if (input.engine.volumes.has(target)) return `volume ${target} exists and is used as it is`;
  return undefined; // not in the backup (dump only) and not on the engine: Docker creates it empty
}

/** The manifest is read back from disk: its dump entry is checked before any of it is used. */
function untrusted(d: DumpItem): string | undefined {
  if (!(DUMP_ENGINES as readonly string[]).includes(d.engine)) return `unknown engine ${JSON.stringify(d.engine)}`;
  const clean = (p: string | undefined) => p === undefined || (posix.isAbsolute(p) && posix.normalize(p) === p);
  if (typeof d.dataDir !== 'string' || !clean(d.dataDir) || !clean(d.path))
    return 'its paths are not clean absolute paths';
  if (d.engine !== 'sqlite' && d.engine !== 'redis' ? false : !d.path) return 'no file path';
  if (!Number.isSafeInteger(d.bytes) || d.bytes < 0) return 'no size';
  if (!d.files.some((f) => f.path === rel.dump(d.name, d.engine)))
    return `no ${rel.dump(d.name, d.engine)} in its files`;
  return undefined;
}
