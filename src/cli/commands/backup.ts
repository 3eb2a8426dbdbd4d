// bbackup backup: parse the scope flags into one BackupRequest, run the job with a printer and
// return its result (its outcome decides the exit code). SIGINT/SIGTERM cancel the job cleanly (exit 5).
import { Option, type Command } from 'commander';
import type { BackupRequest, BackupScope, BackupValue } from '../../backup/types.js';
import { startBackup } from '../../jobs/backup-job.js';
import { beginOperatedBackup, reportUnavailable } from '../../schedule/run-backup.js';
import type { JobResult } from '../../jobs/types.js';
import { BbackupError } from '../../errors.js';
import { fanOut } from '../../events.js';
import type { CliContext } from '../context.js';
import { formatPlan, formatSummary, summaryDocument } from '../printers/backup-summary.js';
import { textPrinter } from '../printers/text.js';
import type { Action } from '../run.js';
import { onInterrupt } from '../signals.js';

interface BackupFlags {
  containers?: string[];
  volumes?: string[];
  backupSet?: string;
  configOnly?: boolean;
  volumesOnly?: boolean;
  networks: boolean;
  full?: boolean;
  incremental?: boolean;
  compression?: 'zstd' | 'gzip' | 'none';
  level?: string;
  remote?: string[];
  upload: boolean;
  dryRun?: boolean;
  wait?: boolean;
  images?: 'none' | 'local' | 'all';
  project?: string[];
}

export function register(program: Command, action: Action): void {
  program
    .command('backup')
    .description('back up containers (inspect + logs), their volumes and networks into the local store')
    .option('-C, --containers <names...>', 'only these containers (default: all, or the backup set)')
    .option('--volumes <names...>', 'also these volumes (alone: only these volumes)')
    .option('-s, --backup-set <name>', 'a backup set from the config')
    .option(
      '-P, --project <names...>',
      'Compose projects: their containers (label com.docker.compose.project), volumes, networks and compose files',
    )
    .addOption(
      new Option('--images <which>', 'images saved with the containers (default: config backup.images, local)').choices(
        ['none', 'local', 'all'],
      ),
    )
    .option('--config-only', 'container definitions, logs and networks; no volume data')
    .option('--volumes-only', 'volume data only')
    .option('--no-networks', 'leave networks out')
    .addOption(
      new Option('--full', 'copy every volume afresh (no hard links to the previous backup)').conflicts('incremental'),
    )
    .option('--incremental', 'hard-link unchanged files to the previous backup (default)')
    .addOption(
      new Option('--compression <method>', 'for the metadata archive and archive-format volumes').choices([
        'zstd',
        'gzip',
        'none',
      ]),
    )
    .option('--level <n>', 'compression level (zstd 1-19, gzip 1-9)')
    .option('-r, --remote <names...>', 'upload to these remotes afterwards (default: every enabled remote)')
    .option('--no-upload', 'do not upload to any remote')
    .option('--dry-run', 'print the plan (what, how big, which parent) and write nothing')
    .option('--wait', 'wait for another run holding the store lock instead of failing')
    .action(action(backupCommand));
}

export function requestFromFlags(
  f: BackupFlags,
  defaults: BackupScope,
  defaultMethod: 'zstd' | 'gzip' | 'none' = 'zstd',
): BackupRequest {
  if (f.configOnly && f.volumesOnly)
    throw new BbackupError('USAGE', '--config-only and --volumes-only exclude each other');
  let scope: BackupScope | undefined;
  if (f.configOnly) scope = { containers: true, volumes: false, networks: f.networks };
  else if (f.volumesOnly) scope = { containers: false, volumes: true, networks: false };
  else if (!f.networks) scope = { ...defaults, networks: false };
  let level: number | undefined;
  if (f.level !== undefined) {
    level = Number(f.level);
    if (!Number.isInteger(level) || level < 1 || level > 19)
      throw new BbackupError('USAGE', `--level must be a whole number 1-19, got "${f.level}"`);
  }
  return {
    containers: f.containers,
    volumes: f.volumes,
    backupSet: f.backupSet,
    projects: f.project,
    images: f.images,
    scope,
    full: f.full === true,
    compression: f.compression || level !== undefined ? { method: f.compression ?? defaultMethod, level } : undefined,
    remotes: f.upload ? f.remote : [],
    dryRun: f.dryRun === true,
    wait: f.wait === true,
  };
}

async function backupCommand(ctx: CliContext, flags: BackupFlags): Promise<JobResult<BackupValue>> {
  const config = ctx.config;
  const request = requestFromFlags(flags, config.backup.default_scope, config.backup.compression.method);
  const docker = await ctx.docker().catch(async (error: unknown) => {
    if (!request.dryRun)
      await reportUnavailable({
        config,
        hostLabel: ctx.opts.host ?? config.default_host ?? config.docker.socket,
        error,
        logger: ctx.logger,
      });
    throw error;
  });
  const live = !ctx.opts.json && !ctx.opts.quiet && ctx.io.stdout.isTTY === true;
  const printer = textPrinter({
    out: ctx.io.stdout,
    live,
    quiet: ctx.opts.json || ctx.opts.quiet || request.dryRun === true,
  });
  const started = Date.now();
  // operations (issue 7): global pre-hooks, container label hooks; post-hooks and notifications after
  const ops = request.dryRun
    ? undefined
    : await beginOperatedBackup({ config, docker, emit: ctx.logger.emit, logger: ctx.logger });
  const interrupt = onInterrupt({
    onSignal: (sig, n) => n === 1 && ctx.io.stderr.write(`bbackup: ${sig}: cancelling the backup and cleaning up…\n`),
  });
  let result: JobResult<BackupValue>;
  try {
    const job = startBackup(
      request,
      { config, docker, emit: fanOut(ctx.logger.emit, printer.emit), logger: ctx.logger, hooks: ops?.hooks },
      { signal: interrupt.signal },
    );
    result = await job.done;
    await ops?.finish(result);
  } finally {
    interrupt.dispose();
    printer.close();
  }
  const seconds = (Date.now() - started) / 1000;
  if (ctx.opts.json) ctx.printJson(summaryDocument(result, seconds));
  else if (result.value?.dryRun) ctx.io.stdout.write(`${formatPlan(result.value.plan)}\n`);
  else {
    const text = formatSummary(result, seconds);
    if (text)
      (result.outcome === 'ok' ? ctx.print.bind(ctx) : (t: string) => ctx.io.stderr.write(`${t}\n`))(ctx.redact(text));
  }
  return result;
}
