// Modals sit on top of a screen and get every key first: the app's dispatcher runs the bindings of
// the top one's scope (screens/keys.ts) and offers it the keys no binding took (typed text).
// Each draws its text from a pure presenter; the box only places it.
import blessed from 'blessed';
import { dialogHints, type DialogTarget } from '../keys.js';
import type { Theme } from '../theme.js';

export interface Modal {
  readonly name: string;
  /** the dialog and the scope of its keys in the key table */
  readonly target: DialogTarget;
  /** typed text, asked before the key table; true when the key was used */
  typed?(full: string, ch: string | undefined): boolean;
  draw(): void;
  destroy(): void;
}

/** Each box's label length: a box narrower than its label garbles its text (blessed). */
const labelWidth = new WeakMap<blessed.Widgets.BoxElement, number>();

/** A centred bordered box sized to its text, clamped to the screen. */
export function modalBox(screen: blessed.Widgets.Screen, title: string, theme: Theme): blessed.Widgets.BoxElement {
  const box = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: '80%',
    height: '50%',
    border: { type: 'line' },
    label: ` ${title} `,
    tags: true,
    wrap: false,
    style: theme.color ? { border: { fg: 'cyan' } } : {},
  });
  labelWidth.set(box, title.length + 2);
  return box;
}

export function sizeBox(
  box: blessed.Widgets.BoxElement,
  screen: blessed.Widgets.Screen,
  lines: string[],
  minWidth = 40,
): void {
  const visible = (l: string) => l.replace(/\{[^{}]*\}/g, '').length;
  const cols = Number(screen.width);
  const rows = Number(screen.height);
  box.width = Math.min(cols - 2, Math.max(minWidth, labelWidth.get(box) ?? 0, ...lines.map(visible)) + 4);
  box.height = Math.min(rows - 2, lines.length + 2);
  box.top = Math.max(0, Math.floor((rows - Number(box.height)) / 2));
  box.left = Math.max(0, Math.floor((cols - Number(box.width)) / 2));
}

/** A printable character of a key press (typed into a text field), or undefined. */
export const printable = (ch: string | undefined): string | undefined =>
  ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f' ? ch : undefined;

/** Scrollable read-only text (help overlay, details, schedules); keys: the 'overlay' scope. */
export class TextModal implements Modal {
  readonly target: DialogTarget = { scope: 'overlay', dialog: this };
  private readonly box: blessed.Widgets.BoxElement;
  private top = 0;
  constructor(
    readonly name: string,
    private readonly screen: blessed.Widgets.Screen,
    title: string,
    private readonly lines: () => string[],
    private readonly onClose: () => void,
    theme: Theme,
  ) {
    this.box = modalBox(screen, title, theme);
  }
  scroll(by: number): void {
    this.top = Math.max(0, this.top + by);
  }
  close(): void {
    this.onClose();
  }
  draw(): void {
    const lines = this.lines();
    sizeBox(this.box, this.screen, lines, 50);
    const h = Number(this.box.height) - 2;
    this.top = Math.max(0, Math.min(this.top, lines.length - h));
    this.box.setContent(lines.slice(this.top, this.top + h).join('\n'));
    this.box.setFront();
  }
  destroy(): void {
    this.box.destroy();
  }
}

/**
 * Yes/no question; keys: the 'confirm' scope (Enter or y yes, Esc or n no), or 'allow' for a step
 * that must not be accepted by an Enter meant for the step before (A allows).
 */
export class ConfirmModal implements Modal {
  readonly name = 'confirm';
  readonly target: DialogTarget;
  private readonly box: blessed.Widgets.BoxElement;
  constructor(
    private readonly screen: blessed.Widgets.Screen,
    title: string,
    private readonly lines: string[],
    private readonly onAnswer: (yes: boolean) => void,
    private readonly theme: Theme,
    private readonly scope: 'confirm' | 'allow' | 'files' = 'confirm',
    /** the third answer of a 'files' question (T: to a host folder) */
    private readonly onOther: () => void = () => undefined,
  ) {
    this.target = { scope, dialog: this };
    this.box = modalBox(screen, title, theme);
  }
  answer(yes: boolean): void {
    this.onAnswer(yes);
  }
  other(): void {
    this.onOther();
  }
  draw(): void {
    const lines = [...this.lines, '', dialogHints(this.scope, this.theme.bold)];
    sizeBox(this.box, this.screen, lines);
    this.box.setContent(lines.join('\n'));
    this.box.setFront();
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** One line of text input at the bottom (the / filter); keys: the 'prompt' scope. */
export class PromptModal implements Modal {
  readonly name = 'prompt';
  readonly target: DialogTarget = { scope: 'prompt', dialog: this };
  private readonly box: blessed.Widgets.BoxElement;
  constructor(
    screen: blessed.Widgets.Screen,
    private readonly label: string,
    private value: string,
    private readonly onChange: (value: string) => void,
    private readonly onDone: (value: string | undefined) => void,
  ) {
    this.box = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, tags: false });
  }
  typed(_full: string, ch: string | undefined): boolean {
    const c = printable(ch);
    if (c !== undefined) this.set(this.value + c);
    return c !== undefined;
  }
  /** keep: true keeps the text, false drops it */
  done(keep: boolean): void {
    this.onDone(keep ? this.value : undefined);
  }
  erase(): void {
    this.set(this.value.slice(0, -1));
  }
  clear(): void {
    this.set('');
  }
  private set(v: string): void {
    this.value = v;
    this.onChange(v);
  }
  draw(): void {
    this.box.setContent(`${this.label}${this.value}_  (${dialogHints('prompt', undefined, ', ')})`);
    this.box.setFront();
  }
  destroy(): void {
    this.box.destroy();
  }
}
