// A test image with real database servers, built offline from Debian's own packages (RECIPES.md
// §13): mmdebstrap extracts postgresql-15, mariadb (server core + client tools), redis-server and
// sqlite3 with their dependencies into a folder (no maintainer scripts run: nothing is
// initialised), we add users and folders, and `docker import` makes it an image. Built once per
// engine and kept (checked by tag). MongoDB is not in Debian (bookworm): not in this image.
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { imageExists } from '../../src/docker/images.js';
import { withBuildLock } from './build-lock.js';

export const DB_IMAGE = 'bbackup-test-db:1';
const PACKAGES = [
  'postgresql-15',
  'mariadb-server-core',
  'mariadb-client',
  'redis-server',
  'sqlite3',
  'dash',
  'coreutils',
  'sed',
  'grep',
  'findutils',
  'hostname',
];
// Removed after extraction: mmdebstrap's --dpkgopt=path-exclude filters every tar stream through
// a Python script (mmtarfilter), which made the build ten times slower (302 s instead of 28 s).
const DROP = ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'usr/share/lintian'];
export const UID = { postgres: 999, mysql: 998, redis: 997 } as const;

let building: Promise<void> | undefined;

/** Build DB_IMAGE unless the engine has it; returns the seconds the build took (0 when it existed). */
export async function ensureDbImage(docker: Docker, log: (msg: string) => void = () => undefined): Promise<number> {
  if (await imageExists(docker, DB_IMAGE)) return 0;
  const started = Date.now();
  // Test files run in parallel processes: one builds, the others wait for it and find the image.
  building ??= withBuildLock(process.env.BBACKUP_TEST_DOCKER_HOST ?? '', DB_IMAGE, async () => {
    if (!(await imageExists(docker, DB_IMAGE))) await build(docker, log);
  }).finally(() => (building = undefined));
  await building;
  return (Date.now() - started) / 1000;
}

async function build(docker: Docker, log: (msg: string) => void): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'bbackup-dbimg-'));
  const root = join(work, 'root');
  try {
    log(`building ${DB_IMAGE} with mmdebstrap (a few minutes, once)`);
    await execa(
      'mmdebstrap',
      [
        '--variant=extract',
        '--mode=root',
        '--format=directory',
        '--quiet',
        `--include=${PACKAGES.join(',')}`,
        'bookworm',
        root,
      ],
      { stdin: 'ignore' },
    ).catch((err: Error) => {
      throw new Error(`mmdebstrap failed (install it with scripts/install-deps.sh): ${err.message}`);
    });
    for (const d of DROP) await rm(join(root, d), { recursive: true, force: true });
    await setUp(root);
    const tar = execa('tar', ['-C', root, '--numeric-owner', '-cf', '-', '.'], { stdout: 'pipe', buffer: false });
    const changes = [
      'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'CMD ["/bin/sh"]',
      'LABEL bbackup.image=test-db',
    ];
    const stream = await docker.importImage(
      tar.stdout as unknown as NodeJS.ReadableStream,
      { repo: DB_IMAGE.split(':')[0], tag: DB_IMAGE.split(':')[1], changes } as unknown as object,
    );
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    await tar;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Users, groups and the servers' folders. A named volume mounted on a folder starts with its owner and mode. */
async function setUp(root: string): Promise<void> {
  await writeFile(
    join(root, 'etc/passwd'),
    [
      'root:x:0:0:root:/root:/bin/sh',
      `postgres:x:${UID.postgres}:${UID.postgres}::/var/lib/postgresql:/bin/sh`,
      `mysql:x:${UID.mysql}:${UID.mysql}::/var/lib/mysql:/bin/sh`,
      `redis:x:${UID.redis}:${UID.redis}::/data:/bin/sh`,
      'nobody:x:65534:65534::/nonexistent:/bin/sh',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(root, 'etc/group'),
    [
      'root:x:0:',
      `postgres:x:${UID.postgres}:`,
      `mysql:x:${UID.mysql}:`,
      `redis:x:${UID.redis}:`,
      'nogroup:x:65534:',
      '',
    ].join('\n'),
  );
  const dirs: [string, number, number][] = [
    ['tmp', 0, 0o1777],
    ['root', 0, 0o700],
    ['var/run/postgresql', UID.postgres, 0o2775],
    ['var/lib/postgresql/data', UID.postgres, 0o700],
    ['run/mysqld', UID.mysql, 0o755],
    ['var/lib/mysql', UID.mysql, 0o750],
    ['data', UID.redis, 0o755],
    ['proc', 0, 0o555],
    ['sys', 0, 0o555],
    ['dev', 0, 0o755],
  ];
  for (const [dir, uid, mode] of dirs) {
    await mkdir(join(root, dir), { recursive: true });
    await chown(join(root, dir), uid, uid);
    await chmod(join(root, dir), mode);
  }
}
