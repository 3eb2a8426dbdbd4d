// init-config: write the commented example config (assets/config.example.yaml) where bbackup
// will find it. Never overwrites without --force; the file may hold secrets, so it is 0600.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Outcome } from '../../events.js';
import { expandHome, searchPath } from '../../config/locate.js';
import { BbackupError } from '../../errors.js';
import { assetPath } from '../../paths.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';

export const SYSTEM_CONFIG = '/etc/bbackup/config.yaml';

/**
 * root gets the system-wide file (what cron, systemd timers and other admins find); everyone else
 * gets their own. Both are on the search path.
 */
export function defaultConfigPath(env: NodeJS.ProcessEnv, uid: number | undefined): string {
  if (uid === 0) return SYSTEM_CONFIG;
  return join(env.HOME || homedir(), '.config', 'bbackup', 'config.yaml');
}

/** The example with its schema reference pointing at the installed schema, so editors complete it. */
export function exampleConfigText(): string {
  const text = readFileSync(assetPath('config.example.yaml'), 'utf8');
  return text.replace(
    /^# yaml-language-server: \$schema=.*$/m,
    `# yaml-language-server: $schema=file://${assetPath('config.schema.json')}`,
  );
}

export function register(program: Command, action: Action): void {
  program
    .command('init-config')
    .description(
      `write a commented example config (default: ${SYSTEM_CONFIG} as root, else ~/.config/bbackup/config.yaml)`,
    )
    .option('--path <path>', 'where to write it')
    .option('--force', 'overwrite an existing file', false)
    .action(action(initConfigCommand));
}

async function initConfigCommand(ctx: CliContext, opts: { path?: string; force: boolean }): Promise<Outcome> {
  const env = ctx.io.env;
  const path = opts.path ? resolve(expandHome(opts.path, env)) : defaultConfigPath(env, process.getuid?.());
  mkdirSync(dirname(path), { recursive: true });
  try {
    // 'wx' fails if the file exists: no window between a check and the write.
    writeFileSync(path, exampleConfigText(), { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BbackupError(
        'CONFLICT',
        `${path} already exists; not overwriting it (use --force to replace it with the example)`,
        { path },
      );
    }
    throw new BbackupError('DISK', `cannot write ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  // --force on an existing file keeps its old mode; the file may hold secrets.
  chmodSync(path, 0o600);
  const found = searchPath(env).includes(path);
  if (ctx.opts.json) ctx.printJson({ path, onSearchPath: found });
  else {
    ctx.print(`wrote ${path} (mode 0600)`);
    ctx.print(
      found
        ? 'bbackup finds it without -c; edit it, then check it with: bbackup list-backup-sets'
        : `use it with: bbackup -c ${path} ... (or export BBACKUP_CONFIG=${path})`,
    );
  }
  return 'ok';
}
