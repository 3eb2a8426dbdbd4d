// Real database servers for the dump tests, from the offline image (db-image.ts): containers
// that start like the official images do (initialise an empty data volume through a temporary
// server, then exec the real one as the main process), network none, sockets only. PostgreSQL and
// MariaDB volumes start as a copy of a data folder initialised once (db-template.ts). Plus a query
// helper and a writer that keeps committing rows while a backup runs. Durability is off (no
// fsync): the tests check logical consistency, and a busy shared disk makes syncs slow.
import type Docker from 'dockerode';
import { onTestFinished } from 'vitest';
import { captureExec } from '../../src/dump/exec.js';
import { DB_IMAGE } from './db-image.js';
import { createTestVolume, testLabels } from './docker.js';
import { dataTemplate, fillFromTemplate } from './db-template.js';
import { testName } from './names.js';
import { mountpointOf } from './volume-data.js';

export type Engine = 'postgres' | 'mariadb' | 'redis' | 'sqlite';

/** Waits for /ctl/go when a control folder is bound (lets a test hold a server back). */
const GATE = 'if [ -d /ctl ]; then until [ -e /ctl/go ]; do sleep 0.2; done; fi';

const ENTRY: Record<Engine, string> = {
  postgres: `set -e; ${GATE}
D=/var/lib/postgresql/data
NOSYNC='-c fsync=off -c synchronous_commit=off -c full_page_writes=off'
if [ ! -s "$D/PG_VERSION" ]; then
  printf '%s' "\${INIT_PASSWORD:-$POSTGRES_PASSWORD}" > /tmp/pw
  initdb --no-sync -D "$D" -U "$POSTGRES_USER" --pwfile=/tmp/pw --auth-local=scram-sha-256 --auth-host=scram-sha-256 >/dev/null
  rm /tmp/pw
  pg_ctl -D "$D" -o "-c listen_addresses='' $NOSYNC" -w start >/dev/null
  PGPASSWORD="\${INIT_PASSWORD:-$POSTGRES_PASSWORD}" psql -qX -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \\"$POSTGRES_DB\\""
  pg_ctl -D "$D" -m fast -w stop >/dev/null
fi
exec postgres -D "$D" -c listen_addresses='' $NOSYNC`,
  mariadb: `set -e; ${GATE}
NOSYNC='--innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0'
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --datadir=/var/lib/mysql --auth-root-authentication-method=normal --skip-test-db >/dev/null
  mariadbd --skip-networking $NOSYNC & pid=$!
  until mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
  mariadb -uroot -e "ALTER USER root@localhost IDENTIFIED BY '$MARIADB_ROOT_PASSWORD'; CREATE DATABASE shop; FLUSH PRIVILEGES"
  kill $pid; wait $pid || true
fi
exec mariadbd --skip-networking $NOSYNC`,
  redis: `set -e; ${GATE}
exec redis-server --dir /data --dbfilename dump.rdb --save '' --appendonly no --requirepass "$REDIS_PASSWORD"`,
  sqlite: `set -e; ${GATE}
sqlite3 /data/app.db "PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY);" >/dev/null
while true; do sqlite3 -cmd '.timeout 5000' /data/app.db "INSERT INTO t SELECT coalesce(max(id), 0) + 1 FROM t;"; done`,
};

const USER: Record<Engine, string> = { postgres: 'postgres', mariadb: 'mysql', redis: 'redis', sqlite: 'root' };
const DATA: Record<Engine, string> = {
  postgres: '/var/lib/postgresql/data',
  mariadb: '/var/lib/mysql',
  redis: '/data',
  sqlite: '/data',
};
export const PASSWORD = 'pw-Zq7!x';

export interface Server {
  name: string;
  volume: string;
  engine: Engine;
  /** the password the server really has (default PASSWORD) */
  password?: string;
}

export interface ServerOptions {
  env?: string[];
  labels?: Record<string, string>;
  /** host folder bound at /ctl: the server starts only once /ctl/go exists */
  ctl?: string;
  /** the password the server is initialised with, when the environment says otherwise */
  password?: string;
  name?: string;
}

export function defaultEnv(engine: Engine): string[] {
  switch (engine) {
    case 'postgres':
      return ['POSTGRES_USER=app', `POSTGRES_PASSWORD=${PASSWORD}`, 'POSTGRES_DB=shop', 'PG_MAJOR=15'];
    case 'mariadb':
      return [`MARIADB_ROOT_PASSWORD=${PASSWORD}`];
    case 'redis':
      return [`REDIS_PASSWORD=${PASSWORD}`];
    case 'sqlite':
      return [];
  }
}

