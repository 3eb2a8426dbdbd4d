// The backups screen: local backups, and the containers, volumes, networks and files of the one
// opened with Enter. R restores it, V verifies the one under the cursor.
import blessed from 'blessed';
import type { Manifest } from '../../src/store/manifest.js';
import { BACKUP_HEADER, backupRowText, itemRowText, type ContentRow } from '../presenters/backups.js';
import { formatBytes } from '../presenters/format.js';
import { jobLines } from '../presenters/jobs.js';
import type { BackupRow, TuiState } from '../state/types.js';
import type { Tui } from '../tui.js';
import { Pane, place, type Rect } from '../widgets/pane.js';
import type { View } from './view.js';

const MAX_FILES = 5000;

export class BackupsView implements View {
  readonly id = 'backups' as const;
  readonly root: blessed.Widgets.BoxElement;
  readonly list: Pane<BackupRow>;
  readonly contents: Pane<ContentRow>;
  readonly panes;
  focus = 0;
  opened?: Manifest;
  private openedVolume?: string;
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
        render: (r, w) => (r.kind === 'item' && r.item ? itemRowText(r.item, w) : blessed.escape(r.text)),
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
        (s.backupsError ? `store: ${blessed.escape(s.backupsError)}` : ''),
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
  }

  back(): boolean {
    if (this.focus === 1 && this.openedVolume && this.opened) {
      this.openedVolume = undefined;
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

  private async openVolume(m: Manifest, name: string): Promise<void> {
    const item = m.items.find((i) => i.kind === 'volume' && i.name === name);
    if (!item || item.kind !== 'volume') return;
    const rows: ContentRow[] = [];
    if (item.format === 'tree' && item.files[0]) {
      try {
        for await (const e of this.app.engine.volumeIndex(m, name)) {
          rows.push({
            key: `f:${e.p}`,
            kind: 'file',
            text: `${e.t} ${(e.mode & 0o7777).toString(8).padStart(4, '0')} ${String(e.uid).padStart(5)}:${String(e.gid).padEnd(5)} ${formatBytes(e.size ?? 0).padStart(9)}  /${e.p}${e.link ? ` -> ${e.link}` : ''}`,
          });
          if (rows.length >= MAX_FILES) break;
        }
      } catch (err) {
        this.app.notify('error', `volume ${name} index: ${(err as Error).message}`);
      }
    } else {
      for (const f of item.files)
        rows.push({
          key: `f:${f.path}`,
          kind: 'file',
          text: `${formatBytes(f.size).padStart(9)}  ${f.path}  sha256 ${f.sha256.slice(0, 16)}`,
        });
    }
    this.openedVolume = name;
    this.contentRows = [
      {
        key: 'up',
        kind: 'note',
        text: `volume ${name}: ${item.fileCount} files, ${formatBytes(item.bytes)}${rows.length >= MAX_FILES ? ` (first ${MAX_FILES} shown)` : ''}; Esc back`,
      },
      ...rows,
    ];
    this.contents.setFilter('');
    this.app.request();
  }
}
