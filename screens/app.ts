// The screen manager: one blessed screen, the views, the modal stack, the key dispatcher (driven
// by BINDINGS), and the single render pass. Engine work goes through TuiEngine only.
import type { Readable, Writable } from 'node:stream';
import blessed from 'blessed';
import type { Emit } from '../src/events.js';
import type { JobHandle } from '../src/jobs/types.js';
import type { LogLevel } from '../src/events.js';
import type { Actions, ScreenId } from './actions.js';
import type { TuiEngine } from './engine/types.js';
import { findBinding } from './keys.js';
import type { Modal } from './dialogs/modal.js';
import { headerLine, statusLine } from './presenters/chrome.js';
import { createRenderScheduler, type RenderScheduler } from './scheduler.js';
import { addNotice, addRateSample, applyEvent, pruneJobs, runningJobs, totalBytes } from './state/reduce.js';
import type { TuiState } from './state/types.js';
import type { Theme } from './theme.js';
import type { View } from './views/view.js';

export interface AppOptions {
  engine: TuiEngine;
  state: TuiState;
  theme: Theme;
  /** extra consumer of every engine event (the log file) */
  logEmit?: Emit;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

interface KeyEvent {
  full?: string;
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
}

/** blessed's key name (C-c, S-tab, enter, q, ?); its synthetic 'enter' event comes without `full`. */
export function keyName(ch: string | undefined, key: KeyEvent): string {
  if (key.full) return key.full;
  const base = key.name ?? ch ?? '';
  return `${key.ctrl ? 'C-' : ''}${key.meta ? 'M-' : ''}${key.shift && key.name ? 'S-' : ''}${base}`;
}

export abstract class AppBase implements Actions {
  readonly screen: blessed.Widgets.Screen;
  readonly scheduler: RenderScheduler;
  readonly engine: TuiEngine;
  readonly state: TuiState;
  readonly theme: Theme;
  readonly handles = new Map<string, JobHandle>();
  protected views = new Map<ScreenId, View>();
  protected current: ScreenId = 'dashboard';
  protected modals: Modal[] = [];
  private readonly header: blessed.Widgets.BoxElement;
  private readonly status: blessed.Widgets.BoxElement;
  private sampler?: NodeJS.Timeout;
  private clockTimer?: NodeJS.Timeout;
  private lastBytes = 0;
  private lastSample = 0;
  protected readonly logEmit?: Emit;
  /** the one Emit every job gets: state, log file, redraw */
  readonly emit: Emit;

  constructor(opts: AppOptions) {
    this.engine = opts.engine;
    this.state = opts.state;
    this.theme = opts.theme;
    this.logEmit = opts.logEmit;
    this.screen = blessed.screen({
      smartCSR: true,
      fullUnicode: opts.theme.unicode,
      forceUnicode: opts.theme.unicode,
      autoPadding: true,
      warnings: false,
      title: 'bbackup',
      // @types/blessed has input and output swapped; the runtime wants input readable, output writable
      input: opts.input as unknown as Writable,
      output: opts.output as unknown as Readable,
    });
    this.header = blessed.box({
      parent: this.screen,
      top: 0,
      left: 0,
      width: '100%',
      height: 1,
      tags: true,
      style: opts.theme.color ? { bg: 'blue', fg: 'white' } : { inverse: true },
    });
    this.status = blessed.box({ parent: this.screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true });
    this.scheduler = createRenderScheduler(() => this.render());
    this.emit = (e) => {
      applyEvent(this.state, e, Date.now());
      this.logEmit?.(e);
      if (e.type === 'job.start') this.startSampler();
      this.request();
    };
    this.screen.on('keypress', (ch: string | undefined, key: KeyEvent) =>
      this.dispatch(keyName(ch, key), ch, key.name),
    );
    this.screen.on('resize', () => {
      this.layout();
      this.scheduler.flush();
    });
    this.armClock();
  }

  request(): void {
    this.scheduler.request();
  }

  /** A message of the TUI itself: the log viewer and the log file always, the error pane too. */
  notify(level: LogLevel, msg: string): void {
    this.emit({ type: 'log', level, source: 'tui', msg });
    // warnings and errors reach the error pane through the event; short info notes are shown there too
    if (level === 'info' || level === 'debug') addNotice(this.state, level, msg, Date.now());
    this.request();
  }

  protected view(): View {
    return this.views.get(this.current)!;
  }

  protected addView(v: View): void {
    this.views.set(v.id, v);
    if (v.id !== this.current) v.root.hide();
  }

