// The backups screen: local backups, and the containers, volumes, networks and files of the one
// opened with Enter. R restores it, V verifies the one under the cursor.
import blessed from 'blessed';
import type { DiffEntry } from '../../src/files/diff.js';
import type { ListedEntry } from '../../src/files/listing.js';
import type { Manifest } from '../../src/store/manifest.js';
import { BACKUP_HEADER, backupRowText, itemRowText, type ContentRow } from '../presenters/backups.js';
import { childrenByFolder, diffRowText, fileRowText } from '../presenters/files.js';
import { jobLines } from '../presenters/jobs.js';
import type { BackupRow, TuiState } from '../state/types.js';
import type { Tui } from '../tui.js';
import { Pane, place, type Rect } from '../widgets/pane.js';
import type { View } from './view.js';

const MAX_FILES = 200_000;

interface Browse {
  volume: string;
  byDir: Map<string, ListedEntry[]>;
  /** the folder shown ("" is the volume root) */
  cwd: string;
  marks: Set<string>;
  /** set while the diff list is shown instead of the folders */
  diff?: DiffEntry[];
}

export class BackupsView implements View {
  readonly id = 'backups' as const;
  readonly root: blessed.Widgets.BoxElement;
  readonly list: Pane<BackupRow>;
  readonly contents: Pane<ContentRow>;
  readonly panes;
  focus = 0;
  opened?: Manifest;
  private openedVolume?: string;
  /** the last file restore's outcome, shown under the panes */
  status?: string;
  /** the open volume's files (or its diff), when one is open */
  browse?: Browse;
  private contentRows: ContentRow[] = [];
  private readonly head: blessed.Widgets.BoxElement;
  private readonly jobsLine: blessed.Widgets.BoxElement;

  constructor(private readonly app: Tui) {
    const t = app.theme;
    this.root = blessed.box({ parent: app.screen, top: 1, left: 0, width: '100%', height: '100%-2' });
    this.head = blessed.box({ parent: this.root, top: 0, left: 1, height: 1, tags: false, content: BACKUP_HEADER });
    this.list = new Pane(
      this.root,
      {
        title: 'Backups',
        cursor: true,
        key: (b) => b.id,
        search: (b) => [b.id, b.status],
        render: (b, w) => backupRowText(b, w, t),
        empty: 'no backups in the store yet',
      },
      t,
    );
    this.contents = new Pane(
      this.root,
      {
        title: 'Contents (Enter on a backup)',
        cursor: true,
        key: (r) => r.key,
        search: (r) => [r.text],
        render: (r, w) =>
          r.entry
            ? fileRowText(r.entry, this.browse?.marks.has(r.entry.p) ?? false, w, t)
            : r.diff
              ? diffRowText(r.diff, this.browse?.marks.has(r.diff.path) ?? false, w, t)
              : r.kind === 'item' && r.item
                ? itemRowText(r.item, w)
                : blessed.escape(r.text),
        empty: 'Enter opens the backup under the cursor',
      },
      t,
    );
    this.panes = [this.list, this.contents];
    this.panes.forEach((p, i) => (p.index = i));
    this.jobsLine = blessed.box({ parent: this.root, height: 2, tags: true });
  }

  layout(a: Rect): void {
    const listH = Math.max(5, Math.floor((a.height - 3) * 0.45));
    place(this.head, { top: 0, left: 1, width: a.width - 2, height: 1 });
    place(this.list.box, { top: 1, left: 0, width: a.width, height: listH });
    place(this.contents.box, { top: 1 + listH, left: 0, width: a.width, height: a.height - listH - 3 });
    place(this.jobsLine, { top: a.height - 2, left: 0, width: a.width, height: 2 });
  }

  sync(s: TuiState): void {
    this.list.setRows(s.backups);
    this.contents.setRows(this.contentRows);
    const w = Number(this.jobsLine.width);
    const running = s.jobs.filter((j) => j.ended === undefined || j.kind === 'verify').slice(-2);
    this.jobsLine.setContent(
      running.map((j) => jobLines(j, w, this.app.theme)[0]).join('\n') ||
        (s.backupsError ? `store: ${blessed.escape(s.backupsError)}` : blessed.escape(this.status ?? '')),
    );
    for (const p of this.panes) p.draw();
  }

  enter(): void {
    this.reload();
  }

  reload(): void {
    this.app.engine.listBackups().then(
      (rows) => {
        this.app.state.backups = rows;
        this.app.state.backupsError = undefined;
        this.app.refreshFreshness();
        this.app.request();
      },
      (err: Error) => {
        this.app.state.backupsError = err.message;
        this.app.notify('error', `store: ${err.message}`);
      },
    );
  }

  open(): void {
    if (this.focus === 0) return void this.openBackup(this.list.current()?.id);
    const row = this.contents.current();
    if (row?.item?.kind === 'volume' && this.opened && !this.openedVolume)
      void this.openVolume(this.opened, row.item.name);
    else if (this.browse && !this.browse.diff && row?.entry?.t === 'd') this.showFolder(row.entry.p);
  }

