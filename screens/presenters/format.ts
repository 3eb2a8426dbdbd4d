// Small text helpers shared by the presenters. Widths count characters, which is right for the
// names and glyphs we print (no wide CJK in Docker names).
import { formatBytes, formatDuration } from '../../src/format/units.js';
import type { Theme } from '../theme.js';

export { formatBytes, formatDuration };

export const formatRate = (bytesPerSecond: number | undefined): string =>
  bytesPerSecond === undefined ? '-' : `${formatBytes(Math.round(bytesPerSecond))}/s`;

export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text.padEnd(width);
  return width === 1 ? text.slice(0, 1) : `${text.slice(0, width - 1)}~`;
}

export function clip(text: string, width: number): string {
  return text.length <= width ? text : width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}~`;
}

/** A text gauge of `width` cells: ██████░░░░ (or ######----). */
export function gaugeBar(fraction: number | undefined, width: number, t: Theme): string {
  if (width <= 0) return '';
  const f = fraction === undefined || !Number.isFinite(fraction) ? 0 : Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return t.glyphs.full.repeat(full) + t.glyphs.empty.repeat(width - full);
}

export const percent = (fraction: number | undefined): string =>
  fraction === undefined || !Number.isFinite(fraction)
    ? '  -%'
    : `${String(Math.floor(Math.min(1, Math.max(0, fraction)) * 100)).padStart(3)}%`;

/** HH:MM:SS of a local time, for the header clock and the error pane. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** A backup id 20261124T230501Z as "2026-11-24 23:05:01Z". */
export function idTime(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}Z` : id;
}
