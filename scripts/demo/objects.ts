// The demo's Docker objects on the private engine: containers (network none), volumes holding
// generated data (one of a few hundred MB, so a backup runs long enough to watch), a container whose
// pre-backup hook fails, a network with a created-only container attached. Names start with bbdemo-.
import { randomFillSync } from 'node:crypto';
import { lchown, mkdir, open, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';

export const DEMO_IMAGE = 'bbdemo-busybox:1';
export const DEMO_LABEL = 'bbackup.demo';

export const DEMO = {
  volumes: {
    web: 'bbdemo-web-content',
    db: 'bbdemo-db-data',
    cache: 'bbdemo-cache',
    media: 'bbdemo-media',
    reports: 'bbdemo-reports-data',
  },
  containers: {
    web: 'bbdemo-web',
    db: 'bbdemo-db',
    job: 'bbdemo-nightly-job',
    sidecar: 'bbdemo-sidecar',
    reports: 'bbdemo-reports',
  },
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
  const c = await docker.createContainer({
    Image: DEMO_IMAGE,
    Cmd: ['sh', '-c', script],
    Labels: labels(),
    HostConfig: { NetworkMode: 'none', Binds: binds },
  });
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
export async function createDemoObjects(
  docker: Docker,
  say: (s: string) => void,
  checkpoint: () => void,
): Promise<void> {
  for (const name of Object.values(DEMO.volumes)) {
    checkpoint();
    await docker.createVolume({ Name: name, Labels: labels() });
  }
  say('volumes created; writing data');
  await fillVolumes(docker);
  say(`data written (${DEMO.volumes.media}: ${MEDIA_FILES * MEDIA_MB} MiB); creating the containers`);
  checkpoint();
  const run = async (name: string, opts: Partial<Docker.ContainerCreateOptions>, start: boolean) => {
    checkpoint();
    const c = await docker.createContainer({
      Image: DEMO_IMAGE,
      Cmd: ['sh', '-c', LOOP],
      ...opts,
      name,
      Labels: labels(opts.Labels),
    });
    if (start) await c.start();
    return c;
  };
  // Installs its flush script, then idles; the label makes bbackup exec it before each copy.
  const install =
    'mkdir -p /usr/local/bin && printf "%s\\n" "$FLUSH_SCRIPT" > /usr/local/bin/flush-reports && chmod 755 /usr/local/bin/flush-reports';
  // Started side by side: a container start costs the engine a second or more on a busy machine.
  await settled([
    run(
      DEMO.containers.web,
      {
        Labels: { app: 'shop', tier: 'web' },
        HostConfig: {
          NetworkMode: 'none',
          Binds: [`${DEMO.volumes.web}:/usr/share/www:ro`, `${DEMO.volumes.media}:/srv/media:ro`],
        },
      },
      true,
    ),
    run(
      DEMO.containers.db,
      {
        // PGDATA alone would make bbackup dump it with pg_dumpall; this stand-in is busybox, so it says no
        Labels: { app: 'shop', tier: 'db', 'bbackup.dump': 'none' },
        Env: ['PGDATA=/var/lib/db'],
        HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.db}:/var/lib/db`] },
      },
      true,
    ),
    run(
      DEMO.containers.reports,
      {
        Cmd: ['sh', '-c', `${install} && ${LOOP}`],
        Env: [`FLUSH_SCRIPT=${FLUSH_REPORTS}`],
        Labels: { app: 'reports', 'bbackup.exec.pre': 'flush-reports', 'bbackup.exec.timeout': '20' },
        HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.reports}:/var/spool/reports`] },
      },
      true,
    ),
    // A stopped container: ran once and exited.
    run(
      DEMO.containers.job,
      {
        Cmd: ['sh', '-c', 'echo nightly job ran; ls /cache'],
        HostConfig: { NetworkMode: 'none', Binds: [`${DEMO.volumes.cache}:/cache`] },
      },
      true,
    ).then((job) => job.wait()),
    // Attached to a user network: stays created, never started (no traffic).
    docker
      .createNetwork({
        Name: DEMO.network,
        Internal: true,
        Labels: labels(),
        IPAM: { Config: [{ Subnet: DEMO.subnet }] },
      })
      .then(() =>
        run(
          DEMO.containers.sidecar,
          {
            Labels: { app: 'shop' },
            HostConfig: { NetworkMode: DEMO.network, Binds: [`${DEMO.volumes.cache}:/cache`] },
          },
          false,
        ),
      ),
  ]);
  say('containers and network created');
}

