// The proof next to each container: the result of its last restore drill (src/drill/record.ts),
// "passed 11-30", "failed 11-30" or "never". Local dates, like the header clock.
import type { LastDrill } from '../../src/drill/record.js';
import type { Color, Theme } from '../theme.js';
import { fit } from './format.js';

/** Width of the containers pane's drill column. */
export const DRILL_W = 12;

const two = (n: number) => String(n).padStart(2, '0');

const word = (d: LastDrill): [string, Color] =>
  d.outcome === 'passed' ? ['passed', 'green'] : d.outcome === 'failed' ? ['failed', 'red'] : ['cancel', 'yellow'];

/** "passed 11-30": outcome and local month-day of the newest drill; "never" without one. */
export function drillMark(d: LastDrill | undefined, t: Theme): string {
  if (!d) return t.paint('gray', fit('never', DRILL_W));
  const at = new Date(d.finished);
  const day = Number.isNaN(at.getTime()) ? '?' : `${two(at.getMonth() + 1)}-${two(at.getDate())}`;
  const [text, color] = word(d);
  return t.paint(color, fit(`${text} ${day}`, DRILL_W));
}

/** The details line: full local time, the drill and the backup it restored. */
export function drillDetail(d: LastDrill | undefined, container: string): string {
  if (!d) return `never (bbackup drill -C ${container})`;
  const at = new Date(d.finished);
  const when = Number.isNaN(at.getTime())
    ? d.finished
    : `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
  return `${word(d)[0] === 'cancel' ? 'cancelled' : word(d)[0]} ${when} (drill ${d.drill} of backup ${d.backup})`;
}
