// vitest global setup: one engine and the offline images for the whole run; every labelled
// object is removed at the end, and a private dockerd we started is stopped.
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { busyboxImageSpec, ensureImage, workerImageSpec } from '../../src/docker/images.js';
import { findOrStartEngine, mounts, type TestEngine } from './engine.js';
import { BUSYBOX_IMAGE, TEST_LABEL, WORKER_IMAGE } from './names.js';

let engine: TestEngine | undefined;

export async function setup(): Promise<void> {
  engine = await findOrStartEngine();
  process.env.BBACKUP_TEST_DOCKER_HOST = engine.address;
  // Every bbackup a test starts (runCli, cliCommand, in-process resolveDockerTarget with
  // process.env) reaches the test engine unless its config names a hosts entry or the test sets
  // DOCKER_HOST itself: with a private engine, /var/run/docker.sock may be absent or another daemon.
  process.env.DOCKER_HOST = engine.address;
  process.env.BBACKUP_TEST_RUN = String(process.pid);
  const docker = new Docker({ socketPath: engine.socketPath });
  await removeLabelled(docker, (run) => !isAlive(Number(run)));
  unmountStaleTmpfs();
  await ensureImage(docker, busyboxImageSpec(BUSYBOX_IMAGE));
  await ensureImage(docker, workerImageSpec(WORKER_IMAGE));
}

export async function teardown(): Promise<void> {
  if (!engine) return;
  const docker = new Docker({ socketPath: engine.socketPath });
  await removeLabelled(docker, (run) => run === String(process.pid)).catch((err) =>
    console.error('test cleanup failed:', err),
  );
  await engine.stop?.();
  if (engine.stop) delete process.env.BBACKUP_TEST_DOCKER_HOST;
  if (process.env.DOCKER_HOST === engine.address) delete process.env.DOCKER_HOST;
}

/**
 * A run killed mid-test can leave backup-failures' small tmpfs (its "full disk", mounted with the
 * source name bbt-bk-full-<worker pid>) mounted under /tmp; unmount those of dead workers.
 */
function unmountStaleTmpfs(): void {
  for (const { source, target: path, type } of mounts()) {
    const pid = /^bbt-bk-full-(\d+)$/.exec(source)?.[1];
    if (type !== 'tmpfs' || !pid || isAlive(Number(pid))) continue;
    const r = spawnSync('umount', [path], { encoding: 'utf8' });
    if (r.status !== 0) console.error(`test setup: could not unmount a stale test tmpfs at ${path}: ${r.stderr}`);
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Remove test-labelled objects whose run id (the label value) matches. */
export async function removeLabelled(docker: Docker, matches: (run: string) => boolean): Promise<void> {
  const filters = { label: [TEST_LABEL] };
  const ours = (labels: Record<string, string> | undefined | null) => matches(labels?.[TEST_LABEL] ?? '');
  for (const c of await docker.listContainers({ all: true, filters })) {
    if (ours(c.Labels))
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: false })
        .catch(() => undefined);
  }
  const { Volumes } = await docker.listVolumes({ filters });
  for (const v of Volumes ?? [])
    if (ours(v.Labels))
      await docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined);
  for (const n of await docker.listNetworks({ filters }))
    if (ours(n.Labels))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
}
