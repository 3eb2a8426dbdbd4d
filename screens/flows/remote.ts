// Pull a remote backup into the local store (with progress); restore from a remote = pull, then
// the usual restore dialog on the local copy.
import type { Tui } from '../tui.js';

export function pullRemote(app: Tui): void {
  pullThen(app);
}

export function pullThen(app: Tui, next?: (id: string) => void): void {
  const row = app.remotes.backupList.current();
  if (!row) return app.notify('info', 'no remote backup under the cursor (Enter on a remote lists its backups)');
  if (app.state.backups.some((b) => b.id === row.id)) {
    if (next) return next(row.id);
    return app.notify('info', `backup ${row.id} is already in the local store`);
  }
  void app.runJob(
    (emit) => app.engine.startPull(row.remote, row.id, emit),
    (h) =>
      void h.done.then((r) => {
        app.backups.reload();
        if (r.outcome === 'ok') next?.(row.id);
        else app.notify('error', `pull of ${row.id} from ${row.remote} ended ${r.outcome}`);
      }),
  );
}
