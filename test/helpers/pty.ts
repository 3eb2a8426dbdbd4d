// The real bbackup in a pseudo-terminal, read through a headless xterm (RECIPES §3): tests press
// real keys and poll the screen text. Never assert on a first paint: blessed draws in pieces.
import pty from 'node-pty';
import xterm from '@xterm/headless';
import { onTestFinished } from 'vitest';
import { cliCommand } from './cli.js';

const { Terminal } = xterm;

export interface PtyApp {
  /** the screen as text, one string per row */
  lines(): string[];
  text(): string;
  /** everything the program wrote, raw (escape sequences included) */
  raw(): string;
  write(keys: string): void;
  /** poll until pred(screen text) holds; throws with the screen on timeout */
  waitFor(pred: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  resize(cols: number, rows: number): void;
  kill(signal?: string): void;
  readonly pid: number;
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  /** `exited`, or an error with the screen when the program has not ended within timeoutMs */
  waitExit(timeoutMs?: number): Promise<{ exitCode: number; signal?: number }>;
  /** the terminal's active buffer: 'normal' after a clean exit, 'alternate' while the UI runs */
  bufferType(): string;
  /** true when the last cursor-visibility sequence hid the cursor */
  cursorHidden(): boolean;
  /** how the first character of `text` on the screen is drawn (undefined when it is not shown) */
  style(text: string): { bold: boolean; fg: number; palette: boolean } | undefined;
}

export const KEYS = {
  enter: '\r',
  escape: '\x1b',
  tab: '\t',
  shiftTab: '\x1b[Z',
  up: '\x1b[A',
  down: '\x1b[B',
  home: '\x1b[H',
  end: '\x1b[F',
  pageDown: '\x1b[6~',
  space: ' ',
  ctrlC: '\x03',
  backspace: '\x7f',
} as const;

/** opts.command: another program to run in the terminal (default: bbackup from source), e.g. scripts/demo.sh. */
export function spawnTui(
  args: string[],
  opts: {
    env?: Record<string, string | undefined>;
    cols?: number;
    rows?: number;
    command?: { file: string; args: string[]; cwd: string };
  } = {},
): PtyApp {
  const cols = opts.cols ?? 120;
  const rows = opts.rows ?? 36;
  const { file, args: base, cwd } = opts.command ?? cliCommand();
  const term = new Terminal({ cols, rows, allowProposedApi: true });
  const env = {
    ...process.env,
    TERM: 'xterm-256color',
    NCURSES_NO_UTF8_ACS: '1',
    LANG: 'C.UTF-8',
    ...opts.env,
  } as Record<string, string>;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = pty.spawn(file, [...base, ...args], { name: 'xterm-256color', cols, rows, cwd, env });
  let raw = '';
  child.onData((d) => {
    raw += d;
    term.write(d);
  });
  term.onData((d) => child.write(d));
  const exited = new Promise<{ exitCode: number; signal?: number }>((resolve) => child.onExit((e) => resolve(e)));
  let done = false;
  void exited.then(() => (done = true));
  onTestFinished(() => {
    if (!done) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  const lines = () => {
    const buf = term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < term.rows; i++) out.push(buf.getLine(buf.viewportY + i)?.translateToString(true) ?? '');
    return out;
  };
  // xterm parses asynchronously: flush pending writes before reading the buffer
  const settle = () => new Promise<void>((r) => term.write('', () => r()));
  const app: PtyApp = {
    lines,
    text: () => lines().join('\n'),
    raw: () => raw,
    write: (keys) => child.write(keys),
    async waitFor(pred, what, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        await settle();
        const t = lines().join('\n');
        if (pred(t)) return t;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${t}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    resize(c, r) {
      child.resize(c, r);
      term.resize(c, r);
    },
    kill: (signal = 'SIGTERM') => child.kill(signal),
    get pid() {
      return child.pid;
    },
    exited,
    async waitExit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void settle().then(() => reject(new Error(`the program did not exit; screen:\n${lines().join('\n')}`)));
        }, timeoutMs);
      });
      // xterm parses what it was given asynchronously: the program's last words (an error after the
      // screen was restored) must be on the screen before the caller reads it
      return Promise.race([exited, late])
        .then(async (e) => {
          await settle();
          return e;
        })
        .finally(() => clearTimeout(timer));
    },
    bufferType: () => term.buffer.active.type,
    cursorHidden: () => raw.lastIndexOf('\x1b[?25l') > raw.lastIndexOf('\x1b[?25h'),
    style(text) {
      const buf = term.buffer.active;
      const rows = lines();
      const y = rows.findIndex((l) => l.includes(text));
      if (y < 0) return undefined;
      const cell = buf.getLine(buf.viewportY + y)?.getCell(rows[y]!.indexOf(text));
      return cell ? { bold: cell.isBold() !== 0, fg: cell.getFgColor(), palette: cell.isFgPalette() } : undefined;
    },
  };
  return app;
}
