// `bbackup` with no command, and `bbackup tui`: the full-screen UI. The CLI knows the TUI only as
// `io.tui`, which the bin entry (src/cli/bin.ts) fills with a lazy import of screens/main.ts, so
// plain commands never load blessed and nothing under src/ imports screens/.
import type { Command } from 'commander';
import { BbackupError, type Ending } from '../../errors.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';

export function register(program: Command, action: Action): void {
  program
    .command('tui', { isDefault: true })
    .description('open the full-screen terminal UI (the default when no command is given)')
    .action(action(tuiCommand));
}

async function tuiCommand(ctx: CliContext): Promise<Ending> {
  const open = ctx.io.tui;
  if (!open)
    throw new BbackupError('USAGE', 'the TUI is not available here; use a command (bbackup --help lists them)');
  const { stdout, stderr } = ctx.io;
  // --no-color is NO_COLOR for the TUI (https://no-color.org): the theme reads only the environment.
  const env = ctx.opts.color ? ctx.io.env : { ...ctx.io.env, NO_COLOR: '1' };
  // Connecting to Docker and loading the front end overlap: the first paint waits for both (its
  // error, if any, is reported where the TUI awaits the same promise).
  if (stdout.isTTY && process.stdin.isTTY) ctx.docker().catch(() => undefined);
  return withInterrupt(
    (stop) => open({ stdout, stderr, env, loaded: ctx.loadedConfig, docker: () => ctx.docker(), stop }),
    { signals: ['SIGINT', 'SIGTERM', 'SIGHUP'] },
  );
}
