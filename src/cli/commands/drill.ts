// bbackup drill [ID]: prove a backup restores. Restores it into a sandbox beside the originals,
// starts what was running, waits for health, checks the data, removes the sandbox; exit 0 when the
// drill passed, 4 when it failed, 5 when cancelled. Thin: pick the backup, run the job, print.
import type { Command } from 'commander';
import { expandHome } from '../../config/locate.js';
import { isLocalEngine } from '../../docker/client.js';
import { chooseDrillBackup } from '../../drill/choose.js';
import { requireProjectContainers } from '../../drill/project-scope.js';
import type { DrillReport } from '../../drill/types.js';
import { BbackupError, failedWith, type Ending } from '../../errors.js';
import { fanOut, type Outcome } from '../../events.js';
import { startDrill } from '../../jobs/drill-job.js';
import { locateBackup } from '../../restore/plan.js';
import { hostDir } from '../../store/layout.js';
import { readManifest } from '../../store/manifest.js';
import type { CliContext } from '../context.js';
import { textPrinter } from '../printers/text.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';
import { pull } from './restore.js';
import { commaList } from '../option-lists.js';

interface DrillFlags {
  containers?: string[];
  project?: string[];
  backupSet?: string;
  keep?: boolean;
  fromRemote?: string;
  up: string;
  timeout: string;
  allowPrivileged?: boolean;
}

export function register(program: Command, action: Action): void {
  program
    .command('drill')
    .description(
      'restore drill: restore a backup into an isolated sandbox, start it, wait for health, check the data, remove the sandbox',
    )
    .argument('[backup]', 'backup id or folder (default: the newest complete backup of the scope)')
    .option('-C, --containers <names...>', 'containers to drill (with their volumes and networks)', commaList)
    .option(
      '-P, --project <names...>',
      'drill the containers of these Compose projects (label com.docker.compose.project, as the backup recorded it)',
      commaList,
    )
    .option('-s, --backup-set <name>', 'drill the newest backup of this backup set')
    .option(
      '--keep',
      'leave the sandbox for inspection (remove it with docker rm/volume rm/network rm; every object is named drill-<id>-*)',
    )
    .option('--from-remote <name>', 'pull backup ID from this remote into the local store first')
    .option('--up <seconds>', 'a container without a healthcheck must stay up this long', '10')
    .option('--timeout <seconds>', 'how long to wait for a container to become healthy', '120')
    .option('--allow-privileged', 'drill containers that need privileges on this host (as restore --allow-privileged)')
    .addHelpText(
      'after',
      '\nSandbox: objects are named drill-<id>-<name>, default/host networking becomes none, user networks are internal,\nno ports are published, restart policy is no, host paths are mounted read-only. Originals are never touched.\nA container label bbackup.drill.probe=\'["cmd","arg"]\' is run with docker exec once the container is up.\n\nExamples:\n  bbackup drill -C db\n  bbackup drill -P shop\n  bbackup drill 20261124T230501Z --keep\n  bbackup --json drill -s databases',
    )
    .action(action(drillCommand));
}

const seconds = (v: string, flag: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BbackupError('USAGE', `${flag} ${v}: expected a number of seconds`);
  return n;
};

async function drillCommand(ctx: CliContext, ref: string | undefined, flags: DrillFlags): Promise<Outcome | Ending> {
  const upSeconds = seconds(flags.up, '--up');
  const timeoutSeconds = seconds(flags.timeout, '--timeout');
  if (flags.fromRemote && !ref)
    throw new BbackupError('USAGE', '--from-remote needs a backup id (see bbackup list-remote-backups)');
  const conn = await ctx.docker();
  const store = expandHome(ctx.config.backup.store);
  const hostFolder = hostDir(store, conn.hostName);
  const named = flags.containers ?? [];
  const projects = flags.project ?? [];
  let backupDir: string;
  let containers = named;
  if (ref) {
    backupDir = flags.fromRemote
      ? await pull(ctx, flags.fromRemote, ref, store)
      : await locateBackup(ref, store, conn.hostName);
    if (projects.length > 0)
      containers = [
        ...new Set([...named, ...(await requireProjectContainers(backupDir, await readManifest(backupDir), projects))]),
      ];
  } else {
    ({ dir: backupDir, containers } = await chooseDrillBackup(hostFolder, {
      containers: named,
      projects,
      backupSet: flags.backupSet,
    }));
  }
  const quiet = ctx.opts.json || ctx.opts.quiet;
  const text = textPrinter({ out: ctx.io.stdout, live: !quiet && ctx.io.stdout.isTTY === true, quiet });
  const result = await withInterrupt((signal) =>
    startDrill(
      {
        backupDir,
        containers,
        keep: flags.keep ?? false,
        upSeconds,
        timeoutSeconds,
        allowPrivileged: flags.allowPrivileged ?? false,
      },
      {
        docker: conn.docker,
        config: ctx.config,
        hostFolder,
        store,
        logger: ctx.logger,
        emit: fanOut(ctx.logger.emit, text.emit),
        localEngine: isLocalEngine(conn.target),
        volumeMode: conn.target.volumeMode ?? ctx.config.backup.volumes.mode,
        workerImage: ctx.config.backup.volumes.worker_image,
      },
      { signal },
    ).done.finally(() => text.close()),
  );
  if (!result.value) return result; // cancelled before the drill began
  const { report, record } = result.value;
  if (ctx.opts.json) ctx.printJson({ ...report, record: record ?? null });
  else ctx.print(describeDrill(report));
  // exit 0 passed, 4 failed (whatever failed inside), 5 cancelled
  return report.outcome === 'passed' ? 'ok' : report.outcome === 'cancelled' ? 'cancelled' : failedWith('DRILL_FAILED');
}

export function describeDrill(r: DrillReport): string {
  const lines = [`drill ${r.id} of backup ${r.backup_id}: ${r.outcome.toUpperCase()}`];
  for (const c of r.containers)
    lines.push(
      `  ${c.ok ? 'ok    ' : 'FAILED'} container ${c.name.padEnd(20)} ${c.state}${c.detail ? `: ${c.detail}` : ''}`,
    );
  for (const v of r.volumes)
    lines.push(
      `  ${v.ok ? 'ok    ' : 'FAILED'} volume    ${v.name.padEnd(20)} ${v.verified === 'checked' ? 'matches the backup index' : v.verified === 'archive' ? 'archive checksum matched' : 'not checked'}`,
    );
  for (const e of r.errors) lines.push(`  error: ${e.item}: ${e.message}`);
  lines.push(`  RTO ${r.rto_seconds === null ? '-' : `${r.rto_seconds} s`} · RPO ${r.rpo_seconds} s (age of the data)`);
  lines.push(
    r.kept
      ? `  sandbox kept: ${[...r.sandbox.containers, ...r.sandbox.volumes, ...r.sandbox.networks].join(', ') || '(empty)'}`
      : '  sandbox removed',
  );
  return lines.join('\n');
}
