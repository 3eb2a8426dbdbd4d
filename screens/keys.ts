// The keymap as data: this one table drives key dispatch (screens and dialogs), the help overlay,
// the status line, the dialogs' key hints and the keys table in the README (screens/gen-keys-doc.ts).
// A binding is one entry: its keys, its words and its handler. Nothing binds a key anywhere else;
// a dialog only takes typed text (a text field, the filter line) before the table is asked.
import type { FormModal } from './dialogs/form.js';
import type { ConfirmModal, PromptModal, TextModal } from './dialogs/modal.js';
import { backupDialog, pickBackupSet, selectAll, toggleSelect } from './flows/backup.js';
import { switchHostDialog } from './flows/hosts.js';
import { cancelJob, schedules, skip, togglePause } from './flows/jobs.js';
import { pullRemote } from './flows/remote.js';
import { restoreDialog, verifyBackup } from './flows/restore.js';
import { fileRestoreDialog, viewFile } from './flows/files.js';
import type { Tui } from './tui.js';
import type { ScreenId } from './views/view.js';

/** What a handler gets, per scope: the app for screens and lists, the dialog itself for dialogs. */
interface Contexts {
  global: Tui;
  dashboard: Tui;
  backups: Tui;
  remotes: Tui;
  log: Tui;
  list: Tui;
  /** a yes/no question */
  confirm: ConfirmModal;
  /** the privilege step of a restore: its own key, so an Enter meant for the plan never accepts */
  allow: ConfirmModal;
  /** restoring marked files: into the live volume, or (T) to a host folder */
  files: ConfirmModal;
  form: FormModal;
  /** read-only text on top: help, details, schedules */
  overlay: TextModal;
  /** the one-line filter prompt */
  prompt: PromptModal;
}

/** global: on every screen; a screen id: only there (wins over global); list: the focused list; the rest: dialogs. */
export type Scope = keyof Contexts;
export type DialogScope = Exclude<Scope, ScreenId | 'global' | 'list'>;

interface BindingIn<S extends Scope> {
  scope: S;
  /** blessed key names (key.full): 'q', 'S-q', 'C-c', 'tab', 'S-tab', 'escape', 'enter', 'space', '?' */
  keys: readonly string[];
  /** what the help and the README show for the keys */
  label: string;
  help: string;
  /** shown in the status line of its scope (a dialog: in its key hints) */
  status?: string;
  run: (ctx: Contexts[S], key: string) => void;
}

export type Binding = { [S in Scope]: BindingIn<S> }[Scope];

/** A dialog on top and the scope of its keys; the dispatcher runs that scope's bindings on it. */
export type DialogTarget = { [S in DialogScope]: { scope: S; dialog: Contexts[S] } }[DialogScope];

const letter = (l: string): string[] => [l, `S-${l}`];
const OVERLAY_CLOSE = ['escape', 'enter', ...letter('q'), ...letter('h'), '?', 'f1'];