  protected layout(): void {
    const cols = Number(this.screen.width);
    const rows = Number(this.screen.height);
    for (const v of this.views.values()) v.layout({ top: 0, left: 0, width: cols, height: Math.max(6, rows - 2) });
  }

  /** render passes and the milliseconds they took (bench/tui.ts reads them via BBACKUP_TUI_STATS) */
  readonly renderStats = { renders: 0, ms: 0 };

  private render(): void {
    const t0 = performance.now();
    try {
      this.renderNow();
    } finally {
      this.renderStats.renders++;
      this.renderStats.ms += performance.now() - t0;
    }
  }

  private renderNow(): void {
    const now = Date.now();
    const v = this.view();
    v.panes.forEach((p, i) => (p.focused = i === v.focus && this.modals.length === 0));
    v.sync(this.state, now);
    this.header.setContent(headerLine(this.state, this.current, now, Number(this.screen.width), this.theme));
    this.status.setContent(statusLine(this.current, Number(this.screen.width), this.theme));
    for (const m of this.modals) m.draw();
    this.screen.render();
  }

  private dispatch(full: string, ch: string | undefined, name: string | undefined): void {
    if (name === 'return') return; // blessed sends 'enter' too
    const top = this.modals[this.modals.length - 1];
    if (top) {
      if (!top.handleKey(full, ch) && full === 'escape') this.closeModal(top);
      this.scheduler.requestSoon();
      return;
    }
    const v = this.view();
    const binding = findBinding(full, this.current, v.panes.length > 0);
    if (!binding) return;
    binding.run(this, full);
    this.scheduler.requestSoon();
  }

  openModal(m: Modal): void {
    this.modals.push(m);
    this.scheduler.requestSoon();
  }

  closeModal(m: Modal): void {
    this.modals = this.modals.filter((x) => x !== m);
    m.destroy();
    this.scheduler.requestSoon();
  }

  /** Start an engine job; its events feed the state through this.emit. */
  async runJob(
    start: (emit: Emit) => Promise<JobHandle>,
    after?: (h: JobHandle) => void,
  ): Promise<JobHandle | undefined> {
    try {
      const handle = await start(this.emit);
      this.handles.set(handle.id, handle);
      this.startSampler();
      handle.done
        .then(
          () => after?.(handle),
          (err: unknown) => this.notify('error', `job ${handle.id}: ${(err as Error).message}`),
        )
        .finally(() => {
          this.handles.delete(handle.id);
          if (this.handles.size === 0) pruneJobs(this.state);
          this.request();
        });
      return handle;
    } catch (err) {
      this.notify('error', (err as Error).message);
      return undefined;
    }
  }

  /** One rate sample per second while any job runs; stops itself when all are done. */
  private startSampler(): void {
    if (this.sampler) return;
    this.lastBytes = totalBytes(this.state);
    this.lastSample = Date.now();
    this.sampler = setInterval(() => {
      const now = Date.now();
      const bytes = totalBytes(this.state);
      addRateSample(this.state, ((bytes - this.lastBytes) * 1000) / Math.max(1, now - this.lastSample));
      this.lastBytes = bytes;
      this.lastSample = now;
      if (runningJobs(this.state).length === 0 && this.handles.size === 0) {
        clearInterval(this.sampler);
        this.sampler = undefined;
      }
      this.request();
    }, 1000);
  }

  /** The header shows HH:MM: one wake-up per minute, aligned to the minute. */
  private armClock(): void {
    const delay = 60_000 - (Date.now() % 60_000) + 50;
    this.clockTimer = setTimeout(() => {
      this.request();
      this.armClock();
    }, delay);
  }

  protected stopTimers(): void {
    if (this.sampler) clearInterval(this.sampler);
    if (this.clockTimer) clearTimeout(this.clockTimer);
    this.scheduler.stop();
  }

  abstract quit(): void;
  abstract toggleHelp(): void;
  abstract back(): void;
  abstract togglePause(): void;
  abstract skip(): void;
  abstract cancelJob(): void;
  abstract focusNext(): void;
  abstract focusPrev(): void;
  abstract focusIndex(index: number): void;
  abstract show(screen: ScreenId): void;
  abstract move(delta: number): void;
  abstract filter(): void;
  abstract open(): void;
  abstract toggleSelect(): void;
  abstract selectAll(): void;
  abstract pickBackupSet(): void;
  abstract backupDialog(): void;
  abstract restoreDialog(): void;
  abstract verify(): void;
  abstract diff(): void;
  abstract pull(): void;
  abstract refresh(): void;
  abstract schedules(): void;
}
