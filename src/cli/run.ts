// Where a command's ending becomes the exit code (through errors.ts's exitCodeFor) and a thrown
// error becomes a message on stderr (and the --json error document).
import { describeError, errorCodeOf, exitCodeFor, exitCodeOf, type Ending } from '../errors.js';
import type { Outcome } from '../events.js';
import { CliContext, type CliIO, type GlobalOptions } from './context.js';

/** A command body: gets the context and its own options/arguments, returns how it ended (nothing: ok). */
export type CommandBody<A extends unknown[]> = (ctx: CliContext, ...args: A) => Promise<Outcome | Ending | void>;

/** Wraps a command body into a commander action; set up by main.ts. */
export type Action = <A extends unknown[]>(body: CommandBody<A>) => (...args: unknown[]) => Promise<void>;

export interface RunState {
  exitCode: number;
}

export function makeAction(io: CliIO, globals: () => GlobalOptions, state: RunState): Action {
  return <A extends unknown[]>(body: CommandBody<A>) =>
    async (...args: unknown[]) => {
      // commander passes (positional..., options, command); bodies see (ctx, positional..., options)
      const ctx = new CliContext(globals(), io);
      const name = commandName(args[args.length - 1]);
      const started = Date.now();
      try {
        state.exitCode = exitCodeFor((await body(ctx, ...(args.slice(0, -1) as A))) ?? 'ok');
      } catch (err) {
        state.exitCode = reportError(ctx, err);
      }
      try {
        // One line per command in the log file: cron runs leave a trace even when they print nothing.
        ctx.loggerIfReady?.log(
          state.exitCode === 0 ? 'info' : 'warn',
          `${name}: exit ${state.exitCode} after ${Date.now() - started} ms`,
          { console: false },
        );
      } finally {
        await ctx.close().catch(() => undefined);
      }
    };
}

const commandName = (cmd: unknown): string => {
  const c = cmd as { name?: () => string; parent?: unknown } | undefined;
  return typeof c?.name === 'function' ? c.name() : 'bbackup';
};

export function reportError(ctx: CliContext, err: unknown): number {
  const code = exitCodeOf(err);
  const message = ctx.redact(describeError(err));
  if (errorCodeOf(err) === 'INTERNAL' && ctx.io.env.BBACKUP_DEBUG) ctx.io.stderr.write(`${(err as Error).stack}\n`);
  ctx.io.stderr.write(`bbackup: error: ${message}\n`);
  ctx.loggerIfReady?.log('error', message, { console: false });
  if (ctx.opts.json) {
    ctx.printJson({ error: { code: errorCodeOf(err), message, exitCode: code } });
  }
  return code;
}
