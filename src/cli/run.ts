// The one place where errors become messages and exit codes (DESIGN §5).
import { BbackupError, describeError, exitCodeOf } from '../errors.js';
import { CliContext, type CliIO, type GlobalOptions } from './context.js';

/** A command body: gets the context and its own options/arguments, returns an exit code. */
export type CommandBody<A extends unknown[]> = (ctx: CliContext, ...args: A) => Promise<number | void>;

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
      try {
        const code = await body(ctx, ...(args.slice(0, -1) as A));
        state.exitCode = code ?? 0;
      } catch (err) {
        state.exitCode = reportError(ctx, err);
      } finally {
        await ctx.close().catch(() => undefined);
      }
    };
}

export function reportError(ctx: CliContext, err: unknown): number {
  const code = exitCodeOf(err);
  const message = describeError(err);
  if (!(err instanceof BbackupError) && process.env.BBACKUP_DEBUG) ctx.io.stderr.write(`${(err as Error).stack}\n`);
  ctx.io.stderr.write(`bbackup: error: ${message}\n`);
  if (ctx.opts.json) {
    ctx.printJson({ error: { code: err instanceof BbackupError ? err.code : 'INTERNAL', message, exitCode: code } });
  }
  return code;
}