  back(): boolean {
    if (this.focus === 1 && this.browse && !this.browse.diff && this.browse.cwd !== '') {
      const cut = this.browse.cwd.lastIndexOf('/');
      this.showFolder(cut < 0 ? '' : this.browse.cwd.slice(0, cut));
      return true;
    }
    if (this.focus === 1 && this.openedVolume && this.opened) {
      this.openedVolume = undefined;
      this.browse = undefined;
      this.showItems(this.opened);
      return true;
    }
    if (this.focus === 1) {
      this.focus = 0;
      return true;
    }
    return false;
  }

  async openBackup(id: string | undefined): Promise<void> {
    if (!id) return;
    try {
      this.opened = await this.app.engine.readManifest(id);
      this.openedVolume = undefined;
      this.browse = undefined;
      this.showItems(this.opened);
      this.focus = 1;
    } catch (err) {
      this.app.notify('error', `backup ${id}: ${(err as Error).message}`);
    }
    this.app.request();
  }

  private showItems(m: Manifest): void {
    const order = { container: 0, dump: 1, volume: 2, network: 3, image: 4, project: 5, metadata: 6 } as const;
    const items = [...m.items].sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name));
    const errs = m.errors.map((e): ContentRow => ({
      key: `err:${e.kind}:${e.name}`,
      kind: 'note',
      text: `! ${e.kind} ${e.name}: ${e.code} ${e.message}`,
    }));
    this.contentRows = [
      ...items.map((item): ContentRow => ({ key: `${item.kind}:${item.name}`, kind: 'item', item, text: item.name })),
      ...errs,
    ];
    this.contents.opts.title = `Contents of ${m.id} (${m.status}): Enter on a volume lists its files, R restores`;
    this.contents.setFilter('');
  }

  /** Enter on a volume: its saved folders, both formats (README "Browsing a backup's files"). */
  async openVolume(m: Manifest, name: string): Promise<void> {
    const entries: ListedEntry[] = [];
    try {
      for await (const e of this.app.engine.volumeEntries(m, name)) {
        entries.push(e);
        if (entries.length >= MAX_FILES) break;
      }
    } catch (err) {
      return this.app.notify('error', `volume ${name}: ${(err as Error).message}`);
    }
    if (entries.length >= MAX_FILES)
      this.app.notify('warn', `volume ${name}: only the first ${MAX_FILES} entries are shown`);
    this.browse = { volume: name, byDir: childrenByFolder(entries), cwd: '', marks: new Set() };
    this.openedVolume = name;
    this.showFolder('');
  }

  /** = on a volume: what changed in the live volume since this backup. */
  async openDiff(): Promise<void> {
    const m = this.opened;
    const row = this.contents.current();
    const name = this.browse?.volume ?? (row?.item?.kind === 'volume' ? row.item.name : undefined);
    if (!m || !name) return this.app.notify('info', 'open a backup and put the cursor on a volume');
    this.app.notify('info', `comparing volume ${name} with backup ${m.id}…`);
    let diff: DiffEntry[];
    try {
      diff = await this.app.engine.diffVolume(m, name);
    } catch (err) {
      return this.app.notify('error', `diff of volume ${name}: ${(err as Error).message}`);
    }
    this.browse = { volume: name, byDir: this.browse?.byDir ?? new Map(), cwd: '', marks: new Set(), diff };
    this.openedVolume = name;
    const count = (c: DiffEntry['change']) => diff.filter((d) => d.change === c).length;
    this.contentRows = [
      {
        key: 'up',
        kind: 'note',
        text: `diff of volume ${name} (backup ${m.id} -> live): ${count('added')} added, ${count('removed')} removed, ${count('changed')} changed; Space mark, R restore, Esc back`,
      },
      ...diff.map((d): ContentRow => ({ key: `d:${d.path}`, kind: 'file', text: d.path, diff: d })),
    ];
    this.contents.opts.title = `Diff of ${name}`;
    this.contents.setFilter('');
    this.focus = 1;
    this.app.request();
  }

  private showFolder(dir: string): void {
    const b = this.browse!;
    b.cwd = dir;
    b.diff = undefined;
    const kids = b.byDir.get(dir) ?? [];
    this.contentRows = [
      {
        key: 'up',
        kind: 'note',
        text: `volume ${b.volume}: /${dir}  (${kids.length} entries; Enter open, Backspace up, Space mark, R restore, V view, = diff)`,
      },
      ...kids.map((e): ContentRow => ({ key: `f:${e.p}`, kind: 'file', text: e.p, entry: e })),
    ];
    this.contents.opts.title = `Files of ${b.volume} in ${this.opened?.id ?? ''}`;
    this.contents.setFilter('');
    this.app.request();
  }

  /** Space in the file browser or the diff list: mark / unmark the row's path. */
  toggleMark(): void {
    const row = this.contents.current();
    const path = row?.entry?.p ?? row?.diff?.path;
    if (!this.browse || path === undefined || this.focus !== 1) return;
    if (this.browse.marks.has(path)) this.browse.marks.delete(path);
    else this.browse.marks.add(path);
    this.contents.move(1);
    this.app.request();
  }

  /** The marked paths, or the row under the cursor when nothing is marked. */
  markedPaths(): string[] {
    if (!this.browse) return [];
    if (this.browse.marks.size) return [...this.browse.marks].sort();
    const row = this.contents.current();
    const path = row?.entry?.p ?? row?.diff?.path;
    return path ? [path] : [];
  }
}
