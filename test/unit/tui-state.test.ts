// The TUI's state reducer, render scheduler and keymap: pure logic, tested as tables.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { parseConfigObject } from '../../src/config/load.js';
import { BINDINGS, bindingsFor, dialogHints, findBinding, type DialogScope } from '../../screens/keys.js';
import { keysMarkdown, README_BEGIN, README_END } from '../../screens/keys-doc.js';
import { createRenderScheduler } from '../../screens/scheduler.js';
import { addRateSample, applyEvent, pruneJobs, runningJobs, totalBytes } from '../../screens/state/reduce.js';
import { initialState, MAX_NOTICES, MAX_RATES } from '../../screens/state/types.js';
import { keyName } from '../../screens/app.js';

const fresh = () => initialState(parseConfigObject({}), { name: 'h', docker: '1', store: '/s' });

describe('applyEvent', () => {
  it('follows a job from start to end', () => {
    const s = fresh();
    const events: EngineEvent[] = [
      { type: 'job.start', jobId: 'j', kind: 'backup', title: 'backup h', items: 2 },
      { type: 'item.queued', jobId: 'j', item: 'volume a', kind: 'volume', total: 100 },
      { type: 'item.queued', jobId: 'j', item: 'volume b', kind: 'volume', total: 50 },
      { type: 'item.start', jobId: 'j', item: 'volume a', kind: 'volume' },
      { type: 'item.progress', jobId: 'j', item: 'volume a', bytes: 40, rate: 20, eta: 3 },
      { type: 'job.paused', jobId: 'j' },
    ];
    events.forEach((e, i) => applyEvent(s, e, i));
    const job = s.jobs[0]!;
    expect(job.paused).toBe(true);
    expect(job.items[0]).toMatchObject({ name: 'volume a', state: 'running', bytes: 40, total: 100, rate: 20 });
    expect(totalBytes(s)).toBe(40);
    applyEvent(s, { type: 'job.resumed', jobId: 'j' }, 7);
    applyEvent(s, { type: 'item.skipped', jobId: 'j', item: 'volume a', reason: 'skipped by user' }, 8);
    applyEvent(s, { type: 'item.done', jobId: 'j', item: 'volume b', bytes: 50 }, 9);
    applyEvent(s, { type: 'job.end', jobId: 'j', outcome: 'partial', backupId: 'X' }, 10);
    expect(job).toMatchObject({ paused: false, ended: 10, outcome: 'partial', backupId: 'X' });
    expect(job.items.map((i) => i.state)).toEqual(['skipped', 'done']);
    expect(runningJobs(s)).toHaveLength(0);
    expect(s.notices.map((n) => n.level)).toEqual(['warn', 'error']); // skipped warns; partial end is an error line
  });
  it('events of a job whose start was missed still show (uploads)', () => {
    const s = fresh();
    applyEvent(s, { type: 'item.progress', jobId: 'up', item: 'upload nas', bytes: 5 }, 0);
    expect(s.jobs[0]).toMatchObject({ id: 'up', items: [{ name: 'upload nas', bytes: 5 }] });
    applyEvent(s, { type: 'item.progress', jobId: 'up', item: 'upload nas', bytes: 9, sent: 2, skipped: 6 }, 1);
    expect(s.jobs[0]!.items[0]).toMatchObject({ bytes: 9, sent: 2, skipped: 6 });
  });
  it('log events reach the log and warnings the error pane, capped', () => {
    const s = fresh();
    for (let i = 0; i < MAX_NOTICES + 5; i++)
      applyEvent(s, { type: 'log', level: 'warn', source: 'x', msg: `m${i}` }, i);
    expect(s.notices).toHaveLength(MAX_NOTICES);
    expect(s.notices.at(-1)!.msg).toContain(`m${MAX_NOTICES + 4}`);
    expect(s.log).toHaveLength(MAX_NOTICES + 5);
  });
  it('rate samples are capped and never negative', () => {
    const s = fresh();
    for (let i = 0; i < MAX_RATES + 3; i++) addRateSample(s, -1);
    expect(s.rates).toHaveLength(MAX_RATES);
    expect(Math.min(...s.rates)).toBe(0);
  });
  it('keeps only the newest finished jobs', () => {
    const s = fresh();
    for (let i = 0; i < 12; i++) {
      applyEvent(s, { type: 'job.start', jobId: `j${i}`, kind: 'verify', title: 't', items: 0 }, i);
      applyEvent(s, { type: 'job.end', jobId: `j${i}`, outcome: 'ok' }, i);
    }
    pruneJobs(s, 8);
    expect(s.jobs.map((j) => j.id)).toEqual(['j4', 'j5', 'j6', 'j7', 'j8', 'j9', 'j10', 'j11']);
  });
});

