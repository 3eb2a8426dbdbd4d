// init-encryption: make an age identity for encrypting what leaves the host.
import type { Command } from 'commander';
import type { Outcome } from '../../events.js';
import { expandHome } from '../../config/locate.js';
import { writeNewIdentity } from '../../crypto/identity.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';

export const DEFAULT_IDENTITY_PATH = '~/.config/bbackup/age-identity.txt';

export function register(program: Command, action: Action): void {
  program
    .command('init-encryption')
    .description('write a new age identity (mode 0600) and print its recipient for encryption.recipients')
    .option('--path <file>', 'where to write the identity', DEFAULT_IDENTITY_PATH)
    .action(action(initEncryptionCommand));
}

async function initEncryptionCommand(ctx: CliContext, opts: { path: string }): Promise<Outcome> {
  const { path, recipient } = await writeNewIdentity(expandHome(opts.path, ctx.io.env));
  if (ctx.opts.json) ctx.printJson({ identity_file: path, recipient });
  else {
    ctx.io.stdout.write(`${recipient}\n`);
    ctx.io.stderr.write(
      `bbackup: wrote ${path} (0600). Keep a copy somewhere safe: without it encrypted backups cannot be restored.\n` +
        `Config:\n  encryption:\n    enabled: true\n    recipients: [${recipient}]\n    identity_file: ${path}\n`,
    );
  }
  return 'ok';
}
