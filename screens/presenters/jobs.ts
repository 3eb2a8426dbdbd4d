// The jobs pane and the overall gauge: job -> lines with a gauge, rate and ETA per job and item.
import type { ItemView, JobView } from '../state/types.js';
import { esc, type Theme } from '../theme.js';
import { clip, fit, formatBytes, formatDuration, formatRate, gaugeBar, percent } from './format.js';

export interface JobTotals {
  bytes: number;
  /** undefined while some item's size is unknown */
  total?: number;
  /** bytes/s of the running items */
  rate: number;
  /** 0..1 by bytes when the total is known, else by finished items */
  fraction: number;
  finished: number;
  count: number;
}

const isFinished = (i: ItemView) => i.state === 'done' || i.state === 'failed' || i.state === 'skipped';

/** Sizes the TUI knows from elsewhere (the inventory's volume sizes), by item name: a fallback for
 * items whose job did not announce a total, so gauges and ETAs still mean something. */
export type SizeHints = ReadonlyMap<string, number>;
const NO_HINTS: SizeHints = new Map();

const totalOf = (i: ItemView, hints: SizeHints): number | undefined =>
  i.total ?? (i.total === undefined ? hints.get(i.name) : undefined);

export function jobTotals(job: JobView, hints: SizeHints = NO_HINTS): JobTotals {
  const count = Math.max(job.itemCount, job.items.length);
  const finished = job.items.filter(isFinished).length;
  const bytes = job.items.reduce((a, i) => a + i.bytes, 0);
  const known = job.items.every((i) => totalOf(i, hints) !== undefined || isFinished(i)) && job.items.length > 0;
  // Finished items count with what they moved, so a skipped half does not hold the gauge back.
  const total = known
    ? job.items.reduce((a, i) => a + (isFinished(i) ? i.bytes : Math.max(i.bytes, totalOf(i, hints) ?? 0)), 0)
    : undefined;
  // A paused job moves nothing, whatever the last progress event said.
  const rate = job.paused ? 0 : job.items.reduce((a, i) => a + (i.state === 'running' ? (i.rate ?? 0) : 0), 0);
  const fraction =
    job.ended !== undefined ? 1 : total !== undefined && total > 0 ? bytes / total : count > 0 ? finished / count : 0;
  return { bytes, total, rate, fraction, finished, count };
}

const outcomeText = (job: JobView, t: Theme): string => {
  switch (job.outcome) {
    case 'ok':
      return t.paint('green', `${t.glyphs.check} done`);
    case 'partial':
      return t.paint('yellow', 'partial');
    case 'failed':
      return t.paint('red', `${t.glyphs.cross} failed`);
    case 'cancelled':
      return t.paint('yellow', 'cancelled');
    default:
      return '';
  }
};

function itemLine(i: ItemView, width: number, t: Theme, hints: SizeHints): string {
  const nameW = Math.max(10, Math.min(40, Math.floor(width * 0.42)));
  const name = esc(fit(i.name, nameW));
  switch (i.state) {
    case 'queued':
      return `  ${name} ${t.paint('gray', 'queued')}`;
    case 'running': {
      const total = totalOf(i, hints);
      const fraction = total ? Math.min(1, i.bytes / total) : undefined;
      const tail = `${percent(fraction)} ${formatBytes(i.bytes).padStart(8)} ${formatRate(i.rate).padStart(11)}${i.eta !== undefined ? ` ETA ${formatDuration(i.eta)}` : ''}`;
      const barW = Math.max(6, width - nameW - tail.length - 4);
      return `  ${name} ${t.paint('cyan', gaugeBar(fraction, barW, t))} ${tail}`;
    }
    case 'done':
      return `  ${name} ${t.paint('green', t.glyphs.check)} done ${formatBytes(i.bytes)}`;
    case 'skipped':
      return `  ${name} ${t.paint('yellow', `${t.glyphs.skip} skipped`)}${i.detail ? ` ${esc(clip(i.detail, Math.max(0, width - nameW - 14)))}` : ''}`;
    case 'failed':
      return `  ${name} ${t.paint('red', `${t.glyphs.cross} failed`)} ${esc(clip(i.detail ?? '', Math.max(0, width - nameW - 14)))}`;
  }
}

