// The file browser's actions on the backups screen: R restores the marked paths (into the live
// volume, or under a host folder the operator types), V shows one saved file (first 1 MiB; binary
// as hex). The work is the engine's (src/files/); this only asks and reports.
import { ConfirmModal, PromptModal, TextModal } from '../dialogs/modal.js';
import { viewerLines } from '../presenters/files.js';
import type { Tui } from '../tui.js';

const VIEW_MAX = 1 << 20;

export function fileRestoreDialog(app: Tui): void {
  const view = app.backups;
  const m = view.opened;
  const b = view.browse;
  if (!m || !b) return;
  const removedOrChanged = new Set(b.diff?.filter((d) => d.change !== 'added').map((d) => d.path));
  const picked = view.markedPaths();
  const paths = b.diff ? picked.filter((p) => removedOrChanged.has(p)) : picked;
  if (paths.length < picked.length) app.notify('warn', 'paths added since the backup are not in it: left out');
  if (paths.length === 0) return app.notify('info', 'mark files or folders with Space first');
  const shown = paths.slice(0, 15).map((p) => `  ${p}`);
  if (paths.length > shown.length) shown.push(`  … and ${paths.length - shown.length} more`);
  const lines = [
    `${paths.length} path(s) of volume ${b.volume} from backup ${m.id}:`,
    ...shown,
    '',
    'Into the live volume, what they replace is kept as NAME.bbackup-TIME; or to a host folder.',
  ];
  const say = (level: 'info' | 'error', msg: string) => {
    view.status = msg;
    app.notify(level, msg);
  };
  const run = (to?: string) => {
    say('info', `restoring ${paths.length} path(s) of volume ${b.volume}…`);
    app.engine.restorePaths({ id: m.id, volume: b.volume, paths, ...(to ? { to } : { inPlace: true }) }).then(
      (r) => {
        const kept = r.restored.filter((x) => x.keptAs).map((x) => x.keptAs);
        say(
          'info',
          `restored ${r.restored.map((x) => x.path).join(', ')} into ${to ? r.target : `volume ${b.volume}`}${kept.length ? `; kept ${kept.join(', ')}` : ''}`,
        );
        b.marks.clear();
        app.refreshInventory(false);
      },
      (err: Error) => say('error', `file restore failed: ${err.message}`),
    );
  };
  // T: the host-folder variant, asked on the bottom line
  const toFolder = () => {
    app.closeModal(confirm);
    const prompt = new PromptModal(
      app.screen,
      'restore to host folder: ',
      '',
      () => undefined,
      (v) => {
        app.closeModal(prompt);
        if (v && v.trim()) run(v.trim());
      },
    );
    app.openModal(prompt);
  };
  const confirm = new ConfirmModal(
    app.screen,
    `Restore files of ${b.volume}?`,
    lines,
    (yes) => {
      app.closeModal(confirm);
      if (yes) run();
    },
    app.theme,
    'files',
    toFolder,
  );
  app.openModal(confirm);
}

export function viewFile(app: Tui): void {
  const view = app.backups;
  const m = view.opened;
  const b = view.browse;
  const row = view.contents.current();
  const path = row?.entry?.p ?? row?.diff?.path;
  if (!m || !b || path === undefined) return;
  if (row?.entry && row.entry.t !== 'f') return app.notify('info', `${path} is not a file`);
  app.engine.readVolumeFile(m, b.volume, path, VIEW_MAX).then(
    (head) => {
      const lines = viewerLines(head.bytes, head.size);
      const modal = new TextModal(
        'viewer',
        app.screen,
        `${path} (${b.volume} in ${m.id})`,
        () => lines,
        () => app.closeModal(modal),
        app.theme,
      );
      app.openModal(modal);
    },
    (err: Error) => app.notify('error', `view ${path}: ${err.message}`),
  );
}
