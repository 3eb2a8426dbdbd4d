// A bordered pane that draws its own rows: the app decides what is visible (cursor, scroll,
// filter), so one code path serves lists, the jobs pane, the error pane and the log viewer.
import blessed from 'blessed';
import type { Theme } from '../theme.js';
import { matchesFilter } from '../presenters/inventory.js';

const SUPERSCRIPT = ['¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];

export interface PaneOptions<T> {
  title: string;
  /** row -> one line of text (blessed tags allowed), given the inner width */
  render: (row: T, width: number) => string;
  /** identity of a row, so the cursor stays on it when rows change */
  key: (row: T) => string;
  /** text the / filter searches */
  search?: (row: T) => string[];
  /** a list has a cursor; a log view scrolls and may follow its tail */
  cursor: boolean;
  follow?: boolean;
  empty?: string;
}

/** What the app needs of any pane, whatever its row type. */
export interface PaneLike {
  readonly box: blessed.Widgets.BoxElement;
  index: number;
  filter: string;
  focused: boolean;
  readonly opts: { title: string };
  move(delta: number): void;
  setFilter(filter: string): void;
  draw(): void;
}

export class Pane<T> implements PaneLike {
  readonly box: blessed.Widgets.BoxElement;
  index = 0;
  filter = '';
  private rows: T[] = [];
  private visible: T[] = [];
  private cursorAt = 0;
  private top = 0;
  private following: boolean;
  focused = false;

  constructor(
    parent: blessed.Widgets.Node,
    readonly opts: PaneOptions<T>,
    private readonly theme: Theme,
  ) {
    this.following = opts.follow ?? false;
    this.box = blessed.box({ parent, border: { type: 'line' }, tags: true, wrap: false, style: { border: {} } });
  }

  setRows(rows: T[]): void {
    const keep = this.current();
    this.rows = rows;
    this.applyFilter();
    if (keep !== undefined) {
      const k = this.opts.key(keep);
      const at = this.visible.findIndex((r) => this.opts.key(r) === k);
      if (at >= 0) this.cursorAt = at;
    }
    if (this.following) this.cursorAt = Math.max(0, this.visible.length - 1);
    this.clamp();
  }

  setFilter(filter: string): void {
    this.filter = filter;
    this.applyFilter();
    this.cursorAt = this.following ? Math.max(0, this.visible.length - 1) : 0;
    this.clamp();
  }

  current(): T | undefined {
    return this.visible[this.cursorAt];
  }

  all(): T[] {
    return this.visible;
  }

  move(delta: number): void {
    if (this.opts.cursor) this.cursorAt += delta;
    else {
      // A view without a cursor scrolls: the "cursor" is its top or bottom visible line.
      const h = Math.max(1, this.innerSize().height);
      this.cursorAt =
        delta < 0 ? Math.max(0, this.top + delta) : Math.min(this.visible.length - 1, this.top + h - 1 + delta);
    }
    this.clamp();
    if (this.opts.follow) this.following = this.cursorAt >= this.visible.length - 1;
  }

  /** Draw into the box; call from the render pass only. */
  draw(): void {
    const inner = this.innerSize();
    const n = SUPERSCRIPT[this.index];
    const num = n && this.theme.unicode ? n : `${this.index + 1} `;
    const filter = this.filter ? ` /${blessed.escape(this.filter)}/` : '';
    const count = this.filter ? ` ${this.visible.length}/${this.rows.length}` : ` ${this.rows.length}`;
    const label = `${num}${this.opts.title}${this.opts.cursor ? count : ''}${filter}`;
    this.box.setLabel(this.focused ? `{inverse}${label}{/inverse}` : label);
    if (this.theme.color) this.box.style.border.fg = this.focused ? 'cyan' : 'gray';
    if (inner.height <= 0) return;
    if (this.cursorAt < this.top) this.top = this.cursorAt;
    if (this.cursorAt >= this.top + inner.height) this.top = this.cursorAt - inner.height + 1;
    this.top = Math.max(0, Math.min(this.top, Math.max(0, this.visible.length - inner.height)));
    const lines = this.visible.slice(this.top, this.top + inner.height).map((row, i) => {
      const text = this.opts.render(row, inner.width);
      return this.opts.cursor && this.focused && this.top + i === this.cursorAt ? `{inverse}${text}{/inverse}` : text;
    });
    if (lines.length === 0 && this.opts.empty)
      lines.push(`{gray-fg}${this.opts.empty}{/gray-fg}`.replace(/\{\/?gray-fg\}/g, this.theme.color ? '$&' : ''));
    this.box.setContent(lines.join('\n'));
  }

  private innerSize(): { width: number; height: number } {
    const w = Number(this.box.width) - 2;
    const h = Number(this.box.height) - 2;
    return { width: Math.max(0, w), height: Math.max(0, h) };
  }

  private applyFilter(): void {
    const search = this.opts.search;
    this.visible =
      this.filter && search ? this.rows.filter((r) => matchesFilter(this.filter, ...search(r))) : this.rows;
  }

  private clamp(): void {
    this.cursorAt = Math.max(0, Math.min(this.cursorAt, this.visible.length - 1));
  }
}

export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

export function place(el: blessed.Widgets.BlessedElement, r: Rect): void {
  el.top = r.top;
  el.left = r.left;
  el.width = Math.max(1, r.width);
  el.height = Math.max(1, r.height);
}
