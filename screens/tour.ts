// First steps in the TUI: one list, printed by `npm run demo` before the TUI opens and shown at the
// top of the help overlay (H), so the two never disagree. Every key here is a key of BINDINGS
// (checked in test/unit/presenters.test.ts).
export interface TourStep {
  /** the key as the help and the status line name it */
  key: string;
  what: string;
}

export const TOUR_TITLE = 'First steps';

export const TOUR: readonly TourStep[] = [
  { key: 'B', what: 'back up what is selected (Space selects, A all; scope dialog first)' },
  { key: 'L', what: 'local backups: Enter opens one, R restores it under a new name' },
  { key: 'O', what: 'remotes: Enter lists backups, F pulls one here, R restores it' },
  { key: 'C', what: 'schedules: the next runs and the last result of each' },
  { key: 'T', what: 'pick a backup set from the config, then B' },
  { key: 'H', what: 'help: every key of this screen (Esc goes back, Q quits)' },
];

/** The tour as plain text rows, "  B  back up ..." (the help overlay adds emphasis itself). */
export function tourRows(indent = '  '): string[] {
  return TOUR.map((s) => `${indent}${s.key}  ${s.what}`);
}
