// Global hooks (config `hooks.pre` / `hooks.post`): argv commands run on the host, never through a
// shell, with the run's details in the environment:
//   BBACKUP_EVENT       pre | post
//   BBACKUP_HOST        Docker host name (store folder)
//   BBACKUP_STORE       the host's store folder
//   BBACKUP_SCHEDULE    schedule name, empty for a manual run
//   BBACKUP_BACKUP_ID   (post) id of the backup, empty when none was made
//   BBACKUP_BACKUP_DIR  (post) its folder, empty when none was made
//   BBACKUP_STATUS      (post) ok | partial | failed | cancelled
//   BBACKUP_DURATION    (post) seconds
//   BBACKUP_ITEMS_OK, BBACKUP_ITEMS_FAILED, BBACKUP_BYTES, BBACKUP_ERRORS (post) counts
//   BBACKUP_REPORT      (post) the notification payload as JSON
// A failing pre-hook stops the run before anything is read; a failing post-hook is reported.
import { execa } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { Emit } from '../events.js';
import type { RunReport } from '../notify/report.js';

export interface HookContext {
  host: string;
  storeDir: string;
  schedule?: string;
}

export function hookEnv(
  phase: 'pre' | 'post',
  ctx: HookContext,
  report?: RunReport,
  backupDir?: string,
): Record<string, string> {
  const env: Record<string, string> = {
    BBACKUP_EVENT: phase,
    BBACKUP_HOST: ctx.host,
    BBACKUP_STORE: ctx.storeDir,
    BBACKUP_SCHEDULE: ctx.schedule ?? '',
  };
  if (report) {
    Object.assign(env, {
      BBACKUP_BACKUP_ID: report.backup_id ?? '',
      BBACKUP_BACKUP_DIR: report.backup_id ? (backupDir ?? '') : '',
      BBACKUP_STATUS: report.status,
      BBACKUP_DURATION: String(report.duration),
      BBACKUP_ITEMS_OK: String(report.items.ok),
      BBACKUP_ITEMS_FAILED: String(report.items.failed),
      BBACKUP_BYTES: String(report.sizes.bytes),
      BBACKUP_ERRORS: String(report.errors.length),
      BBACKUP_REPORT: JSON.stringify(report),
    });
  }
  return env;
}

export interface HookRunOptions {
  timeoutSec: number;
  env: Record<string, string>;
  signal?: AbortSignal;
  emit?: Emit;
}

/** Run the commands in order; the first failure throws (naming the command, its exit and output). */
export async function runHostHooks(
  phase: 'pre' | 'post',
  commands: readonly string[][],
  opts: HookRunOptions,
): Promise<void> {
  for (const argv of commands) {
    const [file, ...args] = argv;
    if (!file) continue;
    opts.emit?.({ type: 'log', level: 'info', source: 'hooks', msg: `${phase}-hook: ${JSON.stringify(argv)}` });
    const r = await execa(file, args, {
      env: opts.env,
      extendEnv: true,
      timeout: Math.round(opts.timeoutSec * 1000),
      cancelSignal: opts.signal,
      forceKillAfterDelay: 5000,
      all: true,
      reject: false,
      stdin: 'ignore',
    });
    const out = lastLines(String(r.all ?? ''), 20);
    if (r.failed) {
      const why = r.timedOut
        ? `timed out after ${opts.timeoutSec} s`
        : r.isCanceled
          ? 'was cancelled'
          : r.exitCode !== undefined
            ? `exited ${r.exitCode}`
            : (r.shortMessage ?? 'failed');
      throw new BbackupError(
        r.isCanceled ? 'CANCELLED' : 'TOOL_FAILED',
        `${phase}-hook ${JSON.stringify(argv)} ${why}${out ? `:\n${out}` : ''}`,
        { phase, argv },
      );
    }
    if (out)
      opts.emit?.({
        type: 'log',
        level: 'debug',
        source: 'hooks',
        msg: `${phase}-hook output: ${out.split('\n').join(' | ')}`,
      });
  }
}
