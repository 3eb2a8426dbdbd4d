// `bbackup` with no command, and `bbackup tui`: the full-screen UI. The one place the CLI loads
// the front end in screens/, lazily, so plain commands never load blessed. The engine (every
// other module of src/) knows nothing of it.
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';

export function register(program: Command, action: Action): void {
  program
    .command('tui', { isDefault: true })
    .description('open the full-screen terminal UI (the default when no command is given)')
    .action(action(tuiCommand));
}

async function tuiCommand(ctx: CliContext): Promise<number> {
  // Connecting to Docker and loading the front end overlap: the first paint waits for both.
  // (Its error, if any, is reported where runTui awaits the same promise.)
  if (ctx.io.stdout.isTTY && process.stdin.isTTY) ctx.docker().catch(() => undefined);
  const { runTui } = await import('../../../screens/main.js');
  return runTui(ctx);
}
