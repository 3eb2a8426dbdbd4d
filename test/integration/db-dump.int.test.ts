// Database dumps end to end with real servers (PostgreSQL 15, MariaDB 10.11, Redis 7, SQLite 3
// from Debian's packages): rows are written, a writer keeps committing while `bbackup backup`
// runs, the dump is verified and travels to a remote and back; a renamed restore leaves the
// original untouched; the container and its volume are dropped and `bbackup restore` brings back
// a server holding every row committed before the dump started (a gap-free prefix of the
// writer's sequence). MongoDB is not in Debian: its commands are table-tested only.
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDbDumpEnv } from '../helpers/db-dump-env.js';
import { rowStats, seed, startServer, startWriter, type Engine, type Server } from '../helpers/db-servers.js';
import { createTestContainer } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { cleanupAfter } from '../helpers/restore.js';
import type { Manifest } from '../../src/store/manifest.js';

// real servers initialise and load: slow on a busy 2-core machine
const TEST_TIMEOUT = 900_000;
const e = useDbDumpEnv();
const cli = (args: string[]) => e.cli(args);
const backUp = (s: Server, extra: string[] = []) => e.backUp(s.name, extra);

async function drop(s: Server): Promise<void> {
  await e.docker.getContainer(s.name).remove({ force: true });
  await e.docker.getVolume(s.volume).remove({ force: true });
}

/** Writer running; rows committed before the backup; the backup; then the writer still runs. */
async function backUpUnderLoad(s: Server): Promise<{ id: string; manifest: Manifest; before: number }> {
  const writer = await startWriter(e.docker, s);
  // the writer has committed at least one row of its own before the backup starts
  const seeded = (await rowStats(e.docker, s)).max;
  while ((await rowStats(e.docker, s)).max <= seeded) {
    if (!(await writer.alive())) throw new Error('the writer stopped');
    await new Promise((r) => setTimeout(r, 20));
  }
  const before = (await rowStats(e.docker, s)).max;
  const b = await backUp(s);
  expect(b.exitCode, b.stderr).toBe(0);
  expect(await writer.alive(), 'the writer ran through the backup').toBe(true);
  // it keeps writing while the restores run, slowly: a client process per row takes a whole core
  await writer.slow();
  return { ...b, before };
}

function expectPrefix(stats: { count: number; min: number; max: number }, before: number): void {
  expect(stats.count, 'no gaps: a consistent snapshot of a sequential writer').toBe(stats.max);
  expect(stats.min).toBe(1);
  expect(stats.max, 'every row committed before the dump started').toBeGreaterThanOrEqual(before);
}

