// list-remote-backups, pull, rotate: thin front ends over src/remote/list and the pull and rotate jobs.
import type { Command } from 'commander';
import { expandHome } from '../../config/locate.js';
import { BbackupError, describeError } from '../../errors.js';
import { fanOut, type Emit, type Outcome } from '../../events.js';
import { pulled, startPull } from '../../jobs/pull-job.js';
import { newestHostDir, statsOfRemote, type RemoteStatsRow } from '../../jobs/remote-stats.js';
import { startRotate, type RotateValue } from '../../jobs/rotate-job.js';
import type { JobResult } from '../../jobs/types.js';
import { listRemoteBackups, type RemoteBackup } from '../../remote/list.js';
import { openRemote, selectRemotes } from '../../remote/open.js';
import type { CliContext } from '../context.js';
import { formatBytes } from '../../format/units.js';
import { formatTable } from '../output.js';
import { textPrinter } from '../printers/text.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';

const collectNames = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command, action: Action): void {
  program
    .command('list-remote-backups')
    .description('backups on the remotes (every configured remote, or those given with -r)')
    .option('-r, --remote <name>', 'only this remote (repeatable)', collectNames)
    .action(action(listCommand));
  program
    .command('pull')
    .description('download a remote backup into the local store, checked and decrypted')
    .argument('<remote>', 'remote name from the config')
    .argument('<id>', 'backup id (see list-remote-backups)')
    .action(action(pullCommand));
  program
    .command('rotate')
    .description('apply the retention policy to the local store and to the remotes')
    .option('--dry-run', 'show every backup with keep/remove and the reason; remove nothing', false)
    .option('-r, --remote <name>', 'rotate only this remote, not the local store (repeatable)', collectNames)
    .action(action(rotateCommand));
  program
    .command('remote-stats')
    .description('per remote: backups, bytes stored, dedup ratio, and what a new backup would add')
    .option('-r, --remote <name>', 'only this remote (repeatable)', collectNames)
    .action(action(statsCommand));
}

function printer(ctx: CliContext): { emit: Emit; close(): void } {
  if (ctx.opts.json) return { emit: (e) => ctx.logger.emit(e), close: () => undefined };
  const p = textPrinter({ out: ctx.io.stderr, live: ctx.io.stderr.isTTY === true, quiet: ctx.opts.quiet });
  return { emit: fanOut(p.emit, (e) => ctx.logger.emit(e)), close: p.close };
}

async function listCommand(ctx: CliContext, opts: { remote?: string[] }): Promise<Outcome> {
  const names = opts.remote?.length ? selectRemotes(ctx.config, opts.remote) : Object.keys(ctx.config.remotes);
  if (names.length === 0) throw new BbackupError('USAGE', 'no remotes configured (remotes: in the config)');
  const backups: RemoteBackup[] = [];
  const failures: { remote: string; error: string }[] = [];
  const skipped: { remote: string; prefix: string; reason: string }[] = [];
  await withInterrupt(async (signal) => {
    for (const name of names) {
      const remote = openRemote(ctx.config, name, { emit: (e) => ctx.logger.emit(e) });
      try {
        const listing = await listRemoteBackups(remote, signal, undefined, { details: true }); // format 2: sizes from info.json
        backups.push(...listing.backups);
        for (const k of listing.skipped) {
          skipped.push({ remote: name, ...k });
          ctx.io.stderr.write(`bbackup: warning: remote ${name}: skipped ${k.prefix}: ${k.reason}\n`);
        }
      } catch (err) {
        if (signal.aborted) throw err;
        failures.push({ remote: name, error: ctx.redact(describeError(err)) });
        ctx.io.stderr.write(`bbackup: error: ${ctx.redact(describeError(err))}\n`);
      } finally {
        await remote.close();
      }
    }
  });
  if (ctx.opts.json) ctx.printJson({ backups, failures, skipped });
  else if (backups.length === 0) {
    // a remote that could not be read is not "empty": its error was printed above
    const read = names.filter((n) => !failures.some((f) => f.remote === n));
    if (read.length > 0) ctx.print(`no backups on ${read.join(', ')}`);
  } else
    ctx.print(
      formatTable(backups, [
        { header: 'REMOTE', value: (b) => b.remote },
        { header: 'HOST', value: (b) => b.host },
        { header: 'ID', value: (b) => b.id },
        { header: 'TIME (UTC)', value: (b) => b.time.replace('T', ' ').replace(/\.\d+Z$/, '') },
        { header: 'SIZE', value: (b) => formatBytes(b.size), align: 'right' },
        { header: 'ENCRYPTED', value: (b) => (b.encrypted ? 'yes' : 'no') },
      ]),
    );
  return failures.length === 0 ? 'ok' : failures.length === names.length ? 'failed' : 'partial';
}

async function pullCommand(ctx: CliContext, remoteName: string, id: string): Promise<Outcome> {
  const p = printer(ctx);
  try {
    const { dir } = await withInterrupt(
      (signal) =>
        startPull(
          ctx.config,
          remoteName,
          id,
          { store: expandHome(ctx.config.backup.store), host: ctx.opts.host, emit: p.emit },
          { signal },
        ).done,
    ).then(pulled);
    p.close();
    if (ctx.opts.json) ctx.printJson({ pulled: { remote: remoteName, id, dir } });
    else ctx.print(`pulled ${id} from ${remoteName} into ${dir}`);
    return 'ok';
  } finally {
    p.close();
  }
}