/** An item's row, and under it what does not fit beside the gauge: a running upload's bytes sent
 * and already on the remote (issue 14), a finished item's detail ("sent 1.2 MB, 8.8 MB already there"). */
function itemLines(i: ItemView, width: number, t: Theme, hints: SizeHints): string[] {
  const under =
    i.state === 'running' && i.sent !== undefined
      ? `sent ${formatBytes(i.sent)}, ${formatBytes(i.skipped ?? 0)} already there`
      : i.state === 'done'
        ? i.detail
        : undefined;
  const row = itemLine(i, width, t, hints);
  return under ? [row, `    ${t.paint('gray', esc(clip(under, Math.max(10, width - 4))))}`] : [row];
}

/** A job's header line with its gauge, then one line per item (running first, then queued, then finished). */
export function jobLines(job: JobView, width: number, t: Theme, hints: SizeHints = NO_HINTS): string[] {
  const tot = jobTotals(job, hints);
  const titleW = Math.max(12, Math.min(34, Math.floor(width * 0.4)));
  const title = t.bold(esc(fit(job.title.startsWith(job.kind) ? job.title : `${job.kind} ${job.title}`, titleW)));
  let tail: string;
  if (job.ended !== undefined)
    tail = `${outcomeText(job, t)} ${formatBytes(tot.bytes)} ${tot.finished}/${tot.count} items${job.backupId ? ` ${job.backupId}` : ''}`;
  else {
    const eta =
      tot.total !== undefined && tot.rate > 0 ? ` ETA ${formatDuration((tot.total - tot.bytes) / tot.rate)}` : '';
    const text = `${percent(tot.fraction)} ${formatRate(tot.rate).padStart(11)}${eta}`;
    const state = job.paused ? ` ${t.paint('yellow', 'PAUSED')}` : '';
    const barW = Math.max(4, width - titleW - text.length - (job.paused ? 7 : 0) - 3);
    tail = `${t.paint(job.paused ? 'yellow' : 'green', gaugeBar(tot.fraction, Math.min(barW, 30), t))} ${text}${state}`;
  }
  const order = { running: 0, queued: 1, failed: 2, skipped: 3, done: 4 } as const;
  const items = [...job.items].sort((a, b) => order[a.state] - order[b.state]);
  return [`${title} ${tail}`, ...items.flatMap((i) => itemLines(i, width, t, hints))];
}

/** The overall line: every running job together (or the last job once all ended). */
export function overallLine(
  jobs: JobView[],
  width: number,
  now: number,
  t: Theme,
  hints: SizeHints = NO_HINTS,
): string {
  const running = jobs.filter((j) => j.ended === undefined);
  const shown = running.length > 0 ? running : jobs.slice(-1);
  if (shown.length === 0) return ` Overall ${t.paint('gray', 'idle: select with Space, back up with B')}`;
  const totals = shown.map((j) => jobTotals(j, hints));
  const bytes = totals.reduce((a, x) => a + x.bytes, 0);
  const allKnown = totals.every((x) => x.total !== undefined);
  const total = allKnown ? totals.reduce((a, x) => a + (x.total ?? 0), 0) : undefined;
  const rate = totals.reduce((a, x) => a + x.rate, 0);
  const fraction =
    running.length === 0 ? 1 : total ? bytes / total : totals.reduce((a, x) => a + x.fraction, 0) / totals.length;
  const started = Math.min(...shown.map((j) => j.started));
  const ended = running.length === 0 ? Math.max(...shown.map((j) => j.ended ?? now)) : now;
  const eta =
    running.length > 0 && total !== undefined && rate > 0 ? `  ETA ${formatDuration((total - bytes) / rate)}` : '';
  const paused = running.length > 0 && running.every((j) => j.paused) ? `  ${t.paint('yellow', 'PAUSED')}` : '';
  const amount = total !== undefined ? `${formatBytes(bytes)} / ${formatBytes(total)}` : formatBytes(bytes);
  const text = `${percent(fraction)}  ${amount}  elapsed ${formatDuration((ended - started) / 1000)}${eta}`;
  const barW = Math.max(6, Math.min(40, width - 10 - text.length - 12));
  return ` Overall ${t.paint('green', gaugeBar(fraction, barW, t))} ${text}${paused}`;
}
