// The demo's Docker objects on the private engine: containers (network none), volumes holding
// generated data, a network with a created-only container attached. Names start with bbdemo-.
import type Docker from 'dockerode';

export const DEMO_IMAGE = 'bbdemo-busybox:1';
export const DEMO_LABEL = 'bbackup.demo';

export const DEMO = {
  volumes: { web: 'bbdemo-web-content', db: 'bbdemo-db-data', cache: 'bbdemo-cache' },
  containers: { web: 'bbdemo-web', db: 'bbdemo-db', job: 'bbdemo-nightly-job', sidecar: 'bbdemo-sidecar' },
  network: 'bbdemo-net',
  subnet: '10.231.7.0/24',
} as const;

const labels = (extra: Record<string, string> = {}) => ({ [DEMO_LABEL]: '1', ...extra });
const LOOP = 'trap "exit 0" TERM; while true; do sleep 1; done';

/** Run a shell script in a throwaway busybox container with `binds`, network none. */
async function runScript(docker: Docker, script: string, binds: string[]): Promise<void> {
  const c = await docker.createContainer({ Image: DEMO_IMAGE, Cmd: ['sh', '-c', script], Labels: labels(), HostConfig: { NetworkMode: 'none', Binds: binds } });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (StatusCode !== 0) throw new Error(`demo data script exited ${StatusCode}: ${script}`);
  } finally {
    await c.remove({ force: true });
  }
}

export async function createDemoObjects(docker: Docker, say: (s: string) => void): Promise<void> {
  for (const name of Object.values(DEMO.volumes)) await docker.createVolume({ Name: name, Labels: labels() });
  say('volumes created; writing data');
  await runScript(
    docker,
    [
      'mkdir -p /web/assets && echo "<h1>bbackup demo</h1>" > /web/index.html',
      'for i in $(seq 1 40); do echo "asset $i" > /web/assets/file-$i.css; done',
      'ln -s index.html /web/home.html',
      'mkdir -p /db/base /db/wal && dd if=/dev/urandom of=/db/base/16384 bs=1048576 count=24 2>/dev/null',
      'for i in $(seq 1 200); do echo "row $i $(date)" > /db/wal/seg-$i; done',
      'chown -R 999:999 /db && chmod 700 /db/base',
      'echo warm > /cache/hint',
    ].join(' && '),
    [`${DEMO.volumes.web}:/web`, `${DEMO.volumes.db}:/db`, `${DEMO.volumes.cache}:/cache`],
  );
  const run = async (name: string, opts: Partial<Docker.ContainerCreateOptions>, start: boolean) => {
    const c = await docker.createContainer({ Image: DEMO_IMAGE, Cmd: ['sh', '-c', LOOP], ...opts, name, Labels: labels(opts.Labels) });
    if (start) await c.start();
    return c;
  };
  await run(DEMO.containers.web, { Labels: { app: 'shop', tier: 'web' }, HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.web}:/usr/share/www:ro`] } }, true);
  await run(DEMO.containers.db, { Labels: { app: 'shop', tier: 'db' }, Env: ['PGDATA=/var/lib/db'], HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.db}:/var/lib/db`] } }, true);
  // A stopped container: ran once and exited.
  const job = await run(DEMO.containers.job, { Cmd: ['sh', '-c', 'echo nightly job ran; ls /cache'], HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.cache}:/cache`] } }, true);
  await job.wait();
  await docker.createNetwork({ Name: DEMO.network, Internal: true, Labels: labels(), IPAM: { Config: [{ Subnet: DEMO.subnet }] } });
  // Attached to a user network: stays created, never started (no traffic).
  await run(DEMO.containers.sidecar, { Labels: { app: 'shop' }, HostConfig: { NetworkMode: DEMO.network, Binds: [`${DEMO.volumes.cache}:/cache`] } }, false);
  say('containers and network created');
}

/** A small change between two backups, so the second one shows what incremental saves. */
export async function changeDemoData(docker: Docker): Promise<void> {
  await runScript(docker, 'echo "row 201 $(date)" > /db/wal/seg-201 && echo "<p>updated</p>" >> /web/index.html', [`${DEMO.volumes.db}:/db`, `${DEMO.volumes.web}:/web`]);
}

/** Remove every object carrying the demo label (the engine goes away too, but be tidy). */
export async function removeDemoObjects(docker: Docker): Promise<void> {
  const filters = { label: [DEMO_LABEL] };
  for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}