/** `mb` MiB of random bytes from Node's CSPRNG: incompressible, over 1 GB/s (a container reading /dev/urandom is far slower). */
async function randomFile(path: string, mb: number): Promise<void> {
  const block = Buffer.alloc(1024 * 1024);
  const fh = await open(path, 'w', 0o644);
  try {
    for (let i = 0; i < mb; i++) await fh.write(randomFillSync(block));
  } finally {
    await fh.close();
  }
}

/**
 * The volumes' data, written on the host straight into their Mountpoints (the demo runs as root
 * next to its own engine): no helper container to start, which costs seconds on a busy machine.
 */
async function fillVolumes(docker: Docker): Promise<void> {
  const at = async (volume: string) =>
    ((await docker.getVolume(volume).inspect()) as { Mountpoint: string }).Mountpoint;
  const [web, db, cache, media, reports] = await Promise.all(
    [DEMO.volumes.web, DEMO.volumes.db, DEMO.volumes.cache, DEMO.volumes.media, DEMO.volumes.reports].map(at),
  );
  const files = (dir: string, n: number, name: (i: number) => string, text: (i: number) => string) =>
    Promise.all(Array.from({ length: n }, (_, k) => writeFile(join(dir, name(k + 1)), text(k + 1))));
  await mkdir(join(web!, 'assets'), { recursive: true });
  await writeFile(join(web!, 'index.html'), '<h1>bbackup demo</h1>\n');
  await files(
    join(web!, 'assets'),
    40,
    (i) => `file-${i}.css`,
    (i) => `asset ${i}\n`,
  );
  await symlink('index.html', join(web!, 'home.html'));
  // a database's layout: owned by its uid 999, the data folder private
  await mkdir(join(db!, 'base'), { recursive: true, mode: 0o700 });
  await mkdir(join(db!, 'wal'), { recursive: true });
  await randomFile(join(db!, 'base', '16384'), 24);
  await files(
    join(db!, 'wal'),
    200,
    (i) => `seg-${i}`,
    (i) => `row ${i}\n`,
  );
  for (const p of [db!, ...(await readdir(db!, { recursive: true })).map((r) => join(db!, r))])
    await lchown(p, 999, 999);
  await writeFile(join(cache!, 'hint'), 'warm\n');
  await mkdir(join(reports!, 'out'), { recursive: true });
  await files(
    join(reports!, 'out'),
    12,
    (i) => `r-${i}.csv`,
    (i) => `report ${i}\n`,
  );
  await writeFile(join(reports!, 'queue.lock'), '4121\n');
  await mkdir(join(media!, 'clips'));
  for (let f = 1; f <= MEDIA_FILES; f++)
    await randomFile(join(media!, 'clips', `clip-${String(f).padStart(2, '0')}.mp4`), MEDIA_MB);
}

/** A small change between two backups, so the second one shows what incremental saves. */
export async function changeDemoData(docker: Docker): Promise<void> {
  await runScript(docker, 'echo "row 201 $(date)" > /db/wal/seg-201 && echo "<p>updated</p>" >> /web/index.html', [
    `${DEMO.volumes.db}:/db`,
    `${DEMO.volumes.web}:/web`,
  ]);
}

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);

/**
 * Empty the demo's private engine: every container, volume and network on it is the demo's (restores
 * made in the demo carry no demo label). Returns what is still there afterwards, for the last line.
 */
export async function removeDemoObjects(
  docker: Docker,
): Promise<{ containers: number; volumes: number; networks: number }> {
  for (const c of await docker.listContainers({ all: true }))
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  for (const v of (await docker.listVolumes()).Volumes ?? [])
    await docker
      .getVolume(v.Name)
      .remove()
      .catch(() => undefined);
  for (const n of await docker.listNetworks())
    if (!BUILTIN_NETWORKS.has(n.Name))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
  return {
    containers: (await docker.listContainers({ all: true })).length,
    volumes: ((await docker.listVolumes()).Volumes ?? []).length,
    networks: (await docker.listNetworks()).filter((n) => !BUILTIN_NETWORKS.has(n.Name)).length,
  };
}
