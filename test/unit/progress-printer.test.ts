// The CLI's text printer against a fake terminal: live bars redrawn in place on a TTY, one plain
// line per finished item elsewhere, nothing with --quiet; and the exit code of a job result.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { requestFromFlags } from '../../src/cli/commands/backup.js';
import { exitCodeFor } from '../../src/errors.js';
import { textPrinter } from '../../src/cli/printers/text.js';
import type { EngineEvent } from '../../src/events.js';

function run(live: boolean, quiet = false): string {
  const out = Object.assign(new PassThrough(), { columns: 100, isTTY: live });
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const p = textPrinter({ out, live, quiet });
  const events: EngineEvent[] = [
    { type: 'job.start', jobId: 'j', kind: 'backup', title: 'backup h -> 1', items: 2 },
    { type: 'item.start', jobId: 'j', item: 'volume a', kind: 'volume', total: 100 },
    { type: 'item.progress', jobId: 'j', item: 'volume a', bytes: 50, total: 100, rate: 10, eta: 5 },
    { type: 'item.done', jobId: 'j', item: 'volume a', bytes: 100 },
    { type: 'item.failed', jobId: 'j', item: 'volume b', error: { code: 'TOOL_FAILED', message: 'rsync was killed' } },
    { type: 'job.end', jobId: 'j', outcome: 'partial' },
  ];
  for (const e of events) p.emit(e);
  p.close();
  return text;
}

describe('text printer', () => {
  it('on a terminal draws and erases a live bar', () => {
    const t = run(true);
    expect(t).toMatch(/volume a\s+█+░+\s+50%/);
    expect(t).toContain('\x1b[1A\x1b[0J');
    expect(t).toContain('  ok       volume a');
    expect(t).toContain('  FAILED   volume b: rsync was killed');
  });
  it('elsewhere prints plain lines only', () => {
    const t = run(false);
    expect(t).toBe('backup h -> 1\n  ok       volume a  100 B\n  FAILED   volume b: rsync was killed\n');
  });
  it('quiet prints nothing', () => expect(run(false, true)).toBe(''));
});

describe('backup flags', () => {
  const scope = { containers: true, volumes: true, networks: true };
  const base = { networks: true, upload: true };
  it.each([
    [
      { ...base, configOnly: true },
      { containers: true, volumes: false, networks: true },
    ],
    [
      { ...base, volumesOnly: true },
      { containers: false, volumes: true, networks: false },
    ],
    [
      { ...base, networks: false },
      { containers: true, volumes: true, networks: false },
    ],
    [base, undefined],
  ])('%j -> scope %j', (flags, expected) => expect(requestFromFlags(flags, scope).scope).toEqual(expected));
  it('--no-upload means no remotes; --level alone keeps the configured method', () => {
    expect(requestFromFlags({ ...base, upload: false, remote: ['x'] }, scope).remotes).toEqual([]);
    expect(requestFromFlags({ ...base, level: '7' }, scope, 'gzip').compression).toEqual({ method: 'gzip', level: 7 });
    expect(() => requestFromFlags({ ...base, level: 'x' }, scope)).toThrow(/--level/);
    expect(() => requestFromFlags({ ...base, configOnly: true, volumesOnly: true }, scope)).toThrow(/exclude/);
  });
  it.each([
    ['ok', [], 0],
    ['partial', [], 4],
    ['cancelled', [], 5],
    ['failed', [{ item: 'backup', code: 'LOCKED', message: '' }], 3],
    ['failed', [{ item: 'backup', code: 'NOT_FOUND', message: '' }], 1],
    ['failed', [{ item: 'backup', code: 'PARTIAL', message: '' }], 4],
    ['failed', [{ item: 'backup', code: 'INTERNAL', message: '' }], 3],
  ] as const)('outcome %s %j -> exit %i', (outcome, errors, code) =>
    expect(exitCodeFor({ outcome, errors: [...errors] })).toBe(code),
  );
});
