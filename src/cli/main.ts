// bbackup's command line (DESIGN §5). Thin: parse, build options, call the engine; each command
// returns how it ended and src/errors.ts decides the exit code.
import { Command, CommanderError } from 'commander';
import { exitCodeFor, failedWith } from '../errors.js';
import { version } from '../version.js';
import { registrarsFor } from './commands/index.js';
import type { CliIO, GlobalOptions } from './context.js';
import { makeAction, type RunState } from './run.js';

export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = new Command('bbackup');
  const state: RunState = { exitCode: 0 };
  program
    .description('Back up and restore Docker containers, volumes and networks')
    // --version only: -V belongs to `restore -V VOLUME` (DESIGN §5), and commander reads program options anywhere.
    .version(version, '--version')
    .option(
      '-c, --config <path>',
      'config file (default: $BBACKUP_CONFIG, ./bbackup.yaml, ~/.config/bbackup/config.yaml, /etc/bbackup/config.yaml)',
    )
    .option('--host <name>', "Docker host from the config's hosts: section")
    .option('--json', 'print one JSON document on stdout and nothing else there', false)
    .option('-q, --quiet', 'print only errors', false)
    .option('-v, --verbose', 'print informational messages too', false)
    .option('--no-color', 'no colours in the TUI (also NO_COLOR); command output has none anyway')
    .showHelpAfterError('(run bbackup --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  const globals = (): GlobalOptions => {
    const o = program.opts<{
      config?: string;
      host?: string;
      json: boolean;
      quiet: boolean;
      verbose: boolean;
      color: boolean;
    }>();
    return { config: o.config, host: o.host, json: o.json, quiet: o.quiet, verbose: o.verbose, color: o.color };
  };
  const action = makeAction(io, globals, state);
  for (const register of await registrarsFor(argv)) register(program, action);
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return exitCodeFor(err.exitCode === 0 ? 'ok' : failedWith('USAGE'));
    }
    throw err;
  }
  return state.exitCode;
}
