// Dialog keys in a real pseudo-terminal (issue 13): B then Enter starts the backup (the default
// button has the cursor when the scope dialog opens); Tab moves and Space unticks a box without
// leaving the dialog; Enter on a box confirms the dialog with the boxes as they stand; the help
// overlay lists the dialogs' keys from the key table; --no-color draws no colour; SIGHUP (the
// terminal closed) still leaves the terminal in normal mode.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { KEYS, spawnTui, type PtyApp } from '../helpers/pty.js';
import { makeWorld, openBackupDialogFor, press, type TuiWorld } from './fixture.js';

const SGR_COLOUR = /\x1b\[[0-9;]*(?:3[0-7]|38;5;\d+|9[0-7]|4[0-7]|48;5;\d+)m/;
const dashboardReady = (t: string) => t.includes('Containers') && t.includes('Overall') && t.includes('Q quit');

interface Saved {
  items: { kind: string; name: string }[];
}

/** The manifests of the finished backups in the store (waits for `count` of them). */
async function manifests(w: TuiWorld): Promise<Saved[]> {
  const out: Saved[] = [];
  for (const host of (await readdir(w.store).catch(() => [] as string[])).filter((n) => !n.startsWith('.')))
    for (const id of (await readdir(join(w.store, host))).filter((n) => /^\d{8}T\d{6}Z(-\d+)?$/.test(n)))
      out.push(JSON.parse(await readFile(join(w.store, host, id, 'manifest.json'), 'utf8')) as Saved);
  return out;
}

async function untilBackups(w: TuiWorld, app: PtyApp, count: number): Promise<Saved[]> {
  for (const end = Date.now() + 60_000; Date.now() < end;) {
    const found = await manifests(w);
    if (found.length >= count) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${count} backup(s) in ${w.store}; screen:\n${app.text()}`);
}

it('B then Enter starts the backup; Tab and Space untick a box, Enter on it still starts', async () => {
  const w = await makeWorld({ bigMB: 1 });
  const app = spawnTui(['-c', w.config], { cols: 120, rows: 40 });
  await app.waitFor((t) => dashboardReady(t) && t.includes(w.c2), 'the dashboard with c2');

  // 1. B, Enter: the default button (Start backup) has the cursor, the scope stays as it was
  await openBackupDialogFor(app, w.c2);
  await press(app, KEYS.enter);
  const [first] = await untilBackups(w, app, 1);
  const kinds = (m: Saved) => new Set(m.items.map((i) => i.kind));
  expect(kinds(first!)).toContain('container');
  expect(kinds(first!)).toContain('volume');
  await app.waitFor((t) => !t.includes('< Start backup >'), 'the dialog closed');
  await app.waitFor((t) => /backup .*done/.test(t), 'the first backup done');

  // 2. Home (first box: container config), Tab (volumes), Space unticks it, Enter starts without volumes
  await press(app, 'b');
  await app.waitFor((t) => t.includes('< Start backup >'), 'the scope dialog again');
  await press(app, KEYS.home, KEYS.tab, KEYS.space);
  await app.waitFor((t) => /\[ \] volumes \(selected/.test(t) && /\[x\] container config/.test(t), 'volumes unticked');
  await press(app, KEYS.enter);
  const all = await untilBackups(w, app, 2);
  const second = all.find((m) => !kinds(m).has('volume'));
  expect(second, 'a backup without volumes').toBeDefined();
  expect(kinds(second!)).toContain('container');

  await app.waitFor((t) => !t.includes('< Start backup >') && !/backup .*running/.test(t), 'the second backup done');
  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});

async function plainConfig(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bbt-keys-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const socket = (process.env.BBACKUP_TEST_DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
  await writeFile(join(dir, 'c.yaml'), `backup: { store: ${join(dir, 'store')} }\ndocker: { socket: ${socket} }\n`);
  return join(dir, 'c.yaml');
}

it('the help overlay lists the dialog keys from the key table', async () => {
  const app = spawnTui(['-c', await plainConfig()], { cols: 100, rows: 30 });
  await app.waitFor(dashboardReady, 'the dashboard');
  await press(app, 'h');
  await app.waitFor((t) => t.includes('First steps'), 'the help overlay');
  let help = app.text();
  for (let i = 0; i < 12 && !help.includes('tick / untick the focused box'); i++) {
    await press(app, KEYS.pageDown);
    help = app.text();
  }
  expect(help).toContain('In a form dialog');
  expect(help).toContain('tick / untick the focused box');
  await press(app, KEYS.escape);
  await app.waitFor((t) => !t.includes('tick / untick'), 'help closed');

  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
});

it('--no-color: the TUI draws no colour (without it, it does); command output has no escapes either', async () => {
  const config = await plainConfig();
  const coloured = spawnTui(['-c', config], { cols: 100, rows: 30, env: { NO_COLOR: undefined } });
  await coloured.waitFor(dashboardReady, 'the dashboard in colour');
  await press(coloured, 'q');
  await coloured.waitExit();
  expect(coloured.raw()).toMatch(SGR_COLOUR);

  const plain = spawnTui(['--no-color', '-c', config], { cols: 100, rows: 30, env: { NO_COLOR: undefined } });
  await plain.waitFor(dashboardReady, 'the dashboard without colour');
  await press(plain, 'q');
  expect((await plain.waitExit()).exitCode).toBe(0);
  expect(plain.raw()).not.toMatch(SGR_COLOUR);

  const cli = await runCli(['--no-color', '-c', config, 'list-backups'], { env: { NO_COLOR: undefined } });
  expect(cli.exitCode, cli.stderr).toBe(0);
  expect(cli.stdout + cli.stderr).not.toContain('\x1b[');
});

it('SIGHUP (the terminal went away) restores the terminal and ends the process', async () => {
  const app = spawnTui(['-c', await plainConfig()], { cols: 80, rows: 24 });
  await app.waitFor(dashboardReady, 'the dashboard');
  expect(app.bufferType()).toBe('alternate');
  app.kill('SIGHUP');
  const { exitCode } = await app.waitExit();
  expect(exitCode).toBe(0);
  expect(app.bufferType()).toBe('normal');
  expect(app.cursorHidden()).toBe(false);
});