export const BINDINGS: readonly Binding[] = [
  {
    scope: 'global',
    keys: [...letter('q'), 'C-c'],
    label: 'Q',
    status: 'quit',
    help: 'quit (asks first while jobs run, then cancels them)',
    run: (t) => t.quit(),
  },
  {
    scope: 'global',
    keys: [...letter('h'), '?', 'f1'],
    label: 'H ?',
    status: 'help',
    help: 'help: every key of this screen and of the dialogs',
    run: (t) => t.toggleHelp(),
  },
  { scope: 'global', keys: ['escape'], label: 'Esc', help: 'back (never quits)', run: (t) => t.back() },
  {
    scope: 'global',
    keys: [...letter('p')],
    label: 'P',
    status: 'pause',
    help: 'pause / resume the running jobs',
    run: (t) => togglePause(t),
  },
  {
    scope: 'global',
    keys: [...letter('s')],
    label: 'S',
    status: 'skip',
    help: 'skip the running item of the newest job',
    run: (t) => skip(t),
  },
  {
    scope: 'global',
    keys: ['tab'],
    label: 'Tab',
    status: 'pane',
    help: 'focus the next pane',
    run: (t) => t.focusBy(1),
  },
  { scope: 'global', keys: ['S-tab'], label: 'Shift-Tab', help: 'focus the previous pane', run: (t) => t.focusBy(-1) },
  {
    scope: 'global',
    keys: ['1', '2', '3', '4', '5', '6', '7', '8', '9'],
    label: '1-9',
    help: 'focus pane N (numbers in the pane titles)',
    run: (t, k) => t.focusIndex(Number(k) - 1),
  },
  {
    scope: 'global',
    keys: [...letter('d'), 'f2'],
    label: 'D F2',
    status: 'dash',
    help: 'dashboard screen',
    run: (t) => t.show('dashboard'),
  },
  {
    scope: 'global',
    keys: [...letter('l'), 'f3'],
    label: 'L F3',
    status: 'backups',
    help: 'backups screen (local store)',
    run: (t) => t.show('backups'),
  },
  {
    scope: 'global',
    keys: [...letter('o'), 'f4'],
    label: 'O F4',
    status: 'remotes',
    help: 'remotes screen (off-site copies)',
    run: (t) => t.show('remotes'),
  },
  {
    scope: 'global',
    keys: [...letter('g'), 'f5'],
    label: 'G F5',
    status: 'log',
    help: 'log viewer',
    run: (t) => t.show('log'),
  },
  {
    scope: 'global',
    keys: [...letter('c')],
    label: 'C',
    help: 'schedules: next runs and the last result of each',
    run: (t) => schedules(t),
  },
  {
    scope: 'global',
    keys: [...letter('e')],
    label: 'E',
    status: 'host',
    help: "switch the Docker host (the config's hosts:): its engine and its store folder",
    run: (t) => switchHostDialog(t),
  },
  { scope: 'list', keys: ['up', 'k'], label: 'Up k', help: 'move up', run: (t) => t.move(-1) },
  { scope: 'list', keys: ['down', 'j'], label: 'Down j', help: 'move down', run: (t) => t.move(1) },
  { scope: 'list', keys: ['pageup', 'C-b'], label: 'PgUp', help: 'page up', run: (t) => t.move(-10) },
  { scope: 'list', keys: ['pagedown', 'C-f'], label: 'PgDn', help: 'page down', run: (t) => t.move(10) },
  { scope: 'list', keys: ['home'], label: 'Home', help: 'first row', run: (t) => t.move(-1e9) },
  { scope: 'list', keys: ['end'], label: 'End', help: 'last row', run: (t) => t.move(1e9) },
  {
    scope: 'list',
    keys: ['/'],
    label: '/',
    status: 'filter',
    help: 'filter the focused list (Esc clears)',
    run: (t) => t.filter(),
  },
  { scope: 'list', keys: ['enter'], label: 'Enter', help: 'open the row under the cursor', run: (t) => t.open() },
  {
    scope: 'dashboard',
    keys: ['space'],
    label: 'Space',
    status: 'select',
    help: 'select / unselect the row under the cursor',
    run: (t) => toggleSelect(t),
  },
  {
    scope: 'dashboard',
    keys: [...letter('a')],
    label: 'A',
    status: 'all',
    help: 'select all / none in the focused pane',
    run: (t) => selectAll(t),
  },
  {
    scope: 'dashboard',
    keys: [...letter('t')],
    label: 'T',
    status: 'sets',
    help: 'pick a backup set from the config',
    run: (t) => pickBackupSet(t),
  },
  {
    scope: 'dashboard',
    keys: [...letter('b')],
    label: 'B',
    status: 'backup',
    help: 'back up the selection (scope dialog first; Enter starts)',
    run: (t) => backupDialog(t),
  },
  {
    scope: 'dashboard',
    keys: [...letter('x')],
    label: 'X',
    help: 'cancel the newest running job (asks first)',
    run: (t) => cancelJob(t),
  },
  {
    scope: 'backups',
    keys: [...letter('r')],
    label: 'R',
    status: 'restore',
    help: "restore the open backup (dialog with renames and a confirmation); in a volume's files: the marked paths",
    run: (t) => (t.inFiles() ? fileRestoreDialog(t) : restoreDialog(t, 'local')),
  },
  {
    scope: 'backups',
    keys: [...letter('v')],
    label: 'V',
    status: 'verify',
    help: "verify the backup under the cursor against its manifest; in a volume's files: view the file",
    run: (t) => (t.inFiles() ? viewFile(t) : verifyBackup(t)),
  },
  {
    scope: 'remotes',
    keys: [...letter('f')],
    label: 'F',
    status: 'pull',
    help: 'pull (fetch) the remote backup under the cursor into the store',
    run: (t) => pullRemote(t),
  },
  {
    scope: 'remotes',
    keys: [...letter('r')],
    label: 'R',
    status: 'restore',
    help: 'restore the remote backup under the cursor (pulls it first)',
    run: (t) => restoreDialog(t, 'remote'),
  },
  {
    scope: 'backups',
    keys: ['space'],
    label: 'Space',
    status: 'mark',
    help: "mark / unmark the file or folder under the cursor (a volume's files, a diff)",
    run: (t) => t.backups.toggleMark(),
  },
  {
    scope: 'backups',
    keys: ['backspace'],
    label: 'Backspace',
    help: 'up one folder in the file browser',
    run: (t) => t.back(),
  },
  {
    scope: 'backups',
    keys: ['='],
    label: '=',
    status: 'diff',
    help: 'compare the volume under the cursor (or open) with the live volume',
    run: (t) => void t.backups.openDiff(),
  },
  { scope: 'remotes', keys: ['C-r'], label: 'Ctrl-R', help: 'list the remotes again', run: (t) => t.remotes.reload() },
  { scope: 'backups', keys: ['C-r'], label: 'Ctrl-R', help: 'read the store again', run: (t) => t.backups.reload() },
  // Dialogs. A form: Enter confirms (the focused button, else the default one, which has the
  // cursor when the dialog opens); a focused text field takes typed letters first.
  {
    scope: 'form',
    keys: ['enter'],
    label: 'Enter',
    status: 'confirm',
    help: 'confirm: press the focused button, else the default one (a text field keeps what was typed)',
    run: (f) => f.confirm(),
  },
  {
    scope: 'form',
    keys: ['space'],
    label: 'Space',
    status: 'toggle',
    help: 'tick / untick the focused box, cycle a choice, press a button',
    run: (f) => f.toggle(),
  },
  {
    scope: 'form',
    keys: ['tab', 'down', 'j'],
    label: 'Tab Down j',
    status: 'move',
    help: 'next field (j types in a text field)',
    run: (f) => f.step(1),
  },
  {
    scope: 'form',
    keys: ['S-tab', 'up', 'k'],
    label: 'Shift-Tab Up k',
    help: 'previous field (k types in a text field)',
    run: (f) => f.step(-1),
  },
  { scope: 'form', keys: ['left'], label: 'Left', help: 'previous option of a choice', run: (f) => f.cycle(-1) },
  { scope: 'form', keys: ['right'], label: 'Right', help: 'next option of a choice', run: (f) => f.cycle(1) },
  { scope: 'form', keys: ['home'], label: 'Home', help: 'first field', run: (f) => f.step(-1e9) },
  { scope: 'form', keys: ['end'], label: 'End', help: 'last field', run: (f) => f.step(1e9) },
  {
    scope: 'form',
    keys: ['backspace'],
    label: 'Backspace',
    help: 'delete the last letter of the focused text field',
    run: (f) => f.erase(),
  },
  { scope: 'form', keys: ['C-u'], label: 'Ctrl-U', help: 'clear the focused text field', run: (f) => f.clearText() },
  {
    scope: 'form',
    keys: ['escape'],
    label: 'Esc',
    status: 'cancel',
    help: 'close the dialog, nothing done',
    run: (f) => f.cancel(),
  },
  {
    scope: 'confirm',
    keys: ['enter', ...letter('y')],
    label: 'Enter y',
    status: 'yes',
    help: 'yes: do what the question says',
    run: (c) => c.answer(true),
  },
  {
    scope: 'confirm',
    keys: ['escape', ...letter('n')],
    label: 'Esc n',
    status: 'no',
    help: 'no: close, nothing done',
    run: (c) => c.answer(false),
  },
  {
    scope: 'allow',
    keys: [...letter('a')],
    label: 'A',
    status: 'allow these and restore',
    help: 'allow the privileges listed and restore (Enter does not)',
    run: (c) => c.answer(true),
  },
  {
    scope: 'allow',
    keys: ['escape', ...letter('n')],
    label: 'Esc n',
    status: 'no',
    help: 'no: restore nothing',
    run: (c) => c.answer(false),
  },
  {
    scope: 'files',
    keys: ['enter', ...letter('y')],
    label: 'Enter y',
    status: 'into the volume',
    help: 'restore the marked paths into the live volume (current versions kept)',
    run: (c) => c.answer(true),
  },
  {
    scope: 'files',
    keys: [...letter('t')],
    label: 'T',
    status: 'to a host folder',
    help: 'restore the marked paths to a host folder (asked next)',
    run: (c) => c.other(),
  },
  {
    scope: 'files',
    keys: ['escape', ...letter('n')],
    label: 'Esc n',
    status: 'no',
    help: 'no: restore nothing',
    run: (c) => c.answer(false),
  },
  { scope: 'overlay', keys: ['down', 'j'], label: 'Down j', help: 'scroll down', run: (o) => o.scroll(1) },
  { scope: 'overlay', keys: ['up', 'k'], label: 'Up k', help: 'scroll up', run: (o) => o.scroll(-1) },
  {
    scope: 'overlay',
    keys: ['pagedown', 'space'],
    label: 'PgDn Space',
    help: 'scroll a page down',
    run: (o) => o.scroll(10),
  },
  { scope: 'overlay', keys: ['pageup'], label: 'PgUp', help: 'scroll a page up', run: (o) => o.scroll(-10) },
  {
    scope: 'overlay',
    keys: OVERLAY_CLOSE,
    label: 'Esc Enter Q H ?',
    status: 'close',
    help: 'close',
    run: (o) => o.close(),
  },
  {
    scope: 'prompt',
    keys: ['enter'],
    label: 'Enter',
    status: 'keep',
    help: 'keep the filter',
    run: (p) => p.done(true),
  },
  {
    scope: 'prompt',
    keys: ['escape'],
    label: 'Esc',
    status: 'clear',
    help: 'clear the filter',
    run: (p) => p.done(false),
  },
  { scope: 'prompt', keys: ['backspace'], label: 'Backspace', help: 'delete a letter', run: (p) => p.erase() },
  { scope: 'prompt', keys: ['C-u'], label: 'Ctrl-U', help: 'clear the line', run: (p) => p.clear() },
];