describe.each<{ engine: Engine; rows: number }>([
  { engine: 'postgres', rows: 2000 },
  { engine: 'mariadb', rows: 2000 },
  { engine: 'redis', rows: 2000 },
])('$engine: backup under load, renamed restore, drop, restore', ({ engine, rows }) => {
  it(
    'round-trips every committed row',
    async () => {
      const s = await startServer(e.docker, engine);
      await seed(e.docker, s, rows);
      const dry = await cli(['backup', '-C', s.name, '--dry-run']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(new RegExp(`dump\\s+${s.name}\\s+${engine} \\((environment|label)\\)`));

      const { id, manifest, before } = await backUpUnderLoad(s);
      const dump = manifest.items.find((i) => i.kind === 'dump');
      expect(dump).toMatchObject({ kind: 'dump', name: s.name, engine, only: false });
      expect(manifest.items.some((i) => i.kind === 'volume' && i.name === s.volume)).toBe(true);
      const file = join(await e.backupDir(id), `dumps/${s.name}.${engine}.zst`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const text = (await readFile(join(e.tmp, 'bbackup.log'), 'utf8')) + JSON.stringify(manifest);
      expect(text).not.toContain('pw-Zq7');

      // a renamed restore: a second server from the dump, the original untouched and still written to
      const [c2, v2] = [testName('db'), testName('db')];
      cleanupAfter(e.docker, { containers: [c2], volumes: [v2] });
      const originalBefore = await rowStats(e.docker, s);
      const renamed = await cli(['restore', id, '-C', s.name, '-r', `${s.name}:${c2}`, '-r', `${s.volume}:${v2}`]);
      expect(renamed.exitCode, renamed.stderr + renamed.stdout).toBe(0);
      expect(renamed.stdout).toMatch(new RegExp(`${engine} dump (loaded|put in place)`));
      expectPrefix(await rowStats(e.docker, { name: c2, engine }), before);
      const original = await rowStats(e.docker, s);
      expect(original.count).toBe(original.max);
      expect(original.max).toBeGreaterThanOrEqual(originalBefore.max);

      await drop(s);
      const restored = await cli(['restore', id, '-C', s.name]);
      expect(restored.exitCode, restored.stderr + restored.stdout).toBe(0);
      cleanupAfter(e.docker, { containers: [s.name], volumes: [s.volume] });
      expectPrefix(await rowStats(e.docker, s), before);
      if (engine === 'postgres') expect(restored.stdout).toMatch(/postgres dump loaded: \d+ rows in \d+ tables/);
    },
    TEST_TIMEOUT,
  );
});

describe('sqlite', () => {
  it(
    "the container's own sqlite3 takes the copy; restore puts it in place before the writer starts again",
    async () => {
      const s = await startServer(e.docker, 'sqlite');
      while ((await rowStats(e.docker, s)).max < 50) await new Promise((r) => setTimeout(r, 20));
      const before = (await rowStats(e.docker, s)).max;
      const b = await backUp(s);
      expect(b.exitCode, b.stderr).toBe(0);
      expect(b.manifest.items.find((i) => i.kind === 'dump')).toMatchObject({
        engine: 'sqlite',
        tool: 'sqlite3 .backup',
        path: '/data/app.db',
      });
      await drop(s);
      const r = await cli(['restore', b.id, '-C', s.name]);
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/sqlite dump put in place: 1 tables, integrity ok/);
      cleanupAfter(e.docker, { containers: [s.name], volumes: [s.volume] });
      expectPrefix(await rowStats(e.docker, s), before);
    },
    TEST_TIMEOUT,
  );

  it(
    'a container without sqlite3 gets its copy from a helper',
    async () => {
      const s = await startServer(e.docker, 'sqlite');
      while ((await rowStats(e.docker, s)).max < 5) await new Promise((r) => setTimeout(r, 20));
      const app = await createTestContainer(e.docker, 'db', {
        Labels: { 'bbackup.dump': 'sqlite:/srv/app.db' },
        HostConfig: { Binds: [`${s.volume}:/srv`] },
      });
      const b = await cli(['--json', 'backup', '-C', app, '--config-only', '--no-networks']);
      expect(b.exitCode, b.stderr).toBe(0);
      expect((JSON.parse(b.stdout) as { items: unknown[] }).items).not.toContainEqual(
        expect.objectContaining({ kind: 'dump' }),
      ); // --config-only: no dumps
      const full = await cli(['--json', 'backup', '-C', app]);
      expect(full.exitCode, full.stderr).toBe(0);
      expect((JSON.parse(full.stdout) as { items: unknown[] }).items).toContainEqual(
        expect.objectContaining({ kind: 'dump', engine: 'sqlite', tool: 'sqlite3 .backup (helper)' }),
      );
    },
    TEST_TIMEOUT,
  );
});

describe('bbackup dump, verify, remotes', () => {
  it(
    "a one-off dump to a file and to stdout; the backup's dump is verified, uploaded and pulled",
    async () => {
      // dump only: the backup holds the definition and the dump, which keeps the upload small
      const s = await startServer(e.docker, 'postgres', { labels: { 'bbackup.dump.only': 'true' } });
      await seed(e.docker, s, 100);
      const out = join(e.tmp, 'one.sql');
      const toFile = await cli(['dump', s.name, '-o', out]);
      expect(toFile.exitCode, toFile.stderr).toBe(0);
      expect(await readFile(out, 'utf8')).toContain('PostgreSQL database cluster dump complete');
      expect((await stat(out)).mode & 0o777).toBe(0o600);
      const piped = await cli(['dump', s.name]);
      expect(piped.exitCode, piped.stderr).toBe(0);
      expect(piped.stdout).toMatch(/COPY public\.t \(id, pad\) FROM stdin;\n1\txxx/);
      expect(piped.stderr).toMatch(/postgres dump of .* by pg_dumpall/);

      const b = await cli(['--json', 'backup', '-C', s.name, '-r', 'usb']);
      expect(b.exitCode, b.stderr).toBe(0);
      const id = (JSON.parse(b.stdout) as { id: string }).id;
      expect((await cli(['verify', id])).exitCode).toBe(0);
      const dumpFile = join(await e.backupDir(id), `dumps/${s.name}.postgres.zst`);
      const good = await readFile(dumpFile);
      await writeFile(
        dumpFile,
        Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1]! ^ 1])]),
      );
      const bad = await cli(['verify', id]);
      expect(bad.exitCode).toBe(4);
      expect(bad.stdout).toContain(`dumps/${s.name}.postgres.zst`);
      // the remote copy was made from the good bytes: pulling it back brings a whole dump
      await rm(await e.backupDir(id), { recursive: true, force: true });
      const pulled = await cli(['pull', 'usb', id]);
      expect(pulled.exitCode, pulled.stderr).toBe(0);
      expect(await readFile(dumpFile)).toEqual(good);
      expect((await cli(['verify', id])).exitCode).toBe(0);
    },
    TEST_TIMEOUT,
  );
});
