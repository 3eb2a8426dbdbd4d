// Which dump a container gets (labels, image, environment), where its data lives, which volume
// holds it, and the credentials read from its environment: pure tables, no Docker.
import { describe, expect, it } from 'vitest';
import { requirepassFromArgs, resolveCredentials } from '../../src/dump/credentials.js';
import { dataDirOf, detectDump, imageBaseName, volumeHolding } from '../../src/dump/detect.js';

describe('imageBaseName', () => {
  it.each([
    ['postgres', 'postgres'],
    ['postgres:16-alpine', 'postgres'],
    ['docker.io/library/mariadb:11@sha256:abc', 'mariadb'],
    ['registry.local:5000/team/redis', 'redis'],
    ['bitnami/postgresql:15', 'postgresql'],
    ['MySQL:8', 'mysql'],
  ])('%s -> %s', (image, base) => expect(imageBaseName(image)).toBe(base));
});

describe('detectDump', () => {
  const c = (o: { image?: string; labels?: Record<string, string>; env?: string[] }) => ({
    name: 'db',
    image: o.image ?? 'myorg/app:1',
    labels: o.labels ?? {},
    env: o.env,
  });
  it.each<{ name: string; input: ReturnType<typeof c>; want: unknown }>([
    {
      name: 'label postgres',
      input: c({ labels: { 'bbackup.dump': 'postgres' } }),
      want: { engine: 'postgres', detectedBy: 'label', only: false },
    },
    {
      name: 'label alias postgresql, dump only',
      input: c({ labels: { 'bbackup.dump': 'PostgreSQL', 'bbackup.dump.only': 'true' } }),
      want: { engine: 'postgres', detectedBy: 'label', only: true },
    },
    {
      name: 'label sqlite with a path',
      input: c({ labels: { 'bbackup.dump': 'sqlite:/data//app.db' } }),
      want: { engine: 'sqlite', path: '/data/app.db', detectedBy: 'label', only: false },
    },
    {
      name: 'label none wins over the image',
      input: c({ image: 'postgres:16', labels: { 'bbackup.dump': 'none' } }),
      want: undefined,
    },
    {
      name: 'image postgres',
      input: c({ image: 'postgres:16' }),
      want: { engine: 'postgres', detectedBy: 'image', only: false },
    },
    {
      name: 'image mariadb',
      input: c({ image: 'mariadb:11' }),
      want: { engine: 'mariadb', detectedBy: 'image', only: false },
    },
    {
      name: 'image mysql',
      input: c({ image: 'mysql:8.4' }),
      want: { engine: 'mysql', detectedBy: 'image', only: false },
    },
    {
      name: 'image mongo',
      input: c({ image: 'mongo:7' }),
      want: { engine: 'mongodb', detectedBy: 'image', only: false },
    },
    {
      name: 'image redis',
      input: c({ image: 'redis:7-alpine' }),
      want: { engine: 'redis', detectedBy: 'image', only: false },
    },
    {
      name: 'image valkey',
      input: c({ image: 'valkey/valkey:8' }),
      want: { engine: 'redis', detectedBy: 'image', only: false },
    },
    {
      name: 'env: postgres image markers',
      input: c({ env: ['PG_MAJOR=16', 'POSTGRES_PASSWORD=x'] }),
      want: { engine: 'postgres', detectedBy: 'environment', only: false },
    },
    {
      name: 'env: mariadb root password',
      input: c({ env: ['MARIADB_ROOT_PASSWORD=x'] }),
      want: { engine: 'mariadb', detectedBy: 'environment', only: false },
    },
    {
      name: 'env: mariadb marker beats MYSQL_ variables',
      input: c({ env: ['MYSQL_ROOT_PASSWORD=x', 'MARIADB_VERSION=11.4'] }),
      want: { engine: 'mariadb', detectedBy: 'environment', only: false },
    },
    {
      name: 'env: mysql root password file',
      input: c({ env: ['MYSQL_ROOT_PASSWORD_FILE=/run/secrets/pw'] }),
      want: { engine: 'mysql', detectedBy: 'environment', only: false },
    },
    {
      name: 'env: mongo init user',
      input: c({ env: ['MONGO_INITDB_ROOT_USERNAME=root'] }),
      want: { engine: 'mongodb', detectedBy: 'environment', only: false },
    },
    {
      name: 'an app that only connects is not a database',
      input: c({ env: ['POSTGRES_PASSWORD=x', 'POSTGRES_USER=app', 'POSTGRES_HOST=db', 'MYSQL_PASSWORD=y'] }),
      want: undefined,
    },
    { name: 'nothing known', input: c({ image: 'nginx' }), want: undefined },
    { name: 'env unknown (the TUI lists)', input: c({}), want: undefined },
  ])('$name', ({ input, want }) => expect(detectDump(input)).toEqual(want));

  it.each([
    [{ 'bbackup.dump': 'oracle' }, /label bbackup.dump="oracle": expected one of postgres, mysql/],
    [{ 'bbackup.dump': 'sqlite' }, /write sqlite:<path/],
    [{ 'bbackup.dump': 'sqlite:data/app.db' }, /absolute path/],
    [{ 'bbackup.dump': 'postgres', 'bbackup.dump.only': 'maybe' }, /bbackup.dump.only="maybe": expected true or false/],
  ])('bad label %j is refused with the container and label named', (labels, message) => {
    expect(() => detectDump({ name: 'db', image: 'x', labels })).toThrow(message);
    expect(() => detectDump({ name: 'db', image: 'x', labels })).toThrow(/container db/);
  });
});

