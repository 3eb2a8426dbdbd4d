// Short-lived helper containers (DESIGN §4) carry these labels: bbackup.helper=1 so leftovers can
// be found; bbackup.owner=<hostname>:<pid> for people (and older bbackup versions) and
// bbackup.owner.run=<run identity as JSON> so a start-up sweep removes only the helpers of runs
// that died on this machine, never those of another live run (backup or restore), even when the
// dead run's pid now belongs to another process. Names carry the run id: two runs never clash.
import type Docker from 'dockerode';
import { currentRun, parseRunIdentity, runLiveness, type Liveness } from '../process-identity.js';

export const HELPER_LABEL = 'bbackup.helper';
export const OWNER_LABEL = 'bbackup.owner';
export const OWNER_RUN_LABEL = 'bbackup.owner.run';

export const ownerId = (): string => `${currentRun().hostname}:${currentRun().pid}`;

/** The labels every helper of this run carries. */
export function ownerLabels(): Record<string, string> {
  return { [HELPER_LABEL]: '1', [OWNER_LABEL]: ownerId(), [OWNER_RUN_LABEL]: JSON.stringify(currentRun()) };
}

let helpers = 0;
/** A helper container's name: bbackup-<kind>-<run id>-<n>. */
export const helperName = (kind: string): string => `bbackup-${kind}-${currentRun().runId}-${++helpers}`;

/** Is the run that made a helper alive? Old labels (<hostname>:<pid> only) can be proven dead, never alive. */
export function helperOwnerLiveness(labels: Record<string, string> | undefined): Liveness {
  const run = (() => {
    try {
      return parseRunIdentity(JSON.parse(labels?.[OWNER_RUN_LABEL] ?? ''));
    } catch {
      return undefined;
    }
  })();
  if (run) return runLiveness(run);
  const owner = labels?.[OWNER_LABEL] ?? '';
  const sep = owner.lastIndexOf(':');
  const pid = Number(owner.slice(sep + 1));
  if (sep <= 0 || !Number.isInteger(pid)) return 'unknown';
  return runLiveness({ hostname: owner.slice(0, sep), pid });
}

/** Remove helpers whose owner run is dead on this machine; returns their names. */
export async function removeStaleHelpers(docker: Docker): Promise<string[]> {
  const removed: string[] = [];
  const list = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=1`] } });
  for (const c of list) {
    if (helperOwnerLiveness(c.Labels) !== 'dead') continue;
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
    removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
  }
  return removed;
}
