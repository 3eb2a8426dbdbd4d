// Restore: a dialog of what to bring back and under which names, then a confirmation that says
// exactly what will be created or replaced, then the job. Verify runs from here too.
import type { Manifest } from '../../src/store/manifest.js';
import { ConfirmModal } from '../dialogs/modal.js';
import { FormModal } from '../dialogs/form.js';
import type { RestoreRequest } from '../engine/types.js';
import { restoreRequest, restoreRows } from './restore-form.js';
import { privilegeConfirmLines, restoreConfirmLines } from '../presenters/backups.js';
import type { Tui } from '../tui.js';
import { pullThen } from './remote.js';

export function restoreDialog(app: Tui, from: 'local' | 'remote'): void {
  if (from === 'remote') return pullThen(app, (id) => void openRestore(app, id));
  const opened = app.backups.opened;
  const id = app.backups.focus === 1 && opened ? opened.id : (app.backups.list.current()?.id ?? opened?.id);
  if (!id) return app.notify('info', 'no backup under the cursor');
  void openRestore(app, id);
}

async function openRestore(app: Tui, id: string): Promise<void> {
  let m: Manifest;
  try {
    m = await app.engine.readManifest(id);
  } catch (err) {
    return app.notify('error', `backup ${id}: ${(err as Error).message}`);
  }
  const rows = restoreRows(m);
  const modal = new FormModal(
    'restore',
    app.screen,
    `Restore ${m.id}`,
    rows,
    (button, values) => {
      if (button === 'cancel') return app.closeModal(modal);
      const req = restoreRequest(m, values);
      void confirmRestore(app, req, () => app.closeModal(modal));
    },
    () => app.closeModal(modal),
    app.theme,
    'review',
  );
  app.openModal(modal);
}

async function confirmRestore(app: Tui, req: RestoreRequest, closeForm: () => void): Promise<void> {
  if (req.containers.length + req.volumes.length + req.networks.length === 0)
    return app.notify('warn', 'nothing ticked to restore');
  let preview;
  try {
    preview = await app.engine.previewRestore(req);
  } catch (err) {
    return app.notify('error', `restore plan: ${(err as Error).message}`);
  }
  const lines = restoreConfirmLines(preview, req.force, app.theme);
  const blocked = preview.problems.length > 0 || (preview.conflicts.length > 0 && !req.force);
  if (blocked) lines.push('', 'Cannot start: fix the above (rename, or tick force), or Esc.');
  const start = (allowPrivileged: string[]) => {
    closeForm();
    void app.runJob(
      (emit) => app.engine.startRestore({ ...req, allowPrivileged }, emit),
      () => app.refreshInventory(true),
    );
    app.show('dashboard');
  };
  const confirm = new ConfirmModal(
    app.screen,
    `Restore ${req.id}?`,
    lines,
    (yes) => {
      app.closeModal(confirm);
      if (!yes || blocked) return;
      if (preview.privileges.length === 0) return start([]);
      // Its own step, with its own key (the 'allow' scope): an Enter meant for the plan never accepts privileges.
      const allow = new ConfirmModal(
        app.screen,
        'Allow privileges on this host?',
        privilegeConfirmLines(preview.privileges, app.theme),
        (ok) => {
          app.closeModal(allow);
          if (ok) start(preview.privileges);
        },
        app.theme,
        'allow',
      );
      app.openModal(allow);
    },
    app.theme,
  );
  app.openModal(confirm);
}

export function verifyBackup(app: Tui): void {
  const id = app.backups.list.current()?.id;
  if (!id) return app.notify('info', 'no backup under the cursor');
  void app.runJob((emit) => app.engine.startVerify(id, emit));
}