describe('dataDirOf and volumeHolding', () => {
  it.each([
    [{ engine: 'postgres' as const }, undefined, '/var/lib/postgresql/data'],
    [{ engine: 'postgres' as const }, ['PGDATA=/var/lib/postgresql/data/pgdata'], '/var/lib/postgresql/data/pgdata'],
    [{ engine: 'mariadb' as const }, undefined, '/var/lib/mysql'],
    [{ engine: 'mongodb' as const }, undefined, '/data/db'],
    [{ engine: 'redis' as const }, undefined, '/data'],
    [{ engine: 'sqlite' as const, path: '/srv/app/db.sqlite' }, undefined, '/srv/app'],
  ])('%j %j -> %s', (target, env, dir) => expect(dataDirOf(target, env)).toBe(dir));

  const mounts = [
    { type: 'volume', source: 'root', destination: '/var/lib' },
    { type: 'volume', source: 'pgdata', destination: '/var/lib/postgresql/data' },
    { type: 'bind', source: '/srv/x', destination: '/srv' },
  ];
  it.each([
    ['/var/lib/postgresql/data', 'pgdata'],
    ['/var/lib/postgresql/data/pgdata', 'pgdata'],
    ['/var/lib/mysql', 'root'],
    ['/var/lib2', undefined],
    ['/srv/app', undefined], // a bind mount is not a volume
    ['/opt', undefined],
  ])('%s is held by %s', (dir, volume) => expect(volumeHolding(dir, mounts)).toBe(volume));
});

describe('resolveCredentials', () => {
  const files: Record<string, string> = { '/run/secrets/pg': 's3cret\n\n', '/run/secrets/root': 'rootpw\n' };
  const read = async (p: string) => {
    if (!(p in files)) throw new Error(`no ${p}`);
    return files[p]!;
  };
  it.each<{ name: string; engine: Parameters<typeof resolveCredentials>[0]; env: string[]; want: unknown }>([
    { name: 'postgres defaults', engine: 'postgres', env: [], want: { user: 'postgres', password: undefined } },
    {
      name: 'postgres user and password',
      engine: 'postgres',
      env: ['POSTGRES_USER=app', 'POSTGRES_PASSWORD=pw'],
      want: { user: 'app', password: 'pw' },
    },
    {
      name: 'postgres password file, trailing newlines dropped',
      engine: 'postgres',
      env: ['POSTGRES_PASSWORD_FILE=/run/secrets/pg'],
      want: { user: 'postgres', password: 's3cret' },
    },
    {
      name: 'mariadb root',
      engine: 'mariadb',
      env: ['MARIADB_ROOT_PASSWORD=r'],
      want: { user: 'root', password: 'r' },
    },
    {
      name: 'mysql root file',
      engine: 'mysql',
      env: ['MYSQL_ROOT_PASSWORD_FILE=/run/secrets/root'],
      want: { user: 'root', password: 'rootpw' },
    },
    {
      name: 'mysql empty root allowed',
      engine: 'mysql',
      env: ['MYSQL_ALLOW_EMPTY_PASSWORD=yes'],
      want: { user: 'root' },
    },
    {
      name: 'mysql random root: the app user and its database',
      engine: 'mysql',
      env: ['MYSQL_RANDOM_ROOT_PASSWORD=1', 'MYSQL_USER=app', 'MYSQL_PASSWORD=apw', 'MYSQL_DATABASE=shop'],
      want: { user: 'app', password: 'apw', database: 'shop' },
    },
    {
      name: 'mongodb root',
      engine: 'mongodb',
      env: ['MONGO_INITDB_ROOT_USERNAME=root', 'MONGO_INITDB_ROOT_PASSWORD=m'],
      want: { user: 'root', password: 'm' },
    },
    { name: 'mongodb without auth', engine: 'mongodb', env: [], want: {} },
    { name: 'redis password', engine: 'redis', env: ['REDIS_PASSWORD=rp'], want: { password: 'rp' } },
    { name: 'sqlite needs nothing', engine: 'sqlite', env: ['X=1'], want: {} },
  ])('$name', async ({ engine, env, want }) => expect(await resolveCredentials(engine, 'db', env, read)).toEqual(want));

  it('mysql with no usable credentials says what it looked for', async () => {
    await expect(resolveCredentials('mysql', 'db', ['MYSQL_RANDOM_ROOT_PASSWORD=1'], read)).rejects.toThrow(
      /container db: no credentials for the dump: .*MYSQL_ROOT_PASSWORD/,
    );
  });

  it('redis --requirepass from the command line', () => {
    expect(requirepassFromArgs(['redis-server', '--appendonly', 'no', '--requirepass', 'pw'])).toBe('pw');
    expect(requirepassFromArgs(['redis-server'])).toBeUndefined();
  });
});
