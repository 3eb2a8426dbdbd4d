// The log viewer: this run's events (every engine event and log line) and the tail of the log
// file, both scrollable and filterable with /.
import { watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import blessed from 'blessed';
import { noticeLine } from '../presenters/chrome.js';
import type { Notice, TuiState } from '../state/types.js';
import type { Theme } from '../theme.js';
import { Pane, place, type Rect } from '../widgets/pane.js';
import type { View } from './view.js';

const TAIL_BYTES = 256 * 1024;

export class LogView implements View {
  readonly id = 'log' as const;
  readonly root: blessed.Widgets.BoxElement;
  readonly events: Pane<Notice>;
  readonly file: Pane<{ n: number; text: string }>;
  readonly panes;
  focus = 0;
  private fileLines: { n: number; text: string }[] = [];
  private watcher?: FSWatcher;
  private reading = false;
  onChange?: () => void;

  constructor(
    screen: blessed.Widgets.Screen,
    theme: Theme,
    private readonly logFile: string | undefined,
  ) {
    this.root = blessed.box({ parent: screen, top: 1, left: 0, width: '100%', height: '100%-2' });
    this.events = new Pane(
      this.root,
      {
        title: 'This run',
        cursor: false,
        follow: true,
        key: (n) => `${n.time}:${n.msg}`,
        search: (n) => [n.msg, n.level],
        render: (n, w) => noticeLine(n, w, theme),
        empty: 'no events yet',
      },
      theme,
    );
    this.file = new Pane(
      this.root,
      {
        title: `Log file ${logFile ?? '(logging.file not set)'}`,
        cursor: false,
        follow: true,
        key: (l) => String(l.n),
        search: (l) => [l.text],
        render: (l) => blessed.escape(l.text),
        empty: logFile ? 'empty' : 'set logging.file in the config to keep a log file',
      },
      theme,
    );
    this.panes = [this.events, this.file];
    this.panes.forEach((p, i) => (p.index = i));
  }

  layout(a: Rect): void {
    const h = Math.floor(a.height / 2);
    place(this.events.box, { top: 0, left: 0, width: a.width, height: h });
    place(this.file.box, { top: h, left: 0, width: a.width, height: a.height - h });
  }

  sync(s: TuiState): void {
    this.events.setRows(s.log);
    this.file.setRows(this.fileLines);
    for (const p of this.panes) p.draw();
  }

  enter(): void {
    void this.readTail();
    if (this.logFile && !this.watcher) {
      try {
        this.watcher = watch(this.logFile, () => void this.readTail());
      } catch {
        // no file yet: it is read again the next time the viewer opens
      }
    }
  }

  open(): void {}

  back(): boolean {
    const p = this.panes[this.focus];
    if (p?.filter) {
      p.setFilter('');
      return true;
    }
    return false;
  }

  stop(): void {
    this.watcher?.close();
  }

  private async readTail(): Promise<void> {
    if (!this.logFile || this.reading) return;
    this.reading = true;
    try {
      const fh = await open(this.logFile, 'r');
      try {
        const { size } = await fh.stat();
        const start = Math.max(0, size - TAIL_BYTES);
        const buf = Buffer.alloc(size - start);
        await fh.read(buf, 0, buf.length, start);
        const lines = buf.toString('utf8').split('\n');
        if (start > 0) lines.shift();
        this.fileLines = lines.filter((l) => l.length > 0).map((text, n) => ({ n, text }));
      } finally {
        await fh.close();
      }
    } catch {
      this.fileLines = [];
    } finally {
      this.reading = false;
      this.onChange?.();
    }
  }
}
