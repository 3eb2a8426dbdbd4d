// Credentials for a dump or a load, from the container's own environment or its `*_FILE`
// secrets (read inside the container: the path is the container's). They live in memory only:
// handed to the tool through the exec's environment (PGPASSWORD, MYSQL_PWD, REDISCLI_AUTH),
// never in argv, the manifest, a log line or an error message.
import { BbackupError } from '../errors.js';
import { envValue } from './detect.js';
import type { DumpEngine } from './types.js';

export interface Credentials {
  user?: string;
  password?: string;
  /** mysql without root: only this database is dumped (the user has no global privileges) */
  database?: string;
}

/** Reads a secret file inside the container (trailing newlines are dropped, as the images' entrypoints do). */
export type SecretReader = (path: string) => Promise<string>;

/** VAR, else the contents of the file VAR_FILE names; undefined when neither is set. */
async function secret(env: string[], names: string[], read: SecretReader): Promise<string | undefined> {
  for (const name of names) {
    const direct = envValue(env, name);
    if (direct !== undefined) return direct;
    const file = envValue(env, `${name}_FILE`);
    if (file) return (await read(file)).replace(/\n+$/, '');
  }
  return undefined;
}

export async function resolveCredentials(
  engine: DumpEngine,
  container: string,
  env: string[],
  read: SecretReader,
): Promise<Credentials> {
  switch (engine) {
    case 'postgres':
      return {
        user: (await secret(env, ['POSTGRES_USER'], read)) || 'postgres',
        password: await secret(env, ['POSTGRES_PASSWORD'], read),
      };
    case 'mysql':
    case 'mariadb':
      return mysqlCredentials(container, env, read);
    case 'mongodb': {
      const user = await secret(env, ['MONGO_INITDB_ROOT_USERNAME'], read);
      return user ? { user, password: await secret(env, ['MONGO_INITDB_ROOT_PASSWORD'], read) } : {};
    }
    case 'redis':
      return { password: await secret(env, ['REDIS_PASSWORD'], read) };
    case 'sqlite':
      return {};
  }
}

async function mysqlCredentials(container: string, env: string[], read: SecretReader): Promise<Credentials> {
  const root = await secret(env, ['MARIADB_ROOT_PASSWORD', 'MYSQL_ROOT_PASSWORD'], read);
  if (root !== undefined) return { user: 'root', password: root };
  const allowEmpty = ['MARIADB_ALLOW_EMPTY_ROOT_PASSWORD', 'MYSQL_ALLOW_EMPTY_PASSWORD'].some((k) =>
    isYes(envValue(env, k)),
  );
  if (allowEmpty) return { user: 'root' };
  const user = await secret(env, ['MARIADB_USER', 'MYSQL_USER'], read);
  const database = await secret(env, ['MARIADB_DATABASE', 'MYSQL_DATABASE'], read);
  if (user && database)
    return { user, password: await secret(env, ['MARIADB_PASSWORD', 'MYSQL_PASSWORD'], read), database };
  throw new BbackupError(
    'USAGE',
    `container ${container}: no credentials for the dump: its environment has no MYSQL_ROOT_PASSWORD / MARIADB_ROOT_PASSWORD (or *_FILE), no MYSQL_ALLOW_EMPTY_PASSWORD, and no MYSQL_USER with MYSQL_DATABASE`,
  );
}

const isYes = (v: string | undefined) => v !== undefined && v !== '' && !/^(0|no|false|off)$/i.test(v);

/** redis-server's --requirepass from the container's command line, when it has no REDIS_PASSWORD. */
export function requirepassFromArgs(args: string[]): string | undefined {
  const i = args.indexOf('--requirepass');
  return i >= 0 ? args[i + 1] : undefined;
}