export async function startServer(docker: Docker, engine: Engine, o: ServerOptions = {}): Promise<Server> {
  const volume = await createTestVolume(docker, 'db');
  const env = [...defaultEnv(engine), ...(o.env ?? [])];
  if (engine === 'postgres' || engine === 'mariadb') {
    const template = await dataTemplate(docker, {
      image: DB_IMAGE,
      user: USER[engine],
      env,
      cmd: ['sh', '-c', ENTRY[engine]],
      dataDir: DATA[engine],
      ready: (name) => waitServer(docker, { name, engine, password: o.password }),
    });
    await fillFromTemplate(template, await mountpointOf(docker, volume));
  }
  const name = o.name ?? testName('db');
  const labels = {
    ...(engine === 'mariadb'
      ? { 'bbackup.dump': 'mariadb' }
      : engine === 'redis'
        ? { 'bbackup.dump': 'redis' }
        : engine === 'sqlite'
          ? { 'bbackup.dump': 'sqlite:/data/app.db' }
          : {}),
    ...o.labels,
  };
  const c = await docker.createContainer({
    name,
    Image: DB_IMAGE,
    User: USER[engine],
    Env: env,
    Cmd: ['sh', '-c', ENTRY[engine]],
    Labels: testLabels(labels),
    StopSignal: 'SIGINT',
    HostConfig: { NetworkMode: 'none', Binds: [`${volume}:${DATA[engine]}`, ...(o.ctl ? [`${o.ctl}:/ctl:ro`] : [])] },
  });
  onTestFinished(async () => {
    await c.remove({ force: true }).catch(() => undefined);
  });
  await c.start();
  const server = { name, volume, engine, password: o.password };
  if (!o.ctl) await waitServer(docker, server);
  return server;
}

