// Modals sit on top of a screen and get every key first (the app's dispatcher asks the top one).
// Each draws its text from a pure presenter; the box only places it.
import blessed from 'blessed';
import type { Theme } from '../theme.js';

export interface Modal {
  readonly name: string;
  /** true when the key was used; Esc closes the modal unless it used Esc itself */
  handleKey(full: string, ch: string | undefined): boolean;
  draw(): void;
  destroy(): void;
}

/** A centred bordered box sized to its text, clamped to the screen. */
export function modalBox(screen: blessed.Widgets.Screen, title: string, theme: Theme): blessed.Widgets.BoxElement {
  return blessed.box({
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
  box.width = Math.min(cols - 2, Math.max(minWidth, ...lines.map(visible)) + 4);
  box.height = Math.min(rows - 2, lines.length + 2);
  box.top = Math.max(0, Math.floor((rows - Number(box.height)) / 2));
  box.left = Math.max(0, Math.floor((cols - Number(box.width)) / 2));
}

/** Scrollable read-only text (help overlay, details). Closes on Esc or the keys given. */
export class TextModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private top = 0;
  constructor(
    readonly name: string,
    private readonly screen: blessed.Widgets.Screen,
    title: string,
    private readonly lines: () => string[],
    private readonly closeKeys: string[],
    private readonly onClose: () => void,
    theme: Theme,
  ) {
    this.box = modalBox(screen, title, theme);
  }
  handleKey(full: string): boolean {
    if (this.closeKeys.includes(full)) {
      this.onClose();
      return true;
    }
    if (full === 'down' || full === 'j') this.top++;
    else if (full === 'up' || full === 'k') this.top = Math.max(0, this.top - 1);
    else if (full === 'pagedown' || full === 'space') this.top += 10;
    else if (full === 'pageup') this.top = Math.max(0, this.top - 10);
    return true;
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

/** Yes/no question. Enter or y confirms (or only the keys given); n or Esc declines. */
export class ConfirmModal implements Modal {
  readonly name = 'confirm';
  private readonly box: blessed.Widgets.BoxElement;
  constructor(
    private readonly screen: blessed.Widgets.Screen,
    title: string,
    private readonly lines: string[],
    private readonly answer: (yes: boolean) => void,
    private readonly theme: Theme,
    private readonly yes: { keys: string[]; label: string } = { keys: ['y', 'S-y', 'enter'], label: 'Enter/y yes' },
  ) {
    this.box = modalBox(screen, title, theme);
  }
  handleKey(full: string): boolean {
    if (this.yes.keys.includes(full)) this.answer(true);
    else if (full === 'n' || full === 'S-n' || full === 'escape') this.answer(false);
    return true;
  }
  draw(): void {
    const [key, ...words] = this.yes.label.split(' ');
    const lines = [...this.lines, '', `${this.theme.bold(key!)} ${words.join(' ')}   ${this.theme.bold('Esc/n')} no`];
    sizeBox(this.box, this.screen, lines);
    this.box.setContent(lines.join('\n'));
    this.box.setFront();
  }
  destroy(): void {
    this.box.destroy();
  }
}

/** One line of text input at the bottom (the / filter). Enter accepts, Esc cancels. */
export class PromptModal implements Modal {
  readonly name = 'prompt';
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
  handleKey(full: string, ch: string | undefined): boolean {
    if (full === 'enter') this.onDone(this.value);
    else if (full === 'escape') this.onDone(undefined);
    else if (full === 'backspace') this.set(this.value.slice(0, -1));
    else if (full === 'C-u') this.set('');
    else if (ch && ch.length === 1 && ch >= ' ' && ch !== '\x7f') this.set(this.value + ch);
    return true;
  }
  private set(v: string): void {
    this.value = v;
    this.onChange(v);
  }
  draw(): void {
    this.box.setContent(`${this.label}${this.value}_  (Enter keep, Esc clear)`);
    this.box.setFront();
  }
  destroy(): void {
    this.box.destroy();
  }
}
