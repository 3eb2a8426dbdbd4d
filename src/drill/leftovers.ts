// A drill killed before it could remove its sandbox leaves drill-* objects behind. The next drill
// removes those whose drill process is known to be dead (same machine, pid gone or reused); a live
// drill's sandbox, or one made on another machine, is left alone.
import type Docker from 'dockerode';
import type { Emit } from '../events.js';
import { parseRunIdentity, runLiveness } from '../process-identity.js';
import { DRILL_LABEL, RUN_LABEL } from './sandbox.js';

const dead = (labels: Record<string, string> | undefined): boolean => {
  const raw = labels?.[RUN_LABEL];
  if (raw === undefined) return false;
  let run;
  try {
    run = parseRunIdentity(JSON.parse(raw));
  } catch {
    return false;
  }
  return run !== undefined && runLiveness(run) === 'dead';
};

/** Returns the names removed. */
export async function removeDeadSandboxes(docker: Docker, emit?: Emit): Promise<string[]> {
  const filters = { label: [DRILL_LABEL] };
  const removed: string[] = [];
  const note = (what: string) => {
    removed.push(what);
    emit?.({ type: 'log', level: 'warn', source: 'drill', msg: `removed ${what}, left by a drill that was killed` });
  };
  for (const c of await docker.listContainers({ all: true, filters })) {
    const name = (c.Names[0] ?? '').replace(/^\//, '');
    if (!name.startsWith('drill-') || !dead(c.Labels)) continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .then(
        () => note(`container ${name}`),
        () => undefined,
      );
  }
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) {
    if (!v.Name.startsWith('drill-') || !dead(v.Labels ?? undefined)) continue;
    await docker
      .getVolume(v.Name)
      .remove({ force: true })
      .then(
        () => note(`volume ${v.Name}`),
        () => undefined,
      );
  }
  for (const n of await docker.listNetworks({ filters })) {
    if (!n.Name.startsWith('drill-') || !dead(n.Labels)) continue;
    await docker
      .getNetwork(n.Id)
      .remove()
      .then(
        () => note(`network ${n.Name}`),
        () => undefined,
      );
  }
  return removed;
}
