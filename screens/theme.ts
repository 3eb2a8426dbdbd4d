// Colours and glyphs, decided once at start: NO_COLOR (https://no-color.org) turns colour off,
// a non-UTF-8 locale (or BBACKUP_ASCII=1) turns the glyphs into ASCII. Presenters take a Theme so
// they stay pure and testable in both modes.
import blessed from 'blessed';

export type Color = 'green' | 'red' | 'yellow' | 'cyan' | 'blue' | 'magenta' | 'gray' | 'white';

export interface Glyphs {
  full: string;
  empty: string;
  check: string;
  cross: string;
  skip: string;
  run: string;
  pause: string;
  sep: string;
  on: string;
  off: string;
}

export interface Theme {
  color: boolean;
  unicode: boolean;
  glyphs: Glyphs;
  /** wrap text in a blessed colour tag (identity without colour) */
  paint(color: Color, text: string): string;
  bold(text: string): string;
}

const UNICODE: Glyphs = {
  full: '█',
  empty: '░',
  check: '✓',
  cross: '✗',
  skip: '↷',
  run: '▶',
  pause: '‖',
  sep: '·',
  on: '[x]',
  off: '[ ]',
};
const ASCII: Glyphs = {
  full: '#',
  empty: '-',
  check: 'ok',
  cross: 'X',
  skip: '>>',
  run: '>',
  pause: '||',
  sep: '-',
  on: '[x]',
  off: '[ ]',
};

export function makeTheme(opts: { color: boolean; unicode: boolean }): Theme {
  return {
    color: opts.color,
    unicode: opts.unicode,
    glyphs: opts.unicode ? UNICODE : ASCII,
    paint: (color, text) => (opts.color ? `{${color}-fg}${text}{/${color}-fg}` : text),
    bold: (text) => `{bold}${text}{/bold}`,
  };
}

/** What the environment asks for: NO_COLOR set (any value) means no colour; UTF-8 locale means unicode. */
export function themeFromEnv(env: NodeJS.ProcessEnv): Theme {
  const color = env.NO_COLOR === undefined || env.NO_COLOR === '' ? env.BBACKUP_NO_COLOR === undefined : false;
  const locale = `${env.LC_ALL ?? ''}:${env.LC_CTYPE ?? ''}:${env.LANG ?? ''}`;
  const unicode = env.BBACKUP_ASCII ? false : /utf-?8/i.test(locale);
  return makeTheme({ color, unicode });
}

/** Text from outside (names, log lines) must not be read as blessed tags. */
export const esc = (text: string): string => blessed.escape(text);
