// The remotes screen: the configured remotes with their figures (backups, stored size, dedup
// ratio, what a new backup would add: computed by the engine) and the backups each one holds. F
// pulls the backup under the cursor into the local store, R restores it (pulled first).
import blessed from 'blessed';
import { remoteRowText } from '../presenters/backups.js';
import { jobLines } from '../presenters/jobs.js';
import { remoteStatsText } from '../presenters/remotes.js';
import { fit } from '../presenters/format.js';
import type { RemoteRow, TuiState } from '../state/types.js';
import type { Tui } from '../tui.js';
import { Pane, place, type Rect } from '../widgets/pane.js';
import type { View } from './view.js';

interface RemoteEntry {
  name: string;
  type: string;
  where: string;
  stats: string;
}

export class RemotesView implements View {
  readonly id = 'remotes' as const;
  readonly root: blessed.Widgets.BoxElement;
  readonly remoteList: Pane<RemoteEntry>;
  readonly backupList: Pane<RemoteRow>;
  readonly panes;
  focus = 0;
  private loadedFor?: string;
  private abort?: AbortController;
  private statsAbort?: AbortController;
  private readonly jobsLine: blessed.Widgets.BoxElement;

  constructor(private readonly app: Tui) {
    const t = app.theme;
    this.root = blessed.box({ parent: app.screen, top: 1, left: 0, width: '100%', height: '100%-2' });
    this.remoteList = new Pane(
      this.root,
      {
        title: 'Remotes',
        cursor: true,
        key: (r) => r.name,
        search: (r) => [r.name, r.type],
        render: (r) => blessed.escape(`${fit(r.name, 12)} ${fit(r.type, 6)}  ${r.stats}  ${r.where}`),
        empty: 'no remotes configured (remotes: in the config)',
      },
      t,
    );
    this.backupList = new Pane(
      this.root,
      {
        title: 'Remote backups',
        cursor: true,
        key: (r) => `${r.remote}/${r.id}`,
        search: (r) => [r.id, r.host ?? ''],
        render: (r, w) => blessed.escape(remoteRowText(r, w)),
        empty: 'Enter on a remote lists its backups',
      },
      t,
    );
    this.panes = [this.remoteList, this.backupList];
    this.panes.forEach((p, i) => (p.index = i));
    this.jobsLine = blessed.box({ parent: this.root, height: 2, tags: true });
  }

  layout(a: Rect): void {
    const listH = Math.max(4, Math.min(10, Math.floor(a.height * 0.3)));
    place(this.remoteList.box, { top: 0, left: 0, width: a.width, height: listH });
    place(this.backupList.box, { top: listH, left: 0, width: a.width, height: a.height - listH - 2 });
    place(this.jobsLine, { top: a.height - 2, left: 0, width: a.width, height: 2 });
  }

  sync(s: TuiState): void {
    this.remoteList.setRows(
      Object.entries(s.config.remotes).map(([name, r]) => ({
        name,
        type: r.enabled ? r.type : `${r.type} (disabled)`,
        where: r.type === 'local' ? r.path : r.type === 'rclone' ? r.remote : `${r.user}@${r.host}:${r.path}`,
        stats: r.enabled ? remoteStatsText(s.remoteStats[name]) : '',
      })),
    );
    this.backupList.opts.title = this.loadedFor
      ? `Backups on ${this.loadedFor}${s.remotesLoading ? ' (listing...)' : ''}: F pull, R restore`
      : 'Remote backups';
    this.backupList.setRows(s.remotes);
    const w = Number(this.jobsLine.width);
    const running = s.jobs.filter((j) => j.ended === undefined || j.kind === 'pull').slice(-2);
    this.jobsLine.setContent(
      running.map((j) => jobLines(j, w, this.app.theme)[0]).join('\n') ||
        (s.remotesError ? blessed.escape(`remote: ${s.remotesError}`) : ''),
    );
    for (const p of this.panes) p.draw();
  }

  enter(): void {
    this.loadStats();
    if (!this.loadedFor) {
      const first = Object.keys(this.app.state.config.remotes)[0];
      if (first) this.load(first);
    }
  }

  reload(): void {
    this.loadStats();
    const name = this.loadedFor ?? this.remoteList.current()?.name;
    if (name) this.load(name);
  }

  open(): void {
    if (this.focus === 0) {
      const r = this.remoteList.current();
      if (r) this.load(r.name);
      this.focus = 1;
    }
  }

  back(): boolean {
    if (this.focus === 1) {
      this.focus = 0;
      return true;
    }
    return false;
  }

  /** Every enabled remote's figures, one remote at a time; a new round aborts the one running. */
  loadStats(): void {
    this.statsAbort?.abort();
    const abort = (this.statsAbort = new AbortController());
    const s = this.app.state;
    const names = Object.entries(s.config.remotes)
      .filter(([, r]) => r.enabled)
      .map(([n]) => n);
    for (const n of names) s.remoteStats[n] = { loading: true };
    void (async () => {
      for (const name of names) {
        if (abort.signal.aborted) return;
        try {
          const stats = await this.app.engine.remoteStats(name, abort.signal);
          if (!abort.signal.aborted) s.remoteStats[name] = { stats };
        } catch (err) {
          if (!abort.signal.aborted) s.remoteStats[name] = { error: (err as Error).message };
        }
        this.app.request();
      }
    })();
    this.app.request();
  }

  /** The latest request wins: a new listing aborts the one still running. */
  load(name: string): void {
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const s = this.app.state;
    this.loadedFor = name;
    s.remotes = [];
    s.remotesLoading = true;
    s.remotesError = undefined;
    this.app.engine.listRemoteBackups(name, abort.signal).then(
      (rows) => {
        if (abort.signal.aborted) return;
        s.remotes = rows;
        s.remotesLoading = false;
        this.app.request();
      },
      (err: Error) => {
        if (abort.signal.aborted) return;
        s.remotesLoading = false;
        s.remotesError = `${name}: ${err.message}`;
        this.app.notify('error', `remote ${name}: ${err.message}`);
      },
    );
    this.app.request();
  }
}
