// bbackup dump CONTAINER [-o FILE]: a one-off database dump (the engine detected or labelled as
// for a backup) to a file, or to stdout for a pipe (`bbackup dump db | psql -h elsewhere`).
import type { Command } from 'commander';
import { isLocalEngine } from '../../docker/client.js';
import { dumpContainer } from '../../dump/one-off.js';
import { BbackupError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { formatBytes } from '../../format/units.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';

export function register(program: Command, action: Action): void {
  program
    .command('dump')
    .description(
      'take a consistent dump of a database container (postgres, mysql/mariadb, mongodb, redis, sqlite) to a file or stdout',
    )
    .argument('<container>', 'the database container')
    .option('-o, --output <file>', 'write the dump here (a name ending in .zst is compressed); default or "-": stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  bbackup dump db -o db.sql\n  bbackup dump db | psql -h other-host -U postgres',
    )
    .action(action(dumpCommand));
}

async function dumpCommand(ctx: CliContext, container: string, flags: { output?: string }): Promise<void> {
  const toStdout = flags.output === undefined || flags.output === '-';
  if (toStdout && ctx.io.stdout.isTTY)
    throw new BbackupError('USAGE', 'the dump would go to the terminal: give -o FILE, or pipe it into a program');
  if (toStdout && ctx.opts.json) throw new BbackupError('USAGE', '--json needs -o FILE: stdout carries the dump');
  const conn = await ctx.docker();
  const r = await withInterrupt((signal) =>
    dumpContainer({
      docker: conn.docker,
      container,
      out: toStdout ? ctx.io.stdout : flags.output!,
      signal,
      localEngine: isLocalEngine(conn.target),
      log: (level, msg) => ctx.logger.emit({ type: 'log', level, source: 'dump', msg }),
    }),
  );
  if (ctx.opts.json) ctx.printJson({ container, engine: r.engine, tool: r.tool, bytes: r.bytes, file: r.file });
  else if (!ctx.opts.quiet)
    ctx.io.stderr.write(
      `${r.engine} dump of ${container} by ${r.tool}: ${formatBytes(r.bytes)}${r.file ? ` written to ${r.file}` : ''}\n`,
    );
}