async function rotateCommand(
  ctx: CliContext,
  opts: { dryRun: boolean; remote?: string[] },
): Promise<JobResult<RotateValue>> {
  const p = printer(ctx);
  const result = await withInterrupt(
    (signal) =>
      startRotate(
        {
          config: ctx.config,
          store: expandHome(ctx.config.backup.store),
          dryRun: opts.dryRun,
          remotes: opts.remote,
          hosts: ctx.opts.host ? [ctx.opts.host] : undefined,
        },
        { emit: p.emit, signal },
      ).done,
  ).finally(() => p.close());
  const { reports, failures, sweeps } = result.value ?? { reports: [], failures: [], sweeps: [] };
  for (const f of failures) ctx.io.stderr.write(`bbackup: error: ${ctx.redact(f.error)}\n`);
  if (result.outcome === 'cancelled') return result;
  const rows = reports.flatMap((r) => r.plan.decisions.map((d) => ({ target: r.target, host: r.host, ...d })));
  if (ctx.opts.json)
    ctx.printJson({
      dryRun: opts.dryRun,
      reports,
      failures: failures.map((f) => ({ ...f, error: ctx.redact(f.error) })),
      sweeps,
    });
  else {
    if (rows.length === 0) ctx.print('no backups to rotate');
    else
      ctx.print(
        formatTable(rows, [
          { header: 'WHERE', value: (r) => r.target },
          { header: 'HOST', value: (r) => r.host },
          { header: 'GROUP', value: (r) => r.group },
          { header: 'ID', value: (r) => r.id },
          { header: 'ACTION', value: (r) => (r.keep ? 'keep' : opts.dryRun ? 'remove' : 'removed') },
          { header: 'REASON', value: (r) => r.reasons.join('; ') },
        ]),
      );
    for (const r of reports)
      for (const c of r.cleaned ?? [])
        ctx.print(
          `${opts.dryRun ? 'would remove' : 'removed'} ${r.target}: ${c} (an upload cut off more than a day ago)`,
        );
    for (const s of sweeps) {
      if (!s.ran) ctx.print(`${s.remote}: space not freed${s.reason ? ` (${s.reason})` : ''}`);
      else if (s.freed > 0 || s.cutRemoved.length > 0)
        ctx.print(
          `${s.remote}: ${opts.dryRun ? 'would free' : 'freed'} ${formatBytes(s.freed)} (${s.packsRemoved} pack(s) removed, ${s.packsRewritten} rewritten)`,
        );
    }
    for (const r of reports.filter((x) => x.plan.overQuota))
      ctx.print(
        `warning: ${r.target} ${r.host} stays over max_storage_gb: what the quota may not remove (each group's newest complete backup${r.plan.leftoverBytes ? `, ${formatBytes(r.plan.leftoverBytes)} of leftovers .removing-*/.pull-*` : ''}) exceeds it`,
      );
  }
  return result;
}

async function statsCommand(ctx: CliContext, opts: { remote?: string[] }): Promise<Outcome> {
  const names = opts.remote?.length ? selectRemotes(ctx.config, opts.remote) : Object.keys(ctx.config.remotes);
  if (names.length === 0) throw new BbackupError('USAGE', 'no remotes configured (remotes: in the config)');
  const store = expandHome(ctx.config.backup.store);
  const rows: RemoteStatsRow[] = [];
  const failures: { remote: string; error: string }[] = [];
  await withInterrupt(async (signal) => {
    const hostDir = await newestHostDir(store, ctx.opts.host);
    for (const name of names) {
      try {
        rows.push(await statsOfRemote(ctx.config, name, { store, hostDir, signal }));
      } catch (err) {
        if (signal.aborted) throw err;
        failures.push({ remote: name, error: ctx.redact(describeError(err)) });
        ctx.io.stderr.write(`bbackup: error: ${ctx.redact(describeError(err))}\n`);
      }
    }
  });
  if (ctx.opts.json) ctx.printJson({ remotes: rows, failures });
  else if (rows.length > 0)
    ctx.print(
      formatTable(rows, [
        { header: 'REMOTE', value: (r) => r.remote },
        { header: 'BACKUPS', value: (r) => String(r.backups), align: 'right' },
        { header: 'STORED', value: (r) => formatBytes(r.stored), align: 'right' },
        { header: 'RESTORES TO', value: (r) => formatBytes(r.logical), align: 'right' },
        { header: 'DEDUP', value: (r) => (r.dedupRatio ? `${r.dedupRatio.toFixed(2)}x` : '-'), align: 'right' },
        { header: 'NEW BACKUP ADDS', value: wouldAddText },
      ]),
    );
  return failures.length === 0 ? 'ok' : failures.length === names.length ? 'failed' : 'partial';
}

function wouldAddText(r: RemoteStatsRow): string {
  const w = r.wouldAdd;
  if (!w) return '-';
  return `${formatBytes(w.bytes)} of ${formatBytes(w.of)}${w.sent ? ` (${w.backup} is there)` : ''}`;
}
