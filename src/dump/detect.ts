// Which dump a container gets. Pure: labels first (bbackup.dump), then the image's name, then
// environment variables that only a database server's own container carries (the official
// images' version markers and root/init variables). Variables an application also has to reach
// its database (POSTGRES_PASSWORD, MYSQL_PASSWORD, ...) are never enough on their own: an app
// container is not dumped unless labelled.
import { posix } from 'node:path';
import { BbackupError } from '../errors.js';
import { parseBoolLabel } from '../hooks/labels.js';
import { DUMP_ENGINES, LABEL_DUMP, LABEL_DUMP_ONLY, type DumpEngine, type DumpTarget } from './types.js';

export interface DetectInput {
  name: string;
  image: string;
  labels: Record<string, string> | null | undefined;
  /** Config.Env (KEY=value); undefined when not known (the TUI's lists): detection by env is skipped */
  env?: string[] | null;
}

/** Last path segment of an image reference, without registry, tag or digest: "postgres" for docker.io/library/postgres:16@sha256:… */
export function imageBaseName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  return (colon >= 0 ? last.slice(0, colon) : last).toLowerCase();
}

const IMAGES: [RegExp, DumpEngine][] = [
  [/^(postgres|postgresql|postgis|timescaledb(-ha)?|pgvector)$/, 'postgres'],
  [/^mariadb$/, 'mariadb'],
  [/^(mysql|mysql-server|percona|percona-server)$/, 'mysql'],
  [/^(mongo|mongodb|mongodb-community-server|mongodb-enterprise-server)$/, 'mongodb'],
  [/^(redis|redis-stack-server|valkey)$/, 'redis'],
];

// Variables set by the server images themselves (ENV in the image) or read only by their init.
const ENV_MARKERS: [RegExp, DumpEngine][] = [
  [/^(PG_MAJOR|PG_VERSION|PGDATA|POSTGRES_INITDB_ARGS|POSTGRES_INITDB_WALDIR|POSTGRES_HOST_AUTH_METHOD)$/, 'postgres'],
  [
    /^(MARIADB_VERSION|MARIADB_MAJOR|MARIADB_ROOT_PASSWORD(_FILE|_HASH)?|MARIADB_ALLOW_EMPTY_ROOT_PASSWORD|MARIADB_RANDOM_ROOT_PASSWORD)$/,
    'mariadb',
  ],
  [
    /^(MYSQL_MAJOR|MYSQL_VERSION|MYSQL_ROOT_PASSWORD(_FILE)?|MYSQL_ALLOW_EMPTY_PASSWORD|MYSQL_RANDOM_ROOT_PASSWORD)$/,
    'mysql',
  ],
  [/^(MONGO_MAJOR|MONGO_VERSION|MONGO_INITDB_ROOT_USERNAME(_FILE)?|MONGO_INITDB_ROOT_PASSWORD(_FILE)?)$/, 'mongodb'],
  [/^(REDIS_VERSION|REDIS_DOWNLOAD_URL)$/, 'redis'],
];

const ALIASES: Record<string, DumpEngine> = { postgresql: 'postgres', pg: 'postgres', mongo: 'mongodb' };

/** The dump a container asks for or is recognised as; undefined = none. Throws USAGE on a bad label. */
export function detectDump(c: DetectInput): DumpTarget | undefined {
  const labels = c.labels ?? {};
  const where = (key: string) => `container ${c.name}: label ${key}`;
  const only = parseBoolLabel(labels[LABEL_DUMP_ONLY], where(LABEL_DUMP_ONLY));
  const raw = labels[LABEL_DUMP]?.trim();
  if (raw !== undefined) {
    const target = parseDumpLabel(raw, where(LABEL_DUMP));
    return target && { ...target, only };
  }
  const byImage = IMAGES.find(([re]) => re.test(imageBaseName(c.image)))?.[1];
  if (byImage) return { engine: byImage, detectedBy: 'image', only };
  const keys = (c.env ?? []).map((e) => e.slice(0, Math.max(0, e.indexOf('='))));
  // mariadb's markers before mysql's: the mariadb image also accepts MYSQL_* variables
  for (const [re, engine] of ENV_MARKERS)
    if (keys.some((k) => re.test(k))) return { engine, detectedBy: 'environment', only };
  return undefined;
}

function parseDumpLabel(raw: string, where: string): Omit<DumpTarget, 'only'> | undefined {
  const value = raw.toLowerCase();
  if (value === 'none' || value === 'false' || value === 'off') return undefined;
  if (value.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).trim();
    if (!posix.isAbsolute(path) || path.endsWith('/'))
      throw new BbackupError(
        'USAGE',
        `${where}="${raw}": sqlite needs the absolute path of the database file inside the container, e.g. sqlite:/data/app.db`,
      );
    return { engine: 'sqlite', path: posix.normalize(path), detectedBy: 'label' };
  }
  if (value === 'sqlite')
    throw new BbackupError(
      'USAGE',
      `${where}="${raw}": write sqlite:<path of the database file>, e.g. sqlite:/data/app.db`,
    );
  const engine = ALIASES[value] ?? (DUMP_ENGINES as readonly string[]).find((e) => e === value);
  if (!engine)
    throw new BbackupError(
      'USAGE',
      `${where}="${raw}": expected one of postgres, mysql, mariadb, mongodb, redis, sqlite:<path>, none`,
    );
  return { engine: engine as DumpEngine, detectedBy: 'label' };
}

/** Where the server keeps its data inside the container (the official images' defaults). */
export function dataDirOf(target: Pick<DumpTarget, 'engine' | 'path'>, env?: string[] | null): string {
  switch (target.engine) {
    case 'postgres':
      return envValue(env, 'PGDATA') || '/var/lib/postgresql/data';
    case 'mysql':
    case 'mariadb':
      return '/var/lib/mysql';
    case 'mongodb':
      return '/data/db';
    case 'redis':
      return '/data';
    case 'sqlite':
      return posix.dirname(target.path ?? '/');
  }
}

/** The named volume mounted at `dir` or at the nearest folder above it; undefined when dir is in the container's own layer or on a bind mount. */
export function volumeHolding(
  dir: string,
  mounts: { type: string; source: string; destination: string }[],
): string | undefined {
  const inside = (d: string) => dir === d || dir.startsWith(d.endsWith('/') ? d : `${d}/`);
  const best = mounts
    .filter((m) => inside(posix.normalize(m.destination)))
    .sort((a, b) => b.destination.length - a.destination.length)[0];
  return best?.type === 'volume' ? best.source : undefined;
}

export function envValue(env: string[] | null | undefined, key: string): string | undefined {
  const hit = (env ?? []).find((e) => e.startsWith(`${key}=`));
  return hit === undefined ? undefined : hit.slice(key.length + 1);
}
