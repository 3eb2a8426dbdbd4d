// The TUI application: navigation and lifecycle (start, quit, signals, crash), and the key
// dispatch over the one key table (screens/keys.ts), whose handlers call the methods here or the
// work flows (backup, restore, verify, pull, hosts) in flows/*.ts.
import { writeFileSync } from 'node:fs';
import type { Ending } from '../src/errors.js';
import type { Outcome } from '../src/events.js';
import { AppBase, type AppOptions } from './app.js';
import { ConfirmModal, PromptModal, TextModal } from './dialogs/modal.js';
import { findBinding, runDialogKey } from './keys.js';
import { helpLines } from './presenters/chrome.js';
import { startFeeds, type Feeds } from './state/feeds.js';
import type { TuiEngine } from './engine/types.js';
import { runningJobs } from './state/reduce.js';
import { emptyInventory, type TuiState } from './state/types.js';
import { BackupsView } from './views/backups.js';
import { DashboardView } from './views/dashboard.js';
import { LogView } from './views/log.js';
import { RemotesView } from './views/remotes.js';
import type { ScreenId } from './views/view.js';

export interface TuiOptions extends AppOptions {
  configPath?: string;
  env: NodeJS.ProcessEnv;
  /** the log file's path, shown and tailed by the log viewer */
  logFile?: string;
}

export class Tui extends AppBase {
  readonly dashboard: DashboardView;
  readonly backups: BackupsView;
  readonly remotes: RemotesView;
  readonly logView: LogView;
  private feeds?: Feeds;
  private finish?: (ending: Ending) => void;
  private exiting = false;

  constructor(private readonly opts: TuiOptions) {
    super(opts);
    this.dashboard = new DashboardView(this.screen, this.theme);
    this.backups = new BackupsView(this);
    this.remotes = new RemotesView(this);
    this.logView = new LogView(this.screen, this.theme, opts.logFile);
    this.logView.onChange = () => this.request();
    this.dashboard.onDetails = (title, lines) => {
      const modal: TextModal = new TextModal(
        'details',
        this.screen,
        title,
        () => [...lines, '', 'Esc closes'],
        () => this.closeModal(modal),
        this.theme,
      );
      this.openModal(modal);
    };
    this.dashboard.onFold = (project) => {
      const folded = this.state.collapsedProjects;
      if (!folded.delete(project)) folded.add(project);
      this.request();
    };
    for (const v of [this.dashboard, this.backups, this.remotes, this.logView]) this.addView(v);
  }

  /** The containers pane's backup ages: after the inventory or the store changed. */
  refreshFreshness(): void {
    this.engine.freshness(this.state.inventory.containers.map((c) => c.name)).then(
      (rows) => {
        this.state.freshness = Object.fromEntries(rows.map((r) => [r.container, r]));
        this.request();
      },
      (err: Error) => this.notify('error', `freshness: ${err.message}`),
    );
  }

  /** Runs until the user quits or a signal arrives; resolves with how it ended (ok, or cancelled jobs). */
  run(): Promise<Ending> {
    this.layout();
    this.startFeeds();
    this.backups.reload();
    this.reloadDrills();
    this.scheduler.flush();
    // Test-only knob (test/tui/terminal.test.ts): an uncaught error after the first paint, to show
    // that a crash still leaves the terminal usable.
    if (this.opts.env.BBACKUP_TUI_TEST_CRASH)
      setTimeout(() => {
        throw new Error('crash requested by BBACKUP_TUI_TEST_CRASH');
      }, 500);
    return new Promise((resolve) => (this.finish = resolve));
  }

  /** the environment the TUI was started with (host addresses may come from it) */
  get env(): NodeJS.ProcessEnv {
    return this.opts.env;
  }

  /** Shows another host: its engine (inventory, events, jobs) and its store folder; the selection starts empty. */
  async switchEngine(engine: TuiEngine, host: TuiState['host']): Promise<void> {
    await this.feeds?.stop().catch(() => undefined);
    const old = this.engine;
    this.engine = engine;
    await old.close().catch(() => undefined);
    this.state.host = host;
    this.state.inventory = emptyInventory();
    this.state.inventoryAt = undefined;
    for (const set of Object.values(this.state.selection)) set.clear();
    this.startFeeds();
    this.backups.reload();
    this.reloadDrills();
    this.request();
  }

  private startFeeds(): void {
    this.feeds = startFeeds(this.engine, this.opts.configPath, this.opts.env, {
      inventory: (inv) => {
        this.state.inventory = inv;
        this.state.inventoryAt = Date.now();
        this.refreshFreshness();
        this.request();
      },
      config: (cfg) => {
        this.state.config = cfg;
        this.request();
      },
      backupsChanged: () => {
        this.backups.reload();
        this.reloadDrills();
      },
      error: (msg) => this.notify('error', msg),
      info: (msg) => this.notify('info', msg),
    });
  }

  /** The drill marks of the containers pane, from the store's drill records. */
  private reloadDrills(): void {
    this.engine.lastDrills().then(
      (drills) => {
        this.state.drills = drills;
        this.request();
      },
      (err: Error) => this.notify('error', `drill records: ${err.message}`),
    );
  }

