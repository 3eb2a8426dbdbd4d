// Job controls and overlays that are not screens: pause/resume, skip, cancel, the schedules.
import { scheduleOverview } from '../../src/schedule/overview.js';
import { ConfirmModal, TextModal } from '../dialogs/modal.js';
import { scheduleLines } from '../presenters/chrome.js';
import type { Tui } from '../tui.js';

export function togglePause(app: Tui): void {
  const handles = [...app.handles.values()];
  if (handles.length === 0) return app.notify('info', 'nothing to pause: no job is running');
  const pause = handles.some((h) => !h.paused);
  for (const h of handles) pause ? h.pause() : h.resume();
}

export function skip(app: Tui): void {
  const newest = [...app.handles.values()].pop();
  if (!newest) return app.notify('info', 'nothing to skip: no job is running');
  newest.skip();
}

export function cancelJob(app: Tui): void {
  const newest = [...app.handles.values()].pop();
  if (!newest) return;
  app.openModal(
    new ConfirmModal(
      app.screen,
      'Cancel job',
      [`Cancel job ${newest.id}?`],
      (yes) => {
        app.closeTop();
        if (yes) newest.cancel();
      },
      app.theme,
    ),
  );
}

export function schedules(app: Tui): void {
  scheduleOverview(app.state.config, { next: 3 }).then(
    (o) => {
      const modal: TextModal = new TextModal(
        'schedules',
        app.screen,
        'Schedules',
        () => scheduleLines(o, app.theme),
        () => app.closeModal(modal),
        app.theme,
      );
      app.openModal(modal);
    },
    (err: Error) => app.notify('error', `schedules: ${err.message}`),
  );
}
