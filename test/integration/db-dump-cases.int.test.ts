// Database dumps when things go wrong, with real servers: wrong credentials, the dump tool missing
// from the image, a dump killed half-way, a restored server that never becomes ready. Each is a
// clear message and exit 4, and nothing half-made is kept or reported as done. A store that fills
// up mid-dump stops the tool (exit 3, like any full store). Also: a stopped
// server is a clear skip, and bbackup.dump.only backs up the dump instead of the data volume.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useDbDumpEnv, type BackedUp } from '../helpers/db-dump-env.js';
import { PASSWORD, query, rowStats, seed, startServer, waitServer, type Server } from '../helpers/db-servers.js';
import { createTestContainer } from '../helpers/docker.js';
import { cleanupAfter } from '../helpers/restore.js';

// real servers initialise and load: slow on a busy 2-core machine
const TEST_TIMEOUT = 900_000;
const e = useDbDumpEnv();
const cli = (args: string[]) => e.cli(args);
const backUp = (name: string) => e.backUp(name);
const exists = (what: { inspect(): Promise<unknown> }) =>
  what.inspect().then(
    () => true,
    () => false,
  );

/** The backup is partial: the container and its volume stored, the dump failed with `message`, no dump file left. */
async function expectFailedDump(b: BackedUp, s: { name: string; volume?: string }, message: RegExp): Promise<void> {
  expect(b.exitCode, b.stderr).toBe(4);
  expect(b.manifest.status).toBe('partial');
  expect(b.manifest.items.map((i) => `${i.kind} ${i.name}`)).toEqual(
    expect.arrayContaining([`container ${s.name}`, ...(s.volume ? [`volume ${s.volume}`] : [])]),
  );
  expect(b.manifest.items.some((i) => i.kind === 'dump')).toBe(false);
  const error = b.manifest.errors.find((e) => e.kind === 'dump');
  expect(error?.code).toBe('DUMP_FAILED');
  expect(error?.message).toMatch(message);
  expect(await readdir(join(await e.backupDir(b.id), 'dumps')).catch(() => [])).toEqual([]);
}

describe('a dump that cannot be taken fails its item (exit 4), the rest is stored', () => {
  it(
    "wrong credentials in the container's environment",
    async () => {
      const s = await startServer(e.docker, 'postgres', {
        env: ['INIT_PASSWORD=the-real-one', 'POSTGRES_PASSWORD=not-it'],
        password: 'the-real-one',
      });
      const b = await backUp(s.name);
      await expectFailedDump(
        b,
        s,
        /pg_dumpall exited 1 while dumping:[\s\S]*password authentication failed for user "app"/,
      );
      expect(JSON.stringify(b.manifest) + (await readFile(join(e.tmp, 'bbackup.log'), 'utf8'))).not.toContain('not-it');
    },
    TEST_TIMEOUT,
  );

  it(
    'the dump tool is not in the image',
    async () => {
      const name = await createTestContainer(e.docker, 'db', { Labels: { 'bbackup.dump': 'postgres' } });
      const b = await backUp(name);
      await expectFailedDump(
        b,
        { name },
        new RegExp(`container ${name}: pg_dumpall \\(needed to dump PostgreSQL\\) is not in the container's image`),
      );
    },
    TEST_TIMEOUT,
  );

  it(
    'a dump killed half-way',
    async () => {
      const s = await startServer(e.docker, 'postgres');
      await seed(e.docker, s, 100);
      // Hold a lock on shop's table: pg_dumpall has written the roles and the postgres database
      // when its pg_dump for shop waits for the lock; then it is killed.
      const locker = await e.docker.getContainer(s.name).exec({
        Cmd: [
          'psql',
          '-X',
          '-U',
          'app',
          '-d',
          'shop',
          '-c',
          'BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);',
        ],
        Env: [`PGPASSWORD=${PASSWORD}`],
      });
      await locker.start({ Detach: true });
      while (
        (await query(
          e.docker,
          s,
          "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 't'::regclass",
        )) !== '1'
      )
        await new Promise((r) => setTimeout(r, 100));
      const running = backUp(s.name);
      let killed = false;
      while (!killed) {
        const top = (await e.docker.getContainer(s.name).top({ ps_args: '-eo pid,args' })) as { Processes: string[][] };
        const pgDump = top.Processes.find(
          (p) => /^pg_dump .*shop/.test(p[1] ?? '') || /pg_dump\b(?!all).*shop/.test(p.join(' ')),
        );
        if (pgDump) {
          process.kill(Number(pgDump[0]), 'SIGKILL');
          killed = true;
        } else await new Promise((r) => setTimeout(r, 100));
      }
      await expectFailedDump(await running, s, /pg_dumpall exited \d+ while dumping/);
    },
    TEST_TIMEOUT,
  );
});

