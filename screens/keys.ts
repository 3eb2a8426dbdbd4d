// The keymap as data: this one table drives key dispatch, the help overlay, the status line and
// the keys table in the README (screens/gen-keys-doc.ts). Nothing binds a key anywhere else.
import type { Actions, ScreenId } from './actions.js';

/** global: on every screen; a screen id: only there (wins over global); list: the focused list. */
export type Scope = 'global' | ScreenId | 'list';

export interface Binding {
  scope: Scope;
  /** blessed key names (key.full): 'q', 'S-q', 'C-c', 'tab', 'S-tab', 'escape', 'enter', 'space', '?' */
  keys: readonly string[];
  /** what the help and the README show for the keys */
  label: string;
  help: string;
  /** shown in the status line of its scope */
  status?: string;
  run: (a: Actions, key: string) => void;
}

const letter = (l: string): string[] => [l, `S-${l}`];

export const BINDINGS: readonly Binding[] = [
  {
    scope: 'global',
    keys: [...letter('q'), 'C-c'],
    label: 'Q',
    status: 'quit',
    help: 'quit (asks first while jobs run, then cancels them)',
    run: (a) => a.quit(),
  },
  {
    scope: 'global',
    keys: [...letter('h'), '?', 'f1'],
    label: 'H ?',
    status: 'help',
    help: 'help: every key of this screen',
    run: (a) => a.toggleHelp(),
  },
  {
    scope: 'global',
    keys: ['escape'],
    label: 'Esc',
    help: 'back / close the dialog (never quits)',
    run: (a) => a.back(),
  },
  {
    scope: 'global',
    keys: [...letter('p')],
    label: 'P',
    status: 'pause',
    help: 'pause / resume the running jobs',
    run: (a) => a.togglePause(),
  },
  {
    scope: 'global',
    keys: [...letter('s')],
    label: 'S',
    status: 'skip',
    help: 'skip the running item of the newest job',
    run: (a) => a.skip(),
  },
  {
    scope: 'global',
    keys: ['tab'],
    label: 'Tab',
    status: 'pane',
    help: 'focus the next pane',
    run: (a) => a.focusNext(),
  },
  { scope: 'global', keys: ['S-tab'], label: 'Shift-Tab', help: 'focus the previous pane', run: (a) => a.focusPrev() },
  {
    scope: 'global',
    keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
    label: '1-9',
    help: 'focus pane N (numbers in the pane titles)',
    run: (a, k) => a.focusIndex(Number(k) - 1),
  },
  {
    scope: 'global',
    keys: [...letter('d'), 'f2'],
    label: 'D F2',
    status: 'dash',
    help: 'dashboard screen',
    run: (a) => a.show('dashboard'),
  },
  {
    scope: 'global',
    keys: [...letter('l'), 'f3'],
    label: 'L F3',
    status: 'backups',
    help: 'backups screen (local store)',
    run: (a) => a.show('backups'),
  },
  {
    scope: 'global',
    keys: [...letter('o'), 'f4'],
    label: 'O F4',
    status: 'remotes',
    help: 'remotes screen (off-site copies)',
    run: (a) => a.show('remotes'),
  },
  {
    scope: 'global',
    keys: [...letter('g'), 'f5'],
    label: 'G F5',
    status: 'log',
    help: 'log viewer',
    run: (a) => a.show('log'),
  },
  {
    scope: 'global',
    keys: [...letter('c')],
    label: 'C',
    help: 'schedules: next runs and the last result of each',
    run: (a) => a.schedules(),
  },
  { scope: 'list', keys: ['up', 'k'], label: 'Up k', help: 'move up', run: (a) => a.move(-1) },
  { scope: 'list', keys: ['down', 'j'], label: 'Down j', help: 'move down', run: (a) => a.move(1) },
  { scope: 'list', keys: ['pageup', 'C-b'], label: 'PgUp', help: 'page up', run: (a) => a.move(-10) },
  { scope: 'list', keys: ['pagedown', 'C-f'], label: 'PgDn', help: 'page down', run: (a) => a.move(10) },
  { scope: 'list', keys: ['home'], label: 'Home', help: 'first row', run: (a) => a.move(-1e9) },
  { scope: 'list', keys: ['end'], label: 'End', help: 'last row', run: (a) => a.move(1e9) },
  {
    scope: 'list',
    keys: ['/'],
    label: '/',
    status: 'filter',
    help: 'filter the focused list (Esc clears)',
    run: (a) => a.filter(),
  },
  { scope: 'list', keys: ['enter'], label: 'Enter', help: 'open the row under the cursor', run: (a) => a.open() },
  {
    scope: 'dashboard',
    keys: ['space'],
    label: 'Space',
    status: 'select',
    help: 'select / unselect the row under the cursor',
    run: (a) => a.toggleSelect(),
  },
  {
    scope: 'dashboard',
    keys: [...letter('a')],
    label: 'A',
    status: 'all',
    help: 'select all / none in the focused pane',
    run: (a) => a.selectAll(),
  },
  {
    scope: 'dashboard',
    keys: [...letter('t')],
    label: 'T',
    status: 'sets',
    help: 'pick a backup set from the config',
    run: (a) => a.pickBackupSet(),
  },
  {
    scope: 'dashboard',
    keys: [...letter('b')],
    label: 'B',
    status: 'backup',
    help: 'back up the selection (scope dialog first)',
    run: (a) => a.backupDialog(),
  },
  {
    scope: 'dashboard',
    keys: [...letter('x')],
    label: 'X',
    help: 'cancel the newest running job (asks first)',
    run: (a) => a.cancelJob(),
  },
  {
    scope: 'backups',
    keys: [...letter('r')],
    label: 'R',
    status: 'restore',
    help: "restore the open backup (dialog with renames and a confirmation); in a volume's files: the marked paths",
    run: (a) => a.restoreDialog(),
  },
  {
    scope: 'backups',
    keys: [...letter('v')],
    label: 'V',
    status: 'verify',
    help: "verify the backup under the cursor against its manifest; in a volume's files: view the file",
    run: (a) => a.verify(),
  },
  {
    scope: 'remotes',
    keys: [...letter('f')],
    label: 'F',
    status: 'pull',
    help: 'pull (fetch) the remote backup under the cursor into the store',
    run: (a) => a.pull(),
  },
  {
    scope: 'remotes',
    keys: [...letter('r')],
    label: 'R',
    status: 'restore',
    help: 'restore the remote backup under the cursor (pulls it first)',
    run: (a) => a.restoreDialog(),
  },
  {
    scope: 'backups',
    keys: ['space'],
    label: 'Space',
    status: 'mark',
    help: "mark / unmark the file or folder under the cursor (a volume's files, a diff)",
    run: (a) => a.toggleSelect(),
  },
  {
    scope: 'backups',
    keys: ['backspace'],
    label: 'Backspace',
    help: 'up one folder in the file browser',
    run: (a) => a.back(),
  },
  {
    scope: 'backups',
    keys: ['='],
    label: '=',
    status: 'diff',
    help: 'compare the volume under the cursor (or open) with the live volume',
    run: (a) => a.diff(),
  },
  { scope: 'remotes', keys: ['C-r'], label: 'Ctrl-R', help: 'list the remotes again', run: (a) => a.refresh() },
  { scope: 'backups', keys: ['C-r'], label: 'Ctrl-R', help: 'read the store again', run: (a) => a.refresh() },
];

/** The binding a key runs on a screen: the screen's own first, then lists (when a list has focus), then global. */
export function findBinding(
  full: string,
  screen: ScreenId,
  listFocused: boolean,
  table: readonly Binding[] = BINDINGS,
): Binding | undefined {
  const order: Scope[] = listFocused ? [screen, 'list', 'global'] : [screen, 'global'];
  for (const scope of order) {
    const hit = table.find((b) => b.scope === scope && b.keys.includes(full));
    if (hit) return hit;
  }
  return undefined;
}

/** Bindings a screen offers, in table order: its own, the list keys, then the global ones. */
export function bindingsFor(screen: ScreenId, table: readonly Binding[] = BINDINGS): Binding[] {
  return [
    ...table.filter((b) => b.scope === screen),
    ...table.filter((b) => b.scope === 'list'),
    ...table.filter((b) => b.scope === 'global'),
  ];
}
