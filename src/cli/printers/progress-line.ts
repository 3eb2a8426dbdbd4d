// One line of a progress display, pure so it can be tested: "volume pgdata ████░░ 64%  48.2 MB/s  ETA 0:12".
import { formatBytes, formatDuration } from '../../format/units.js';

export interface ProgressState {
  item: string;
  bytes: number;
  total?: number;
  rate?: number;
  eta?: number;
}

export function progressBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

export function renderProgressLine(s: ProgressState, columns = 80): string {
  const rate = s.rate === undefined ? '' : `  ${formatBytes(s.rate)}/s`;
  const known = s.total !== undefined && s.total > 0;
  const eta = known && s.eta !== undefined ? `  ETA ${formatDuration(s.eta)}` : '';
  const amount = known ? `${formatBytes(s.bytes)} / ${formatBytes(s.total)}` : formatBytes(s.bytes);
  const pct = known ? `${String(Math.min(100, Math.floor((s.bytes * 100) / s.total!))).padStart(3)}%` : '';
  const label = s.item.length > 24 ? `${s.item.slice(0, 23)}…` : s.item.padEnd(24);
  const fixed = `${label} ${pct}  ${amount}${rate}${eta}`;
  const barWidth = Math.max(0, Math.min(30, columns - fixed.length - 2));
  return known && barWidth >= 5
    ? `${label} ${progressBar(s.bytes / s.total!, barWidth)} ${pct}  ${amount}${rate}${eta}`
    : fixed;
}