  /** A signal or a crash: cancel jobs, restore the terminal, report how it ended. */
  async shutdown(reason: string): Promise<void> {
    if (this.exiting) return;
    const cancelled = this.handles.size > 0;
    if (cancelled) this.notify('warn', `${reason}: cancelling ${this.handles.size} job(s)`);
    await this.cancelAll();
    await this.exit(cancelled ? 'cancelled' : 'ok');
  }

  private async cancelAll(): Promise<void> {
    const dones = [...this.handles.values()].map((h) => {
      h.cancel();
      return h.done.catch(() => undefined);
    });
    await Promise.race([Promise.all(dones), new Promise((r) => setTimeout(r, 30_000).unref())]);
  }

  async exit(outcome: Outcome): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.stopTimers();
    await this.feeds?.stop().catch(() => undefined);
    this.logView.stop();
    await this.engine.close().catch(() => undefined);
    this.destroyScreen();
    const stats = this.opts.env.BBACKUP_TUI_STATS;
    if (stats) writeFileSync(stats, `${JSON.stringify({ ...this.renderStats, cpu: process.cpuUsage() })}\n`);
    this.finish?.({ outcome });
  }

  /** A crash: end now, with what the caller reports; the screen is already gone. */
  end(ending: Ending): void {
    this.exiting = true;
    this.stopTimers();
    this.finish?.(ending);
  }

  destroyScreen(): void {
    try {
      this.screen.destroy();
    } catch {
      // the terminal is gone; nothing left to restore
    }
  }

  quit(): void {
    // A job whose end is on screen may still be releasing its lock for a moment: that is not a
    // running job to ask about, but the exit waits for it. A handle with no job on screen yet is
    // a job that has just started.
    const ended = (id: string) => this.state.jobs.some((j) => j.id === id && j.ended !== undefined);
    const running = new Set([
      ...runningJobs(this.state).map((j) => j.id),
      ...[...this.handles.keys()].filter((id) => !ended(id)),
    ]);
    if (running.size === 0) {
      const settling = [...this.handles.values()].map((h) => h.done);
      return void Promise.allSettled(settling).then(() => this.exit('ok'));
    }
    this.openModal(
      new ConfirmModal(
        this.screen,
        'Quit',
        [`${running.size} job(s) still running.`, 'Quit and cancel them? The backup in progress is discarded cleanly.'],
        (yes) => {
          this.closeTop();
          if (!yes) return;
          this.notify('warn', 'quitting: cancelling running jobs');
          void this.cancelAll().then(() => this.exit('cancelled'));
        },
        this.theme,
      ),
    );
  }

  closeTop(): void {
    const top = this.modals[this.modals.length - 1];
    if (top) this.closeModal(top);
  }

  toggleHelp(): void {
    const screen = this.current;
    const modal = new TextModal(
      'help',
      this.screen,
      `Help ${this.theme.glyphs.sep} ${screen}`,
      () => helpLines(screen, this.theme),
      () => {
        this.closeModal(modal);
      },
      this.theme,
    );
    this.openModal(modal);
  }

  back(): void {
    if (this.view().back()) return;
    if (this.current !== 'dashboard') this.show('dashboard');
  }

  protected runKey(full: string, ch: string | undefined): boolean {
    const top = this.modals[this.modals.length - 1];
    if (top) {
      top.typed?.(full, ch) || runDialogKey(top.target, full);
      return true;
    }
    const binding = findBinding(full, this.current, this.view().panes.length > 0);
    binding?.run(this, full);
    return binding !== undefined;
  }

  /** Focus the pane `by` steps on (Tab: 1, Shift-Tab: -1), wrapping around. */
  focusBy(by: number): void {
    const v = this.view();
    if (v.panes.length) v.focus = (v.focus + v.panes.length + by) % v.panes.length;
  }

  focusIndex(index: number): void {
    const v = this.view();
    if (index < v.panes.length) v.focus = index;
  }

  show(screen: ScreenId): void {
    if (screen === this.current) return;
    this.view().root.hide();
    this.current = screen;
    const v = this.view();
    v.root.show();
    v.enter?.();
  }

  move(delta: number): void {
    const v = this.view();
    v.panes[v.focus]?.move(delta);
    v.onMove?.();
  }

  filter(): void {
    const pane = this.view().panes[this.view().focus];
    if (!pane) return;
    const before = pane.filter;
    const prompt = new PromptModal(
      this.screen,
      `/ ${pane.opts.title}: `,
      before,
      (v) => pane.setFilter(v),
      (v) => {
        this.closeModal(prompt);
        if (v === undefined) pane.setFilter('');
      },
    );
    this.openModal(prompt);
  }

  open(): void {
    this.view().open();
  }

  /** the backups screen shows a volume's files or its diff, with the cursor there */
  inFiles(): boolean {
    return this.current === 'backups' && this.backups.browse !== undefined && this.backups.focus === 1;
  }

  refreshInventory(sizes = true): void {
    this.feeds?.refreshInventory(sizes);
  }
  currentScreen(): ScreenId {
    return this.current;
  }
}
