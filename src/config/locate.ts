// Where the config file comes from (DESIGN §6 search order).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { BbackupError } from '../errors.js';

export interface ConfigSource {
  /** absolute path, or undefined when no file exists anywhere and defaults apply */
  path?: string;
  /** how it was found, for messages: "--config", "$BBACKUP_CONFIG", "search" */
  via: 'flag' | 'env' | 'search' | 'defaults';
}

export function searchPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const home = env.HOME || homedir();
  return [resolve(cwd, 'bbackup.yaml'), join(home, '.config', 'bbackup', 'config.yaml'), '/etc/bbackup/config.yaml'];
}

/**
 * An explicit path (flag or env) must exist: a typo there must never fall back to defaults and
 * back up the wrong things. The search path may come up empty: then defaults apply.
 */
export function locateConfig(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): ConfigSource {
  if (flag !== undefined) return explicit(resolve(cwd, expandHome(flag, env)), 'flag', '--config');
  const fromEnv = env.BBACKUP_CONFIG;
  if (fromEnv) return explicit(resolve(cwd, expandHome(fromEnv, env)), 'env', '$BBACKUP_CONFIG');
  for (const candidate of searchPath(env, cwd)) {
    if (existsSync(candidate)) return { path: candidate, via: 'search' };
  }
  return { via: 'defaults' };
}

function explicit(path: string, via: 'flag' | 'env', label: string): ConfigSource {
  if (!existsSync(path)) {
    throw new BbackupError(
      'CONFIG_NOT_FOUND',
      `config file ${path} (from ${label}) does not exist; create one with: bbackup init-config --path ${path}`,
      { path },
    );
  }
  return { path, via };
}

export function expandHome(p: string, env: NodeJS.ProcessEnv = process.env): string {
  if (p === '~') return env.HOME || homedir();
  if (p.startsWith('~/')) return join(env.HOME || homedir(), p.slice(2));
  return p;
}