const bound = <S extends Scope>(scope: S, full: string, table: readonly Binding[]): BindingIn<S> | undefined =>
  table.find((b): b is BindingIn<S> & Binding => b.scope === scope && b.keys.includes(full));

/** The binding a key runs on a screen: the screen's own first, then lists (when a list has focus), then global. */
export function findBinding(
  full: string,
  screen: ScreenId,
  listFocused: boolean,
  table: readonly Binding[] = BINDINGS,
): BindingIn<ScreenId | 'list' | 'global'> | undefined {
  const order: (ScreenId | 'list' | 'global')[] = listFocused ? [screen, 'list', 'global'] : [screen, 'global'];
  for (const scope of order) {
    const hit = bound(scope, full, table);
    if (hit) return hit;
  }
  return undefined;
}

/** Runs a dialog's binding for the key; false when its scope has none. */
export function runDialogKey(target: DialogTarget, full: string, table: readonly Binding[] = BINDINGS): boolean {
  const run = <S extends DialogScope>(b: BindingIn<S> | undefined, ctx: Contexts[S]) => {
    b?.run(ctx, full);
    return b !== undefined;
  };
  switch (target.scope) {
    case 'confirm':
      return run(bound('confirm', full, table), target.dialog);
    case 'allow':
      return run(bound('allow', full, table), target.dialog);
    case 'files':
      return run(bound('files', full, table), target.dialog);
    case 'form':
      return run(bound('form', full, table), target.dialog);
    case 'overlay':
      return run(bound('overlay', full, table), target.dialog);
    case 'prompt':
      return run(bound('prompt', full, table), target.dialog);
  }
}

/** Bindings a screen offers, in table order: its own, the list keys, then the global ones. */
export function bindingsFor(screen: ScreenId, table: readonly Binding[] = BINDINGS): Binding[] {
  return [
    ...table.filter((b) => b.scope === screen),
    ...table.filter((b) => b.scope === 'list'),
    ...table.filter((b) => b.scope === 'global'),
  ];
}

/** A dialog's key hints from its bindings with a status word: "Enter/y yes   Esc/n no". */
export function dialogHints(
  scope: DialogScope,
  bold: (s: string) => string = (s) => s,
  sep = '   ',
  table: readonly Binding[] = BINDINGS,
): string {
  return table
    .filter((b) => b.scope === scope && b.status)
    .map((b) => `${bold(b.label.replaceAll(' ', '/'))} ${b.status}`)
    .join(sep);
}
