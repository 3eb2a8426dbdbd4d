// The run report every notifier sends: one documented, plain-data payload (README "Operations").
// Webhooks receive it as JSON; the email renders it as text. Built from a finished run or from a
// failure that stopped the run before it could start (store, Docker or a remote not reachable).
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';

/**
 * backup.finished     a backup ran to its end (status ok, partial, failed or cancelled)
 * backup.unavailable  the run could not start: the store, the Docker engine or a remote could not be opened
 * schedule.missed     the daemon was down when a scheduled run was due
 * notify.test         `bbackup notify-test`: checks that every notifier delivers (sent whatever the levels)
 * drill.finished      a restore drill ended (status ok = passed; `drill` holds its RTO and RPO)
 */
export type RunEvent = 'backup.finished' | 'backup.unavailable' | 'schedule.missed' | 'notify.test' | 'drill.finished';
export type RunStatus = 'ok' | 'partial' | 'failed' | 'cancelled';
export type NotifyLevel = Config['notifications']['on'];

export interface RunReport {
  event: RunEvent;
  /** the Docker host's name (its store folder) */
  host: string;
  /** the machine bbackup ran on */
  machine: string;
  /** null when no backup was made */
  backup_id: string | null;
  status: RunStatus;
  /** schedule name when the run came from the scheduler */
  schedule: string | null;
  started: string;
  finished: string;
  /** seconds */
  duration: number;
  items: { total: number; ok: number; failed: number; skipped: number };
  sizes: { bytes: number; files: number };
  errors: { item: string; code: string; message: string }[];
  /** drill.finished only */
  drill?: { id: string; rto_seconds: number | null; rpo_seconds: number };
}

export interface ReportInput {
  event?: RunEvent;
  host: string;
  backupId?: string;
  status: RunStatus;
  schedule?: string;
  started: Date;
  finished?: Date;
  items?: Partial<RunReport['items']>;
  sizes?: Partial<RunReport['sizes']>;
  errors?: RunReport['errors'];
  drill?: RunReport['drill'];
}

export function buildReport(input: ReportInput): RunReport {
  const finished = input.finished ?? new Date();
  const items = { total: 0, ok: 0, failed: 0, skipped: 0, ...input.items };
  return {
    event: input.event ?? 'backup.finished',
    host: input.host,
    machine: hostname(),
    backup_id: input.backupId ?? null,
    status: input.status,
    schedule: input.schedule ?? null,
    started: input.started.toISOString(),
    finished: finished.toISOString(),
    duration: Math.max(0, Math.round((finished.getTime() - input.started.getTime()) / 100) / 10),
    items,
    sizes: { bytes: 0, files: 0, ...input.sizes },
    errors: input.errors ?? [],
    ...(input.drill ? { drill: input.drill } : {}),
  };
}

/** Errors of the off-site copy: the backup job names them `upload <remote>`. */
export const remoteFailed = (report: Pick<RunReport, 'errors'>): boolean =>
  report.errors.some((e) => e.item.startsWith('upload '));

/**
 * Whether a notifier at `level` hears about a run. A cancelled run made no backup, so it counts as
 * a failure: an operator who asked to hear about failures wants to know the night's run died. So
 * does a run whose remote could not be opened or written: the local backup exists (status
 * partial), but the off-site copy, the one that matters when the disk dies, does not.
 */
export function shouldNotify(
  level: NotifyLevel,
  report: Pick<RunReport, 'status'> & Partial<Pick<RunReport, 'errors'>>,
): boolean {
  switch (level) {
    case 'always':
      return true;
    case 'partial':
      return report.status !== 'ok';
    case 'failure':
      return (
        report.status === 'failed' || report.status === 'cancelled' || remoteFailed({ errors: report.errors ?? [] })
      );
  }
}

const STATUS_WORD: Record<RunStatus, string> = {
  ok: 'OK',
  partial: 'PARTIAL',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
};

export function reportSubject(r: RunReport): string {
  if (r.event === 'notify.test') return `[bbackup] test notification from ${r.machine} for ${r.host}`;
  if (r.event === 'drill.finished')
    return `[bbackup] ${r.status === 'ok' ? 'PASSED' : STATUS_WORD[r.status]}: restore drill of ${r.backup_id ?? '-'} on ${r.host}${r.schedule ? ` (schedule ${r.schedule})` : ''}`;
  const what =
    r.event === 'schedule.missed'
      ? 'missed scheduled backup'
      : r.event === 'backup.unavailable'
        ? 'backup could not start'
        : 'backup';
  const sched = r.schedule ? ` (schedule ${r.schedule})` : '';
  return `[bbackup] ${STATUS_WORD[r.status]}: ${what} on ${r.host}${sched}`;
}

/** Plain text for an email body: errors first, because they are why anyone reads it. */
export function reportText(r: RunReport): string {
  const lines = [reportSubject(r).replace(/^\[bbackup\] /, ''), ''];
  if (r.errors.length > 0) {
    lines.push('Errors:');
    for (const e of r.errors) lines.push(`  - ${e.item}: [${e.code}] ${e.message.split('\n').join('\n    ')}`);
    lines.push('');
  }
  lines.push(
    `event:     ${r.event}`,
    `host:      ${r.host} (bbackup on ${r.machine})`,
    `backup id: ${r.backup_id ?? '-'}`,
    `status:    ${r.status}`,
    `started:   ${r.started}`,
    `duration:  ${r.duration} s`,
    `items:     ${r.items.ok} ok, ${r.items.failed} failed, ${r.items.skipped} skipped of ${r.items.total}`,
    `stored:    ${r.sizes.bytes} bytes in ${r.sizes.files} files`,
  );
  if (r.schedule) lines.push(`schedule:  ${r.schedule}`);
  if (r.drill)
    lines.push(
      `drill:     ${r.drill.id}, recovered in ${r.drill.rto_seconds ?? '-'} s, data ${r.drill.rpo_seconds} s old`,
    );
  return `${lines.join('\n')}\n`;
}
