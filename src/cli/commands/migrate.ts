// migrate --from HOST --to HOST: a backup on one host restored on the other, in one command.
// Order: plan (what moves, what is in the way on the target) -> confirm (--yes, or asked on a
// terminal) -> [--stop-source: stop the source's containers] -> backup -> restore plan on the
// target (refused as `restore` refuses) -> restore. The source is only read (label hooks apply as
// in every backup); with --stop-source its containers stay stopped once the restore succeeded, and
// run again when anything before that failed.
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { expandHome } from '../../config/locate.js';
import { isLocalEngine } from '../../docker/client.js';
import { BbackupError, describeError, failedWith, type Ending, type ErrorCode } from '../../errors.js';
import { fanOut } from '../../events.js';
import { startBackup } from '../../jobs/backup-job.js';
import { stopSource, targetConflicts, type StoppedSource } from '../../jobs/migrate.js';
import { describePlan } from '../../restore/describe-plan.js';
import { planRestore } from '../../restore/plan.js';
import { emptyRenames } from '../../restore/renames.js';
import { assertRunnable, startRestore } from '../../restore/restore-job.js';
import type { RestoreRequest } from '../../restore/types.js';
import { beginOperatedBackup } from '../../schedule/run-backup.js';
import { readManifest } from '../../store/manifest.js';
import { CliContext } from '../context.js';
import { formatPlan, formatSummary } from '../printers/backup-summary.js';
import { textPrinter } from '../printers/text.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';
import { commaList } from '../option-lists.js';

interface MigrateFlags {
  from: string;
  to: string;
  project?: string[];
  containers?: string[];
  stopSource?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  allowPrivileged?: boolean;
  composeDir?: string;
}

