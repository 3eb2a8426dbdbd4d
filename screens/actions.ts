// What a key can ask the TUI to do. BINDINGS (keys.ts) maps keys to these; the app implements them.

export type ScreenId = 'dashboard' | 'backups' | 'remotes' | 'log';

export interface Actions {
  quit(): void;
  toggleHelp(): void;
  back(): void;
  togglePause(): void;
  skip(): void;
  cancelJob(): void;
  focusNext(): void;
  focusPrev(): void;
  focusIndex(index: number): void;
  show(screen: ScreenId): void;
  move(delta: number): void;
  filter(): void;
  open(): void;
  toggleSelect(): void;
  selectAll(): void;
  pickBackupSet(): void;
  backupDialog(): void;
  restoreDialog(): void;
  verify(): void;
  pull(): void;
  refresh(): void;
  schedules(): void;
  diff(): void;
}
