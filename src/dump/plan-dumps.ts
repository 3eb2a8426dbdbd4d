// The dumps part of a backup plan. Pure: which selected containers get a dump, which data volumes
// bbackup.dump.only leaves out, and why a dump will not be taken. A dump is data, so it follows
// the volume scope (--config-only takes none). A stopped container gets no dump (a clear skip);
// its volume files are at rest and copied, even with dump.only, so nothing goes unsaved.
import { describeError } from '../errors.js';
import type { ContainerInfo } from '../docker/inventory.js';
import { dataDirOf, detectDump, volumeHolding } from './detect.js';
import type { PlannedDump } from './types.js';

export interface DumpPlan {
  dumps: PlannedDump[];
  /** volume -> the container whose dump replaces it (bbackup.dump.only) */
  replaced: Map<string, string>;
}

/**
 * `env` gives a container's Config.Env when known (detection by environment needs it);
 * `named` holds volumes the request names itself: those are always copied.
 */
export function planDumps(
  selected: ContainerInfo[],
  env: ReadonlyMap<string, string[]> | undefined,
  named: ReadonlySet<string>,
): DumpPlan {
  const dumps: PlannedDump[] = [];
  const replaced = new Map<string, string>();
  for (const c of selected) {
    let target;
    try {
      target = detectDump({ name: c.name, image: c.image, labels: c.labels, env: env?.get(c.name) });
    } catch (err) {
      // A bad label fails this container's dump item, never the whole backup.
      dumps.push({
        container: c.name,
        engine: 'postgres',
        detectedBy: 'label',
        only: false,
        state: c.state,
        dataDir: '',
        skipsVolumes: [],
        error: describeError(err),
      });
      continue;
    }
    if (!target) continue;
    const dataDir = dataDirOf(target, env?.get(c.name));
    const running = c.state === 'running';
    const volume = volumeHolding(dataDir, c.mounts);
    const skipsVolumes = target.only && running && volume && !named.has(volume) ? [volume] : [];
    for (const v of skipsVolumes) replaced.set(v, c.name);
    dumps.push({
      ...target,
      container: c.name,
      state: c.state,
      dataDir,
      skipsVolumes,
      ...(running ? {} : { skip: `container is ${c.state}: no dump; its volume files are at rest and copied` }),
    });
  }
  return { dumps, replaced };
}

/** One line for people: "postgres (label), dump only: volume pgdata not copied". */
export function describeDump(d: PlannedDump): string {
  if (d.error) return `dump refused: ${d.error}`;
  const what = `${d.engine}${d.path ? ` ${d.path}` : ''} (${d.detectedBy})`;
  if (d.skip) return `${what}: skipped, ${d.skip}`;
  return `${what}${d.skipsVolumes.length ? `, dump only: volume ${d.skipsVolumes.join(', ')} not copied` : ''}`;
}