/** Run SQL (or a redis command line) in the server's container; throws with the output on failure. */
export async function query(
  docker: Docker,
  s: Pick<Server, 'name' | 'engine' | 'password'>,
  q: string,
  timeoutMs = 60_000,
): Promise<string> {
  const argv: Record<Engine, string[]> = {
    postgres: ['psql', '-qXtA', '-U', 'app', '-d', 'shop', '-v', 'ON_ERROR_STOP=1', '-c', q],
    mariadb: ['mariadb', '-uroot', '--batch', '--skip-column-names', 'shop', '-e', q],
    redis: ['sh', '-c', `redis-cli --no-auth-warning ${q}`],
    sqlite: ['sqlite3', '-cmd', '.timeout 5000', '/data/app.db', q],
  };
  const pw = s.password ?? PASSWORD;
  const env =
    s.engine === 'postgres'
      ? [`PGPASSWORD=${pw}`]
      : s.engine === 'mariadb'
        ? [`MYSQL_PWD=${pw}`]
        : [`REDISCLI_AUTH=${pw}`];
  const r = await captureExec(
    docker,
    s.name,
    { argv: argv[s.engine], env },
    { signal: AbortSignal.timeout(timeoutMs), timeoutMs },
  );
  if (r.exitCode !== 0 || (s.engine === 'redis' && /^(ERR|NOAUTH|LOADING|WRONGPASS)/.test(r.stdout)))
    throw new Error(`${s.engine} query ${q} exited ${r.exitCode}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

/** Until the server answers a query (the container's main process is the server by then). */
export async function waitServer(docker: Docker, s: Pick<Server, 'name' | 'engine' | 'password'>): Promise<void> {
  const probe = s.engine === 'redis' ? 'PING' : 'SELECT 1';
  let last = '';
  let pollMs = 25;
  for (;;) {
    const info = await docker.getContainer(s.name).inspect();
    if (!info.State.Running) throw new Error(`${s.name} exited ${info.State.ExitCode} before it was ready: ${last}`);
    try {
      // Process 1 first: once it is the server (the entry script has exec'd it), an answer comes
      // from the real server, not from the temporary one that initialised the data.
      const pid1 = await captureExec(
        docker,
        s.name,
        { argv: ['cat', '/proc/1/comm'] },
        { signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 },
      );
      if (s.engine !== 'sqlite' && pid1.stdout.trim() === 'sh') throw new Error('still initialising');
      const out = await query(docker, s, probe, 10_000);
      if (s.engine !== 'redis' || out === 'PONG') return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, pollMs));
    pollMs = Math.min(300, pollMs * 2);
  }
}

/** Once this file exists in the container, the writer sleeps between rows (see startWriter). */
const SLOW_WRITER = '/tmp/bbt-writer-slow';

export interface Writer {
  alive(): Promise<boolean>;
  /** From now on a row every ~0.2 s instead of as fast as it goes: still writing, without taking a core. */
  slow(): Promise<void>;
}

/**
 * Rows 1..n committed one by one, each in its own transaction, by a loop inside the container
 * (sqlite's container writes by itself). Stopped when the container goes.
 */
export async function startWriter(docker: Docker, s: Server): Promise<Writer> {
  const pause = `do [ -e ${SLOW_WRITER} ] && sleep 0.2; done`;
  const loops: Record<Exclude<Engine, 'sqlite'>, string> = {
    postgres: `while psql -qX -U app -d shop -c 'INSERT INTO t (id) SELECT coalesce(max(id), 0) + 1 FROM t'; ${pause}`,
    mariadb: `while mariadb -uroot shop -e 'INSERT INTO t (id) SELECT coalesce(max(id), 0) + 1 FROM t'; ${pause}`,
    redis: `i=$(redis-cli --no-auth-warning LLEN l); while i=$((i+1)) && redis-cli --no-auth-warning RPUSH l $i >/dev/null; ${pause}`,
  };
  const running = async () => (await docker.getContainer(s.name).inspect()).State.Running;
  if (s.engine === 'sqlite') return { alive: running, slow: async () => undefined };
  const env =
    s.engine === 'postgres'
      ? [`PGPASSWORD=${PASSWORD}`]
      : s.engine === 'mariadb'
        ? [`MYSQL_PWD=${PASSWORD}`]
        : [`REDISCLI_AUTH=${PASSWORD}`];
  const exec = await docker
    .getContainer(s.name)
    .exec({ Cmd: ['sh', '-c', loops[s.engine]], Env: env, AttachStdout: false, AttachStderr: false });
  await exec.start({ Detach: true });
  return {
    alive: async () => (await exec.inspect()).Running,
    slow: async () => {
      const r = await captureExec(
        docker,
        s.name,
        { argv: ['touch', SLOW_WRITER] },
        { signal: AbortSignal.timeout(60_000), timeoutMs: 60_000 },
      );
      if (r.exitCode !== 0) throw new Error(`cannot slow the writer in ${s.name}: ${r.stderr}`);
    },
  };
}

/** Ids (or list values) the server holds, as numbers: count, min, max. */
export async function rowStats(
  docker: Docker,
  s: Pick<Server, 'name' | 'engine'>,
): Promise<{ count: number; min: number; max: number }> {
  if (s.engine === 'redis') {
    const out = await query(docker, s, 'LRANGE l 0 -1');
    const xs = out ? out.split('\n').map(Number) : [];
    const contiguous = xs.every((x, i) => x === i + 1);
    return { count: contiguous ? xs.length : -1, min: xs[0] ?? 0, max: xs.at(-1) ?? 0 };
  }
  const sep = s.engine === 'postgres' || s.engine === 'sqlite' ? '|' : '\t';
  const [count, min, max] = (
    await query(docker, s, 'SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM t')
  )
    .split(sep)
    .map(Number);
  return { count: count!, min: min!, max: max! };
}

/** Create the table (and its first rows) the writer appends to. */
export async function seed(docker: Docker, s: Server, rows: number): Promise<void> {
  if (s.engine === 'postgres')
    await query(
      docker,
      s,
      `CREATE TABLE t (id int PRIMARY KEY, pad text); INSERT INTO t SELECT g, repeat('x', 100) FROM generate_series(1, ${rows}) g`,
    );
  else if (s.engine === 'mariadb')
    await query(
      docker,
      s,
      `CREATE TABLE t (id int PRIMARY KEY, pad text) ENGINE=InnoDB; INSERT INTO t SELECT seq, repeat('x', 100) FROM seq_1_to_${rows}`,
    );
  else if (s.engine === 'redis')
    await query(docker, s, `RPUSH l ${Array.from({ length: rows }, (_, i) => i + 1).join(' ')}`);
}
