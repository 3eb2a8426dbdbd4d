// Selecting on the dashboard and starting a backup through the scope dialog.
import { resolveBackupSets } from '../../src/docker/inventory.js';
import { FormModal } from '../dialogs/form.js';
import type { FormRow, FormValues } from '../presenters/form.js';
import type { BackupRequest } from '../engine/types.js';
import type { Selection } from '../state/types.js';
import type { Tui } from '../tui.js';
import { dumpText, rowContainers } from '../presenters/inventory.js';

type Kind = keyof Selection;
const PANE_KINDS: (Kind | undefined)[] = ['containers', 'volumes', 'networks'];

function focusedKind(app: Tui): Kind | undefined {
  return app.currentScreen() === 'dashboard' ? PANE_KINDS[app.dashboard.focus] : undefined;
}

/** The names the focused pane's rows (or the row under the cursor) stand for; a project header stands for its containers. */
function focusedNames(app: Tui, kind: Kind, which: 'current' | 'all'): string[] {
  const d = app.dashboard;
  if (kind === 'containers') {
    const rows = which === 'all' ? d.containers.all() : [d.containers.current()].filter((r) => r !== undefined);
    return [...new Set(rows.flatMap(rowContainers))];
  }
  const pane = kind === 'volumes' ? d.volumes : d.networks;
  const rows = which === 'all' ? pane.all() : [pane.current()].filter((r) => r !== undefined);
  return rows.map((r) => r.name);
}

/** Space: select the row (a project header: all its containers), or unselect it when all of it is selected. */
export function toggleSelect(app: Tui): void {
  const kind = focusedKind(app);
  if (!kind) return;
  const names = focusedNames(app, kind, 'current');
  const set = app.state.selection[kind];
  const all = names.length > 0 && names.every((n) => set.has(n));
  for (const n of names) all ? set.delete(n) : set.add(n);
}

export function selectAll(app: Tui): void {
  const kind = focusedKind(app);
  if (!kind) return;
  const names = focusedNames(app, kind, 'all');
  const set = app.state.selection[kind];
  const all = names.length > 0 && names.every((n) => set.has(n));
  for (const n of names) all ? set.delete(n) : set.add(n);
}

export function pickBackupSet(app: Tui): void {
  const sets = resolveBackupSets(app.state.config, app.state.inventory);
  if (sets.length === 0) return app.notify('info', 'no backup sets in the config (backup.backup_sets)');
  const rows: FormRow[] = [
    { type: 'heading', text: 'Backup sets from the config: Enter selects the members' },
    ...sets.map((s): FormRow => ({
      type: 'button',
      id: s.name,
      label: `${s.name}  ${s.members.length} members${s.missing ? `, ${s.missing} missing` : ''}${s.description ? `  ${s.description}` : ''}`,
    })),
  ];
  const modal = new FormModal(
    'sets',
    app.screen,
    'Backup sets',
    rows,
    (id) => {
      app.closeModal(modal);
      const set = sets.find((s) => s.name === id);
      if (!set) return;
      const sel = app.state.selection;
      for (const k of PANE_KINDS) if (k) sel[k].clear();
      for (const m of set.members) if (!m.missing) sel[`${m.kind}s` as Kind].add(m.name);
      app.notify(
        set.missing ? 'warn' : 'info',
        `backup set ${set.name} selected${set.missing ? ` (${set.missing} missing members left out)` : ''}`,
      );
    },
    () => app.closeModal(modal),
    app.theme,
    'Enter select  Esc cancel',
  );
  app.openModal(modal);
}

export function backupDialog(app: Tui): void {
  const sel = app.state.selection;
  const count = sel.containers.size + sel.volumes.size + sel.networks.size;
  if (count === 0)
    return app.notify(
      'warn',
      'nothing selected: pick containers, volumes or networks with Space (or a backup set with T), then B',
    );
  const cfg = app.state.config;
  const remotes = app.engine.remoteNames();
  const names = (k: Kind) => [...sel[k]].sort().join(', ');
  const rows: FormRow[] = [
    {
      type: 'heading',
      text: `Back up ${sel.containers.size} container(s), ${sel.volumes.size} volume(s), ${sel.networks.size} network(s)`,
    },
    ...(['containers', 'volumes', 'networks'] as Kind[])
      .filter((k) => sel[k].size)
      .map((k): FormRow => ({ type: 'info', text: `${k}: ${names(k)}` })),
    ...dumpRows(app),
    { type: 'heading', text: 'Scope' },
    {
      type: 'toggle',
      id: 'containers',
      label: 'container config (inspect and logs)',
      value: cfg.backup.default_scope.containers,
    },
    {
      type: 'toggle',
      id: 'volumes',
      label: 'volumes (selected, and those the containers use)',
      value: cfg.backup.default_scope.volumes,
    },
    {
      type: 'toggle',
      id: 'networks',
      label: 'networks (selected, and those the containers use)',
      value: cfg.backup.default_scope.networks,
    },
    {
      type: 'choice',
      id: 'mode',
      label: 'Mode',
      options: ['incremental', 'full'],
      index: cfg.incremental.enabled ? 0 : 1,
    },
    ...(remotes.length
      ? [
          { type: 'heading', text: 'Upload to remotes' } as FormRow,
          ...remotes.map((r): FormRow => ({ type: 'toggle', id: `remote:${r}`, label: r, value: true })),
        ]
      : []),
    { type: 'button', id: 'start', label: 'Start backup' },
    { type: 'button', id: 'cancel', label: 'Cancel' },
  ];
  const modal = new FormModal(
    'backup',
    app.screen,
    'Backup',
    rows,
    (id, values) => {
      app.closeModal(modal);
      if (id !== 'start') return;
      void startBackup(app, requestFrom(sel, values, remotes));
    },
    () => app.closeModal(modal),
    app.theme,
  );
  app.openModal(modal);
}

export function requestFrom(sel: Selection, v: FormValues, remotes: string[]): BackupRequest {
  return {
    containers: [...sel.containers].sort(),
    volumes: [...sel.volumes].sort(),
    networks: [...sel.networks].sort(),
    scope: { containers: v.containers === true, volumes: v.volumes === true, networks: v.networks === true },
    full: v.mode === 'full',
    remotes: remotes.filter((r) => v[`remote:${r}`] === true),
  };
}

async function startBackup(app: Tui, req: BackupRequest): Promise<void> {
  if (!req.scope.containers && !req.scope.volumes && !req.scope.networks)
    return app.notify('warn', 'backup not started: the scope is empty');
  await app.runJob(
    (emit) => app.engine.startBackup(req, emit),
    () => {
      app.backups.reload();
      app.refreshInventory(true);
    },
  );
}

/** Which selected containers get a database dump (taken with the volumes). */
export function dumpRows(app: Pick<Tui, 'state'>): FormRow[] {
  const dumps = app.state.inventory.containers
    .filter((c) => app.state.selection.containers.has(c.name))
    .flatMap((c) => {
      const text = dumpText(c);
      return text ? [`${c.name} ${text}`] : [];
    });
  return dumps.length ? [{ type: 'info', text: `database dumps (with volumes): ${dumps.join('; ')}` }] : [];
}