describe('a store that fills up during a dump', () => {
  it(
    'stops the dump tool, exit 3 with a clear message, the unfinished backup removed',
    async () => {
      const s = await startServer(e.docker, 'postgres', { labels: { 'bbackup.dump.only': 'true' } });
      // ~11 MB of dump text (random hex, which zstd shrinks to about half): more than the pipes
      // between the tool and bbackup hold, and several times the store's 1 MiB
      await query(
        e.docker,
        s,
        'CREATE TABLE t (id int PRIMARY KEY, pad text); INSERT INTO t SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 150000) g',
      );
      const store = join(e.tmp, `full-${Date.now()}`);
      await mkdir(store);
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'bbt-db-full', store]);
      try {
        const path = join(e.tmp, 'full.yaml');
        await writeFile(path, (await readFile(e.path, 'utf8')).replace(`store: ${e.store}`, `store: ${store}`));
        // Before the fix the tool stayed blocked on its full pipe and the backup never ended.
        // images: none, so the store fills up with the dump, not with the server's image
        const r = await runCli(['-c', path, 'backup', '--images', 'none', '-C', s.name], { env: e.env });
        expect(r.exitCode, r.stderr + r.stdout).toBe(3);
        expect(r.stderr).toMatch(/no space left on the store while (writing|copying) the postgres dump of container/);
        const host = (await readdir(store)).filter((d) => !d.startsWith('.'));
        for (const h of host) expect((await readdir(join(store, h))).filter((d) => !d.startsWith('.'))).toEqual([]);
        // the dump tool does not linger in the container
        while (
          (
            (await e.docker.getContainer(s.name).top({ ps_args: '-eo pid,args' })) as { Processes: string[][] }
          ).Processes.some((p) => /^pg_dump/.test(p[1] ?? ''))
        )
          await new Promise((r) => setTimeout(r, 200));
      } finally {
        await execa('umount', [store]);
      }
    },
    TEST_TIMEOUT,
  );
});

describe('restore: a dump that does not load leaves nothing behind (exit 4)', () => {
  it(
    'the restored server is not ready within --dump-wait: container and its fresh volume removed; --no-dump then restores the files only',
    async () => {
      const ctl = join(e.tmp, `ctl-${Date.now()}`);
      await mkdir(ctl);
      await writeFile(join(ctl, 'go'), '');
      const s = await startServer(e.docker, 'postgres', { ctl });
      await waitServer(e.docker, s);
      await seed(e.docker, s, 10);
      const b = await backUp(s.name);
      expect(b.exitCode, b.stderr).toBe(0);
      await e.docker.getContainer(s.name).remove({ force: true });
      await e.docker.getVolume(s.volume).remove({ force: true });
      await rm(join(ctl, 'go')); // the restored server now waits for ever
      cleanupAfter(e.docker, { containers: [s.name], volumes: [s.volume] });
      const r = await cli(['--json', 'restore', b.id, '-C', s.name, '--dump-wait', '3', '--allow-privileged']);
      expect(r.exitCode, r.stderr).toBe(4);
      const doc = JSON.parse(r.stdout) as {
        outcome: string;
        restored: unknown[];
        errors: { item: string; code: string; message: string }[];
      };
      expect(doc.restored).toEqual([]);
      expect(doc.errors).toEqual([
        expect.objectContaining({
          item: `container ${s.name}`,
          code: 'DUMP_FAILED',
          message: expect.stringMatching(
            /the postgres server did not accept connections within 3 s \(--dump-wait\)[\s\S]*nothing half-loaded was kept: removed the container and volume/,
          ),
        }),
      ]);
      expect(await exists(e.docker.getContainer(s.name))).toBe(false);
      expect(await exists(e.docker.getVolume(s.volume))).toBe(false);

      // --no-dump: files only; the server comes back from its volume copy alone
      await writeFile(join(ctl, 'go'), '');
      const plain = await cli(['restore', b.id, '-C', s.name, '--no-dump', '--allow-privileged']);
      expect(plain.exitCode, plain.stderr + plain.stdout).toBe(0);
      expect(plain.stdout).not.toMatch(/dump (loaded|put in place)/);
      await waitServer(e.docker, s);
      expect(await rowStats(e.docker, s)).toEqual({ count: 10, min: 1, max: 10 });
    },
    TEST_TIMEOUT,
  );
});

describe('stopped servers and dump-only backups', () => {
  it(
    'a stopped server gets a clear skip and its volume copied; the backup is complete',
    async () => {
      const s = await startServer(e.docker, 'mariadb');
      await e.docker.getContainer(s.name).stop();
      const r = await cli(['backup', '-C', s.name]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(
        new RegExp(`dump ${s.name}.*skipped.*container ${s.name} is exited, not running: no dump taken`),
      );
      const id = (await readdir(await e.backupDir('')))
        .filter((d) => /^\d{8}T/.test(d))
        .sort()
        .at(-1)!;
      const m = await e.manifestOf(id);
      expect(m.status).toBe('complete');
      expect(m.items.some((i) => i.kind === 'volume' && i.name === s.volume)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'bbackup.dump.only with bbackup.dump=mysql: mysqldump instead of the data volume, loaded by mysql into a fresh volume',
    async () => {
      // MySQL's own server is not in Debian: MariaDB answers to the mysql tool names (the mysql engine's path)
      const s: Server = await startServer(e.docker, 'mariadb', {
        labels: { 'bbackup.dump': 'mysql', 'bbackup.dump.only': 'true' },
      });
      await seed(e.docker, s, 500);
      const b = await backUp(s.name);
      expect(b.exitCode, b.stderr).toBe(0);
      expect(b.manifest.items.some((i) => i.kind === 'volume')).toBe(false);
      expect(b.manifest.items.find((i) => i.kind === 'dump')).toMatchObject({
        engine: 'mysql',
        tool: 'mysqldump',
        only: true,
      });
      await e.docker.getContainer(s.name).remove({ force: true });
      await e.docker.getVolume(s.volume).remove({ force: true });
      const r = await cli(['restore', b.id, '-C', s.name]);
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/mysql dump loaded/);
      cleanupAfter(e.docker, { containers: [s.name], volumes: [s.volume] });
      expect(await rowStats(e.docker, s)).toEqual({ count: 500, min: 1, max: 500 });
    },
    TEST_TIMEOUT,
  );
});