describe('render scheduler', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it('coalesces data changes into one render per 200 ms and is silent when idle', () => {
    let renders = 0;
    const s = createRenderScheduler(
      () => renders++,
      200,
      () => Date.now(),
      30,
    );
    for (let i = 0; i < 50; i++) s.request();
    vi.advanceTimersByTime(0);
    expect(renders).toBe(1);
    for (let i = 0; i < 19; i++) {
      s.request();
      vi.advanceTimersByTime(10);
    }
    expect(renders).toBe(1);
    vi.advanceTimersByTime(10);
    expect(renders).toBe(2); // 200 ms after the first
    vi.advanceTimersByTime(10_000);
    expect(renders).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    s.stop();
  });
  it('a key press is drawn within 30 ms even when a data render is pending later', () => {
    let renders = 0;
    const s = createRenderScheduler(
      () => renders++,
      200,
      () => Date.now(),
      30,
    );
    s.flush();
    s.request(); // due in 200 ms
    vi.advanceTimersByTime(5);
    s.requestSoon(); // due 30 ms after the last render
    vi.advanceTimersByTime(25);
    expect(renders).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(renders).toBe(2);
    s.stop();
  });
});

describe('keymap', () => {
  it.each([
    { key: 'q', screen: 'dashboard' as const, list: true, help: 'quit' },
    { key: 'S-q', screen: 'backups' as const, list: true, help: 'quit' },
    { key: 'r', screen: 'backups' as const, list: true, help: 'restore the open backup' },
    { key: 'r', screen: 'remotes' as const, list: true, help: 'restore the remote backup' },
    { key: 'j', screen: 'log' as const, list: true, help: 'move down' },
    { key: 'space', screen: 'dashboard' as const, list: true, help: 'select' },
    { key: 'escape', screen: 'remotes' as const, list: true, help: 'back' },
    { key: '3', screen: 'dashboard' as const, list: true, help: 'focus pane N' },
  ])('$key on $screen', ({ key, screen, list, help }) => {
    expect(findBinding(key, screen, list)?.help).toContain(help);
  });
  it('no key is bound twice in one scope', () => {
    const seen = new Set<string>();
    for (const b of BINDINGS)
      for (const k of b.keys) {
        const id = `${b.scope}:${k}`;
        expect(seen.has(id), id).toBe(false);
        seen.add(id);
      }
  });
  it('a screen key that is also global means the screen one (space selects on the dashboard, marks files on backups, nothing on remotes)', () => {
    expect(findBinding('space', 'remotes', true)).toBeUndefined();
    expect(findBinding('space', 'backups', true)!.status).toBe('mark');
    expect(findBinding('space', 'dashboard', true)!.status).toBe('select');
    expect(bindingsFor('dashboard')[0]!.scope).toBe('dashboard');
  });
  const DIALOGS: DialogScope[] = ['form', 'confirm', 'allow', 'overlay', 'prompt'];
  it.each(DIALOGS)('the %s dialog has its keys in the table, Esc among them (no dialog traps the user)', (scope) => {
    const keys = BINDINGS.filter((b) => b.scope === scope).flatMap((b) => b.keys);
    expect(keys).toContain('escape');
  });
  it('form: Enter confirms, Space toggles, Tab and S-tab move; allow: Enter is not bound', () => {
    const form = (k: string) => BINDINGS.find((b) => b.scope === 'form' && b.keys.includes(k))?.help;
    expect(form('enter')).toMatch(/^confirm/);
    expect(form('space')).toMatch(/^tick/);
    expect(form('tab')).toMatch(/^next field/);
    expect(form('S-tab')).toMatch(/^previous field/);
    expect(BINDINGS.some((b) => b.scope === 'allow' && b.keys.includes('enter'))).toBe(false);
    expect(dialogHints('confirm')).toBe('Enter/y yes   Esc/n no');
  });
  it('names keys the way BINDINGS spells them', () => {
    expect(keyName('\r', { name: 'enter' })).toBe('enter');
    expect(keyName('Q', { name: 'q', shift: true, full: 'S-q' })).toBe('S-q');
    expect(keyName('?', {})).toBe('?');
  });
  it('the README keys table is the one BINDINGS generates (npx tsx screens/gen-keys-doc.ts)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf(README_BEGIN);
    const end = readme.indexOf(README_END);
    expect(start).toBeGreaterThan(-1);
    expect(readme.slice(start + README_BEGIN.length, end).trim()).toBe(keysMarkdown().trim());
  });
});
