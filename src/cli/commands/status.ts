// bbackup status: per container, the age of its newest complete backup judged against its
// schedules (src/schedule/freshness.ts). Exit 4 when any scheduled container is late, missed or
// never backed up, so a monitor can run it as a check.
import type { Command } from 'commander';
import { expandHome } from '../../config/locate.js';
import { failedWith, type Ending } from '../../errors.js';
import { formatAge } from '../../format/units.js';
import { OVERDUE, type FreshnessRow } from '../../schedule/freshness.js';
import { readFreshness } from '../../schedule/status.js';
import type { CliContext } from '../context.js';
import { formatTable } from '../output.js';
import type { Action } from '../run.js';

export function register(program: Command, action: Action): void {
  program
    .command('status')
    .description('how fresh each container’s newest backup is, judged against its schedules (exit 4 when overdue)')
    .addHelpText(
      'after',
      '\nSTATE: ok (within one period of its most frequent schedule, plus 10%), late (within two periods),\nmissed (older), never (no complete backup), unscheduled (no schedule selects it; never judged).\nExit code 4 when any container is late, missed or never backed up.',
    )
    .action(action(statusCommand));
}

async function statusCommand(ctx: CliContext): Promise<Ending> {
  const conn = await ctx.docker();
  const rows = await readFreshness(ctx.config, {
    docker: conn.docker,
    store: expandHome(ctx.config.backup.store),
    hostName: conn.hostName,
    configHost: ctx.opts.host ?? ctx.config.default_host,
  });
  const overdue = rows.filter((r) => OVERDUE.has(r.state));
  if (ctx.opts.json) ctx.printJson({ host: conn.hostName, overdue: overdue.length, containers: rows });
  else if (rows.length === 0) ctx.print('no containers on this engine and none named by a schedule');
  else {
    ctx.print(
      formatTable<FreshnessRow>(rows, [
        { header: 'CONTAINER', value: (r) => r.container },
        { header: 'STATE', value: (r) => r.state },
        { header: 'AGE', value: (r) => formatAge(r.ageSeconds), align: 'right' },
        { header: 'EVERY', value: (r) => formatAge(r.periodSeconds), align: 'right' },
        { header: 'LAST BACKUP', value: (r) => r.last?.id ?? '-' },
        ...(rows.some((r) => r.offsite !== undefined)
          ? [{ header: 'OFF-SITE', value: (r: FreshnessRow) => offsiteText(r) }]
          : []),
        { header: 'SCHEDULES', value: (r) => r.schedules.join(',') || '-' },
      ]),
    );
    if (overdue.length) ctx.print(`${overdue.length} overdue: ${overdue.map((r) => r.container).join(', ')}`);
  }
  return overdue.length ? failedWith('PARTIAL') : { outcome: 'ok' };
}

/** "2h on nas (late)", "none": the newest off-site copy this store knows of */
function offsiteText(r: FreshnessRow): string {
  if (r.offsite === undefined) return '-';
  if (r.offsite === 'none') return 'none';
  const { ageSeconds, remote, state } = r.offsite;
  return `${formatAge(ageSeconds)} on ${remote}${state === 'ok' || state === 'unscheduled' ? '' : ` (${state})`}`;
}
