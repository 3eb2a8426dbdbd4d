// The header, the status line of keys, the help overlay and the rate chart's series.
import type { ScheduleOverview } from '../../src/schedule/overview.js';
import { BINDINGS, bindingsFor, type Binding, type DialogScope } from '../keys.js';
import type { Notice, TuiState } from '../state/types.js';
import { esc, type Theme } from '../theme.js';
import { TOUR, TOUR_TITLE } from '../tour.js';
import type { ScreenId } from '../views/view.js';
import { clip, clock, formatBytes, formatRate } from './format.js';

const SCREEN_TITLES: Record<ScreenId, string> = {
  dashboard: 'dashboard',
  backups: 'backups',
  remotes: 'remotes',
  log: 'log',
};

export function headerLine(s: TuiState, screen: ScreenId, now: number, width: number, t: Theme): string {
  const free = s.host.freePercent !== undefined ? ` (${s.host.freePercent}% free)` : '';
  const left = ` bbackup ${t.glyphs.sep} ${SCREEN_TITLES[screen]} ${t.glyphs.sep} host ${s.host.name} ${t.glyphs.sep} docker ${s.host.docker} ${t.glyphs.sep} store ${s.host.store}${free}`;
  const right = `${clock(now).slice(0, 5)} `;
  const room = Math.max(0, width - right.length - 1);
  return `${esc(clip(left, room)).padEnd(room)} ${right}`;
}

/** The status line: the screen's keys that have a short status label, as many as fit. */
export function statusLine(screen: ScreenId, width: number, t: Theme, table?: readonly Binding[]): string {
  const parts: string[] = [];
  let used = 1;
  for (const b of bindingsFor(screen, table)) {
    if (!b.status) continue;
    const key = b.label.split(' ')[0]!;
    const piece = `${key} ${b.status}`;
    if (used + piece.length + 2 > width) break;
    used += piece.length + 2;
    parts.push(`${t.bold(esc(key))} ${b.status}`);
  }
  return ` ${parts.join('  ')}`;
}

const DIALOG_TITLES: Record<DialogScope, string> = {
  form: 'In a form dialog (backup, restore, sets, hosts)',
  confirm: 'In a yes/no question',
  allow: 'In the privilege step of a restore',
  files: 'In the question before restoring marked files',
  overlay: 'In this help and other text on top',
  prompt: 'In the / filter line',
};

/** The first steps (screens/tour.ts), every key of the screen, then the dialogs' keys: label column and what it does. */
export function helpLines(screen: ScreenId, t: Theme, table: readonly Binding[] = BINDINGS): string[] {
  const rows = bindingsFor(screen, table);
  const dialogs = Object.keys(DIALOG_TITLES) as DialogScope[];
  const w = Math.max(
    ...[...rows, ...table.filter((b) => dialogs.some((d) => d === b.scope))].map((b) => b.label.length),
  );
  const section = (title: string, list: Binding[]) =>
    list.length ? [t.bold(title), ...list.map((b) => `  ${esc(b.label.padEnd(w))}  ${esc(b.help)}`), ''] : [];
  return [
    t.bold(TOUR_TITLE),
    ...TOUR.map((s) => `  ${t.bold(esc(s.key))}  ${esc(s.what)}`),
    '',
    ...section(
      `This screen (${SCREEN_TITLES[screen]})`,
      rows.filter((b) => b.scope === screen),
    ),
    ...section(
      'Lists',
      rows.filter((b) => b.scope === 'list'),
    ),
    ...section(
      'Everywhere',
      rows.filter((b) => b.scope === 'global'),
    ),
    ...dialogs.flatMap((d) =>
      section(
        DIALOG_TITLES[d],
        table.filter((b) => b.scope === d),
      ),
    ),
    t.paint('gray', 'Esc, H or ? closes this help'),
  ];
}

export function noticeLine(n: Notice, width: number, t: Theme): string {
  const color = n.level === 'error' ? 'red' : n.level === 'warn' ? 'yellow' : 'gray';
  const head = `${clock(n.time)} ${n.level.toUpperCase().padEnd(5)}`;
  return `${t.paint(color, head)} ${esc(clip(n.msg.replace(/\s*\n\s*/g, ' | '), Math.max(0, width - head.length - 1)))}`;
}