export function register(program: Command, action: Action): void {
  program
    .command('migrate')
    .description('move containers, volumes, networks and images from one host to another: backup there, restore here')
    .requiredOption('--from <host>', 'source host (a name under hosts: in the config)')
    .requiredOption('--to <host>', 'target host (a name under hosts: in the config)')
    .option('-P, --project <names...>', 'Compose projects to move (default: every container)', commaList)
    .option('-C, --containers <names...>', 'containers to move (with their volumes and networks)', commaList)
    .option('--stop-source', "stop the source's containers before the backup; they stay stopped after the move")
    .option('-y, --yes', 'do not ask: needed when stdin is not a terminal')
    .option('--dry-run', 'show the plan and what is in the way on the target; change nothing')
    .option('--allow-privileged', 'restore objects that need privileges on the target (see restore)')
    .option('--compose-dir <dir>', "on the target: write the projects' compose files and .env to DIR/<project>/")
    .addHelpText(
      'after',
      '\nExamples:\n  bbackup migrate --from old --to new -P shop --dry-run\n  bbackup migrate --from old --to new -P shop --stop-source --yes',
    )
    .action(action(migrateCommand));
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function migrateCommand(ctx: CliContext, flags: MigrateFlags): Promise<Ending> {
  if (flags.from === flags.to)
    throw new BbackupError('USAGE', `--from and --to name the same host (${flags.from}): nothing to move`);
  if (!flags.yes && !flags.dryRun && process.stdin.isTTY !== true)
    throw new BbackupError(
      'USAGE',
      `migrate changes host ${flags.to}${flags.stopSource ? ` and stops containers on ${flags.from}` : ''}: confirm with --yes (stdin is not a terminal, so bbackup cannot ask); see the plan first with --dry-run`,
    );
  const source = new CliContext({ ...ctx.opts, host: flags.from }, ctx.io);
  const target = new CliContext({ ...ctx.opts, host: flags.to }, ctx.io);
  const [src, dst] = await Promise.all([source.docker(), target.docker()]);
  const config = ctx.config;
  const emit = ctx.logger.emit;
  const log = (msg: string) => ctx.logger.info(msg);
  const selection = {
    containers: flags.containers,
    projects: flags.project,
    scope: config.backup.default_scope,
    remotes: [] as string[],
    wait: true,
  };

  const dry = await startBackup({ ...selection, dryRun: true }, { config, docker: src, emit }).done;
  if (!dry.value?.dryRun) throw failedJob(dry.errors, 'the backup could not be planned on the source');
  const plan = dry.value.plan;
  const conflicts = await targetConflicts(plan, dst.docker);
  ctx.print(
    `Migrate from ${flags.from} ("${src.hostName}") to ${flags.to} ("${dst.hostName}")\n` +
      `${formatPlan(plan)}\n` +
      `Source: ${flags.stopSource ? 'its running containers are stopped before the backup and stay stopped after the move' : 'left as it is (label hooks apply as in every backup)'}`,
  );
  if (conflicts.length > 0)
    throw new BbackupError(
      'CONFLICT',
      `refused: ${conflicts.length} name${conflicts.length > 1 ? 's are' : ' is'} taken on ${flags.to}; nothing was changed on either host:\n  ${conflicts.join('\n  ')}`,
      { conflicts },
    );
  if (flags.dryRun) return { outcome: 'ok' };
  if (!flags.yes && !(await confirm(`Move these to ${flags.to}? [y/N] `))) {
    ctx.print('cancelled: nothing was changed');
    return failedWith('CANCELLED');
  }

  let stopped: StoppedSource | undefined;
  const undoStop = async () => {
    await stopped?.startAgain().catch((err: unknown) => ctx.logger.error(describeError(err)));
  };
  try {
    if (flags.stopSource)
      stopped = await stopSource(
        src.docker,
        plan.containers.map((c) => c.name),
        log,
      );
    const printer = textPrinter({ out: ctx.io.stdout, live: false, quiet: ctx.opts.json || ctx.opts.quiet });
    const ops = await beginOperatedBackup({ config, docker: src, emit, logger: ctx.logger });
    const backup = await withInterrupt(async (signal) => {
      const job = startBackup(
        { ...selection, dryRun: false },
        { config, docker: src, emit: fanOut(emit, printer.emit), logger: ctx.logger, hooks: ops.hooks },
        { signal },
      );
      const result = await job.done;
      await ops.finish(result);
      return result;
    }).finally(() => printer.close());
    const summary = formatSummary(backup, 0);
    if (summary) ctx.print(summary);
    if (backup.outcome !== 'ok' || !backup.value || backup.value.dryRun)
      throw failedJob(
        backup.errors,
        `the backup on ${flags.from} ended ${backup.outcome}: nothing was restored on ${flags.to}`,
      );
    const backupDir = backup.value.dir;
    const request: RestoreRequest = {
      backupDir,
      containers: [],
      volumes: [],
      networks: [],
      all: true,
      renames: emptyRenames(),
      force: false,
      start: true,
      verify: true,
      allowPrivileged: flags.allowPrivileged ?? false,
      ...(flags.composeDir ? { composeDir: resolve(expandHome(flags.composeDir)) } : {}),
    };
    const restorePlan = await planRestore(backupDir, await readManifest(backupDir), request, dst.docker);
    // --stop-source: the backup saw them stopped; they were running before, so they run on the target
    for (const i of restorePlan.items)
      if (i.kind === 'container' && i.container && stopped?.stopped.includes(i.source)) {
        i.container.start = true;
        i.detail = `${i.container.image}, started (running on ${flags.from} before --stop-source)`;
      }
    assertRunnable(restorePlan, request.allowPrivileged);
    ctx.print(describePlan(restorePlan, { dryRun: false, allowPrivileged: request.allowPrivileged }));
    const text = textPrinter({ out: ctx.io.stdout, live: false, quiet: ctx.opts.json || ctx.opts.quiet });
    const restored = await withInterrupt(
      (signal) =>
        startRestore(
          request,
          {
            docker: dst.docker,
            emit: fanOut(emit, text.emit),
            localEngine: isLocalEngine(dst.target),
            volumeMode: dst.target.volumeMode ?? config.backup.volumes.mode,
            workerImage: config.backup.volumes.worker_image,
            plan: restorePlan,
            store: expandHome(config.backup.store),
          },
          { signal },
        ).done,
    ).finally(() => text.close());
    if (restored.outcome !== 'ok') await undoStop();
    if (ctx.opts.json)
      ctx.printJson({
        from: flags.from,
        to: flags.to,
        backup: backup.value.id,
        backupDir,
        outcome: restored.outcome,
        sourceStopped: restored.outcome === 'ok' ? (stopped?.stopped ?? []) : [],
        restored: restored.value?.restored ?? [],
        errors: restored.errors,
      });
    else
      ctx.print(
        `migrate ${restored.outcome}: backup ${backup.value.id} of ${flags.from} restored on ${flags.to}${restored.outcome === 'ok' && stopped?.stopped.length ? `; stopped on ${flags.from}: ${stopped.stopped.join(', ')}` : ''}`,
      );
    return restored;
  } catch (err) {
    await undoStop();
    throw err;
  }
}

function failedJob(errors: { message: string; code: ErrorCode }[], what: string): BbackupError {
  return new BbackupError(
    errors[0]?.code ?? 'DOCKER_FAILED',
    `${what}${errors.length ? `: ${errors.map((e) => e.message).join('; ')}` : ''}`,
  );
}
