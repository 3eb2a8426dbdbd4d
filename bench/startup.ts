// Start-up of the built CLI (dist/, as installed), each case 3 times, the median reported:
// `bbackup --version` against `node -e 0` (target <= 0.15 s), `bbackup list-containers` against
// the same engine (target <= 0.4 s), and the TUI's first paint: from spawning it in a terminal
// to the dashboard on screen (target <= 0.6 s). Creates no Docker objects.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pty from 'node-pty';
import xterm from '@xterm/headless';
import { median, report, round, timed } from './lib.js';

const root = process.cwd();
// the command as installed (package.json "bin"), as a user starts it
const bin = join(root, 'dist/src/cli/bbackup.cjs');

/** Seconds from spawning the TUI in a 120x36 terminal until the dashboard's chrome is drawn. */
async function firstPaint(config: string): Promise<number> {
  const term = new xterm.Terminal({ cols: 120, rows: 36, allowProposedApi: true });
  const text = () => {
    const b = term.buffer.active;
    return Array.from({ length: term.rows }, (_, i) => b.getLine(b.viewportY + i)?.translateToString(true) ?? '').join(
      '\n',
    );
  };
  const t0 = process.hrtime.bigint();
  const child = pty.spawn(process.execPath, [bin, '-c', config], {
    name: 'xterm-256color',
    cols: 120,
    rows: 36,
    cwd: root,
    env: { ...process.env, TERM: 'xterm-256color', LANG: 'C.UTF-8' } as Record<string, string>,
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: no dashboard after 60 s:\n${text()}`)), 60_000);
      child.onData((d) =>
        term.write(d, () => {
          const t = text();
          if (t.includes('Q quit') && t.includes('Containers')) {
            clearTimeout(timer);
            resolve(Number(process.hrtime.bigint() - t0) / 1e9);
          }
        }),
      );
      child.onExit((e) =>
        reject(new Error(`bench: the TUI exited (${e.exitCode}) before its first paint:\n${text()}`)),
      );
    });
  } finally {
    child.kill('SIGTERM');
  }
}

const work = await mkdtemp(join('/var/tmp', 'bbt-startup-bench-'));
try {
  const config = join(work, 'c.yaml');
  await writeFile(
    config,
    `backup: { store: ${join(work, 'store')} }\nretention: { enabled: false }\nlogging: { file: ${join(work, 'log')} }\n`,
  );
  const runs = (f: () => number) => median([f(), f(), f()]);
  const node0 = runs(() => timed(process.execPath, ['-e', '0']));
  const version = runs(() => timed(process.execPath, [bin, '--version']));
  report({
    bench: 'startup',
    case: 'bbackup --version (vs node -e 0)',
    value: round(version),
    unit: 's',
    baseline: round(node0),
    ratio: round(version / node0),
    target: '<= 0.15 s',
    pass: version <= 0.15,
  });
  const list = runs(() => timed(process.execPath, [bin, '-c', config, 'list-containers']));
  report({
    bench: 'startup',
    case: 'bbackup list-containers',
    value: round(list),
    unit: 's',
    baseline: round(node0),
    ratio: round(list / node0),
    target: '<= 0.4 s',
    pass: list <= 0.4,
  });
  const paints: number[] = [];
  for (let r = 0; r < 3; r++) paints.push(await firstPaint(config));
  const paint = median(paints);
  report({
    bench: 'startup',
    case: 'TUI first paint (spawn to dashboard)',
    value: round(paint),
    unit: 's',
    baseline: round(node0),
    ratio: round(paint / node0),
    target: '<= 0.6 s',
    pass: paint <= 0.6,
  });
} finally {
  await rm(work, { recursive: true, force: true });
}
process.exit(0);
