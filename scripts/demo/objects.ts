// The demo's Docker objects on the private engine: containers (network none), volumes holding
// generated data (one of a few hundred MB, so a backup runs long enough to watch), a container whose
// pre-backup hook fails, a network with a created-only container attached. Names start with bbdemo-.
import { randomFillSync } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';

export const DEMO_IMAGE = 'bbdemo-busybox:1';
export const DEMO_LABEL = 'bbackup.demo';

export const DEMO = {
  volumes: { web: 'bbdemo-web-content', db: 'bbdemo-db-data', cache: 'bbdemo-cache', media: 'bbdemo-media', reports: 'bbdemo-reports-data' },
  containers: { web: 'bbdemo-web', db: 'bbdemo-db', job: 'bbdemo-nightly-job', sidecar: 'bbdemo-sidecar', reports: 'bbdemo-reports' },
  network: 'bbdemo-net',
  subnet: '10.231.7.0/24',
} as const;

/** bbdemo-media: MEDIA_FILES files of MEDIA_MB MiB each, incompressible. */
export const MEDIA_FILES = 8;
export const MEDIA_MB = 32;

// The hook bbdemo-reports runs before its volume is copied (label bbackup.exec.pre): it fails the
// way a real flush script does, so the error pane has a real failure to read and the backup ends partial.
const FLUSH_REPORTS = [
  '#!/bin/sh',
  'echo "flush-reports: cannot flush /var/spool/reports: queue.lock is held by export job 4121" >&2',
  'echo "flush-reports: giving up; the spool would be copied half-written" >&2',
  'exit 75',
].join('\n');

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

/** Like Promise.all, but returns only when every one has settled: nothing is still being created after a failure. */
async function settled(work: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** `checkpoint` throws once the demo is stopping, so nothing more is created while it cleans up. */
export async function createDemoObjects(docker: Docker, say: (s: string) => void, checkpoint: () => void): Promise<void> {
  for (const name of Object.values(DEMO.volumes)) {
    checkpoint();
    await docker.createVolume({ Name: name, Labels: labels() });
  }
  say('volumes created; writing data');
  await settled([
    runScript(
      docker,
      [
        'mkdir -p /web/assets && echo "<h1>bbackup demo</h1>" > /web/index.html',
        'for i in $(seq 1 40); do echo "asset $i" > /web/assets/file-$i.css; done',
        'ln -s index.html /web/home.html',
        'mkdir -p /db/base /db/wal && dd if=/dev/urandom of=/db/base/16384 bs=1048576 count=24 2>/dev/null',
        'for i in $(seq 1 200); do echo "row $i" > /db/wal/seg-$i; done',
        'chown -R 999:999 /db && chmod 700 /db/base',
        'echo warm > /cache/hint',
        'mkdir -p /reports/out && for i in $(seq 1 12); do echo "report $i" > /reports/out/r-$i.csv; done && echo 4121 > /reports/queue.lock',
      ].join(' && '),
      [`${DEMO.volumes.web}:/web`, `${DEMO.volumes.db}:/db`, `${DEMO.volumes.cache}:/cache`, `${DEMO.volumes.reports}:/reports`],
    ),
    fillMedia(docker),
  ]);
  checkpoint();
  const run = async (name: string, opts: Partial<Docker.ContainerCreateOptions>, start: boolean) => {
    checkpoint();
    const c = await docker.createContainer({ Image: DEMO_IMAGE, Cmd: ['sh', '-c', LOOP], ...opts, name, Labels: labels(opts.Labels) });
    if (start) await c.start();
    return c;
  };
  // Installs its flush script, then idles; the label makes bbackup exec it before each copy.
  const install = 'mkdir -p /usr/local/bin && printf "%s\\n" "$FLUSH_SCRIPT" > /usr/local/bin/flush-reports && chmod 755 /usr/local/bin/flush-reports';
  // Started side by side: a container start costs the engine a second or more on a busy machine.
  await settled([
    run(DEMO.containers.web, { Labels: { app: 'shop', tier: 'web' }, HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.web}:/usr/share/www:ro`, `${DEMO.volumes.media}:/srv/media:ro`] } }, true),
    run(DEMO.containers.db, { Labels: { app: 'shop', tier: 'db' }, Env: ['PGDATA=/var/lib/db'], HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.db}:/var/lib/db`] } }, true),
    run(DEMO.containers.reports, { Cmd: ['sh', '-c', `${install} && ${LOOP}`], Env: [`FLUSH_SCRIPT=${FLUSH_REPORTS}`], Labels: { app: 'reports', 'bbackup.exec.pre': 'flush-reports', 'bbackup.exec.timeout': '20' }, HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.reports}:/var/spool/reports`] } }, true),
    // A stopped container: ran once and exited.
    run(DEMO.containers.job, { Cmd: ['sh', '-c', 'echo nightly job ran; ls /cache'], HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.cache}:/cache`] } }, true).then((job) => job.wait()),
    // Attached to a user network: stays created, never started (no traffic).
    docker.createNetwork({ Name: DEMO.network, Internal: true, Labels: labels(), IPAM: { Config: [{ Subnet: DEMO.subnet }] } }).then(() =>
      run(DEMO.containers.sidecar, { Labels: { app: 'shop' }, HostConfig: { NetworkMode: DEMO.network, Binds: [`${DEMO.volumes.cache}:/cache`] } }, false),
    ),
  ]);
  say('containers and network created');
}

/**
 * The big volume, written on the host straight into its Mountpoint (the demo runs as root next to
 * its engine): random bytes from Node's CSPRNG (incompressible, over 1 GB/s) instead of a container
 * reading /dev/urandom.
 */
async function fillMedia(docker: Docker): Promise<void> {
  const { Mountpoint } = (await docker.getVolume(DEMO.volumes.media).inspect()) as { Mountpoint: string };
  const dir = join(Mountpoint, 'clips');
  await mkdir(dir, { recursive: true });
  const block = Buffer.alloc(1024 * 1024);
  for (let f = 1; f <= MEDIA_FILES; f++) {
    const fh = await open(join(dir, `clip-${String(f).padStart(2, '0')}.mp4`), 'w', 0o644);
    try {
      for (let mb = 0; mb < MEDIA_MB; mb++) await fh.write(randomFillSync(block));
    } finally {
      await fh.close();
    }
  }
}

/** A small change between two backups, so the second one shows what incremental saves. */
export async function changeDemoData(docker: Docker): Promise<void> {
  await runScript(docker, 'echo "row 201 $(date)" > /db/wal/seg-201 && echo "<p>updated</p>" >> /web/index.html', [`${DEMO.volumes.db}:/db`, `${DEMO.volumes.web}:/web`]);
}

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);

/**
 * Empty the demo's private engine: every container, volume and network on it is the demo's (restores
 * made in the demo carry no demo label). Returns what is still there afterwards, for the last line.
 */
export async function removeDemoObjects(docker: Docker): Promise<{ containers: number; volumes: number; networks: number }> {
  for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  for (const v of (await docker.listVolumes()).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
  for (const n of await docker.listNetworks()) if (!BUILTIN_NETWORKS.has(n.Name)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  return {
    containers: (await docker.listContainers({ all: true })).length,
    volumes: ((await docker.listVolumes()).Volumes ?? []).length,
    networks: (await docker.listNetworks()).filter((n) => !BUILTIN_NETWORKS.has(n.Name)).length,
  };
}
