// `bbackup migrate`: backup on one host, restore on another (src/cli/commands/migrate.ts drives it).
// What lives here: the check that the target has none of the names the backup will bring (made
// before anything happens on either host), and --stop-source: the source's containers stopped in
// reverse depends_on order before the backup (so nothing written after it is lost) and started
// again, in order, when the migration does not complete.
import type Docker from 'dockerode';
import type { BackupPlan } from '../backup/types.js';
import { composeOrderOrFallback } from '../docker/compose-order.js';
import { BbackupError, describeError } from '../errors.js';

/** "container web exists on the target" lines: what is in the way of the restore. */
export async function targetConflicts(plan: BackupPlan, target: Docker): Promise<string[]> {
  const [containers, volumes, networks] = await Promise.all([
    target.listContainers({ all: true }),
    target.listVolumes(),
    target.listNetworks(),
  ]);
  const cNames = new Set(containers.flatMap((c) => c.Names.map((n) => n.replace(/^\//, ''))));
  const vNames = new Set((volumes.Volumes ?? []).map((v) => v.Name));
  const nNames = new Set(networks.map((n) => n.Name));
  return [
    ...plan.containers.filter((c) => cNames.has(c.name)).map((c) => `container ${c.name} exists on the target`),
    ...plan.volumes.filter((v) => vNames.has(v.name)).map((v) => `volume ${v.name} exists on the target`),
    ...plan.networks.filter((n) => nNames.has(n.name)).map((n) => `network ${n.name} exists on the target`),
  ];
}

export interface StoppedSource {
  /** containers this run stopped, in the order they were stopped */
  stopped: string[];
  /** start them again, dependencies first */
  startAgain(): Promise<void>;
}

/** Stop the running containers among `names` on the source, dependants first. */
export async function stopSource(
  docker: Docker,
  names: readonly string[],
  log: (msg: string) => void,
): Promise<StoppedSource> {
  const infos = await Promise.all(names.map((n) => docker.getContainer(n).inspect()));
  const ordered = composeOrderOrFallback(
    infos.map((i) => ({ name: i.Name.replace(/^\//, ''), labels: i.Config.Labels, running: i.State.Running })),
    log,
  );
  const stopped: string[] = [];
  const startAgain = async () => {
    const errors: string[] = [];
    for (const name of ordered.map((c) => c.name).filter((n) => stopped.includes(n))) {
      log(`starting ${name} on the source again`);
      await docker
        .getContainer(name)
        .start()
        .catch((err: unknown) => errors.push(`${name}: ${describeError(err)}`));
    }
    if (errors.length)
      throw new BbackupError('DOCKER_FAILED', `could not start the source's containers again: ${errors.join('; ')}`);
  };
  for (const c of [...ordered].reverse()) {
    if (!c.running) continue;
    log(`stopping ${c.name} on the source (--stop-source)`);
    try {
      await docker.getContainer(c.name).stop();
    } catch (err) {
      await startAgain().catch((e: unknown) => log(describeError(e)));
      throw new BbackupError(
        'DOCKER_FAILED',
        `could not stop ${c.name} on the source: ${describeError(err)}; the containers stopped before it run again`,
        { container: c.name },
        { cause: err },
      );
    }
    stopped.push(c.name);
  }
  return { stopped, startAgain };
}
