// bbackup metrics [--textfile PATH]: the Prometheus metrics once, for cron and node_exporter's
// textfile collector (written atomically), or on stdout.
import type { Command } from 'commander';
import { collectMetrics } from '../../metrics/collect.js';
import { writeTextfile } from '../../metrics/textfile.js';
import type { Outcome } from '../../events.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';

export function register(program: Command, action: Action): void {
  program
    .command('metrics')
    .description(
      "Prometheus metrics of the store, drills and schedules: on stdout, or into a .prom file for node_exporter's textfile collector",
    )
    .option(
      '--textfile <path>',
      'write here (atomically: a temporary file renamed over it), e.g. /var/lib/node_exporter/textfile/bbackup.prom',
    )
    .addHelpText('after', '\nThe daemon serves the same at /metrics: bbackup daemon --metrics 127.0.0.1:9469')
    .action(action(metricsCommand));
}

async function metricsCommand(ctx: CliContext, opts: { textfile?: string }): Promise<Outcome> {
  const text = await (await collectMetrics(ctx.config)).metrics();
  if (opts.textfile) {
    await writeTextfile(opts.textfile, text);
    ctx.print(`metrics written to ${opts.textfile}`);
  } else ctx.io.stdout.write(text);
  return 'ok';
}
