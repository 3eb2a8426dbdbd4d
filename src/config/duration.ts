// Durations in the config, restic style but without the month/minute ambiguity: whole weeks, days
// and hours, e.g. "24h", "36h", "7d", "2w", "1d12h"; 0 (or "0") means off.
const DURATION_RE = /^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?$/;
const HOUR = 3_600_000;

export const DURATION_HELP = 'a duration like 24h, 36h, 7d, 2w or 1d12h (weeks w, days d, hours h), or 0 for off';

/** Milliseconds of a config duration, or undefined when it is not one. */
export function parseDuration(value: string | number): number | undefined {
  if (value === 0 || value === '0') return 0;
  if (typeof value !== 'string' || value === '') return undefined;
  const m = DURATION_RE.exec(value.trim());
  if (!m || (m[1] ?? m[2] ?? m[3]) === undefined) return undefined;
  const [w, d, h] = [m[1], m[2], m[3]].map((x) => Number(x ?? 0)) as [number, number, number];
  const ms = ((w * 7 + d) * 24 + h) * HOUR;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