export interface RateSeries {
  x: string[];
  y: number[];
  /** y in the chart's unit */
  unit: string;
  max: string;
  now: string;
  /** the highest sample shown, in bytes per second */
  peak: number;
}

const RATE_UNITS: [number, string][] = [
  [1024 ** 3, 'GB/s'],
  [1024 ** 2, 'MB/s'],
  [1024, 'KB/s'],
  [1, 'B/s'],
];

/** The last `points` samples scaled into one unit, labelled in seconds ago. */
export function rateSeries(rates: number[], points: number): RateSeries {
  const slice = rates.slice(-points);
  const padded = [...Array<number>(Math.max(0, points - slice.length)).fill(0), ...slice];
  const peak = Math.max(0, ...padded);
  const [div, unit] = RATE_UNITS.find(([d]) => peak >= d) ?? RATE_UNITS[RATE_UNITS.length - 1]!;
  const x = padded.map((_, i) => {
    const ago = padded.length - 1 - i;
    return ago % 30 === 0 ? `-${ago}s` : ' ';
  });
  return {
    x,
    y: padded.map((v) => Math.round((v / div) * 10) / 10),
    unit,
    max: formatRate(peak),
    now: formatRate(slice[slice.length - 1] ?? 0),
    peak,
  };
}

/**
 * The rate chart's title, in words: the axis unit named once, the span, then now and the peak.
 * Plain punctuation only: a `·` there is drawn as `~` by terminals that take it from the ACS set.
 */
export function rateTitle(s: RateSeries, seconds: number): string {
  if (s.peak <= 0) return `Transfer rate, last ${seconds} s: idle`;
  return `Transfer rate in ${s.unit}, last ${seconds} s: now ${s.now}, peak ${s.max}`;
}

export { formatBytes };

const EIGHTHS = ['', '▁', '▂', '▃', '▄', '▅', '▆', '▇'];

/** Columns of bars, newest at the right, as `height` text rows (for terminals without colour or unicode). */
export function barChart(values: number[], width: number, height: number, unicode: boolean): string[] {
  const tail = values.slice(-width);
  const cols = [...Array<number>(Math.max(0, width - tail.length)).fill(0), ...tail];
  const peak = Math.max(0, ...cols);
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--) {
    rows.push(
      cols
        .map((v) => {
          const level = peak > 0 ? (v / peak) * height : 0;
          if (level >= r + 1) return unicode ? '█' : '#';
          const part = level - r;
          if (part <= 0) return ' ';
          return unicode ? EIGHTHS[Math.max(1, Math.round(part * 7))]! : '.';
        })
        .join(''),
    );
  }
  return rows;
}

/** The schedules overview (C): each schedule's next runs and its last result. */
export function scheduleLines(o: ScheduleOverview, t: Theme): string[] {
  if (o.schedules.length === 0) return ['No schedules in the config (schedule: section).'];
  const daemon = o.daemon
    ? `daemon pid ${o.daemon.pid} ${o.daemon.alive ? t.paint('green', 'running') : t.paint('red', 'not running')}, last seen ${o.daemon.lastSeen}`
    : t.paint('yellow', 'no daemon has run (bbackup daemon, or the systemd timers)');
  const lines = [daemon, ''];
  for (const s of o.schedules) {
    const status = s.inProgress
      ? t.paint('cyan', 'running')
      : s.last.lastStatus
        ? s.last.lastStatus === 'ok'
          ? t.paint('green', 'ok')
          : t.paint('red', esc(String(s.last.lastStatus)))
        : 'never ran';
    lines.push(
      t.bold(esc(`${s.name}${s.enabled ? '' : ' (disabled)'}`)) +
        esc(`  ${s.cron}  ${s.what}${s.host ? `  host ${s.host}` : ''}`),
    );
    lines.push(`  next  ${esc(s.next.join(', ') || '-')}`);
    lines.push(
      `  last  ${status}${s.last.lastEnd ? esc(` at ${s.last.lastEnd}`) : ''}${s.last.lastBackupId ? esc(` backup ${s.last.lastBackupId}`) : ''}${s.last.lastError ? esc(`: ${s.last.lastError}`) : ''}`,
    );
  }
  return lines;
}
