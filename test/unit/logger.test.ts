// The logging section: levels, the console sink (stderr in the CLI) and size rotation of the file.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import type { LogLevel } from '../../src/events.js';
import { createLogger, describeEvent, type LogRecord } from '../../src/log/logger.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'bbt-log-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const logging = (over: Record<string, unknown> = {}) => parseConfigObject({ logging: over }).logging;

describe('log levels', () => {
  it.each<{ level: LogLevel; written: LogLevel[] }>([
    { level: 'debug', written: ['debug', 'info', 'warn', 'error'] },
    { level: 'info', written: ['info', 'warn', 'error'] },
    { level: 'warn', written: ['warn', 'error'] },
    { level: 'error', written: ['error'] },
  ])('file level $level keeps $written', async ({ level, written }) => {
    const file = join(tempDir(), 'sub', 'dir', 'bbackup.log');
    const log = createLogger(logging({ level, file }));
    for (const l of ['debug', 'info', 'warn', 'error'] as const) log[l](`message at ${l}`);
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.match(/message at (\w+)/)?.[1])).toEqual(written);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z [A-Z]+ +\[bbackup\] message at/);
  });

  it.each<{ consoleLevel: LogLevel; seen: LogLevel[] }>([
    { consoleLevel: 'warn', seen: ['warn', 'error'] },
    { consoleLevel: 'error', seen: ['error'] },
    { consoleLevel: 'info', seen: ['info', 'warn', 'error'] },
  ])('console level $consoleLevel shows $seen, independent of the file level', async ({ consoleLevel, seen }) => {
    const records: LogRecord[] = [];
    const log = createLogger(logging({ level: 'error' }), { consoleLevel, console: (r) => records.push(r) });
    for (const l of ['debug', 'info', 'warn', 'error'] as const) log[l](l);
    log.log('error', 'file only', { console: false });
    await log.close();
    expect(records.map((r) => r.level)).toEqual(seen);
  });

  it('child loggers name their source; extra sinks see every record', async () => {
    const sink: LogRecord[] = [];
    const file = join(tempDir(), 'x.log');
    const log = createLogger(logging({ file, level: 'debug' }), { sinks: [(r) => sink.push(r)] });
    log.child('rsync').debug('hello');
    await log.close();
    expect(sink).toMatchObject([{ source: 'rsync', level: 'debug', msg: 'hello' }]);
    expect(readFileSync(file, 'utf8')).toContain('[rsync] hello');
  });

  it('engine events become log lines (progress does not)', () => {
    expect(
      describeEvent({ type: 'item.failed', jobId: 'j', item: 'volume a', error: { message: 'boom' } } as never),
    ).toEqual({ level: 'error', msg: 'job j volume a failed: boom' });
    expect(describeEvent({ type: 'item.progress', jobId: 'j', item: 'a', bytes: 1 } as never)).toBeUndefined();
  });

  it.each([
    ['volume', 'volume bbdemo-db-data', 'job j volume bbdemo-db-data started'],
    ['container', 'container web', 'job j container web started'],
    ['metadata', 'metadata', 'job j metadata started'],
    ['upload', 'upload nas', 'job j upload nas started'],
    ['upload', 'nas: volumes/db.tar.zst', 'job j nas: volumes/db.tar.zst started'],
  ] as const)('an item start names the item once (%s %s)', (kind, item, msg) => {
    const start = describeEvent({ type: 'item.start', jobId: 'j', item, kind });
    const done = describeEvent({ type: 'item.done', jobId: 'j', item, bytes: 0 });
    expect(start).toEqual({ level: 'debug', msg });
    expect(start!.msg).not.toMatch(/\b(\w+) \1\b/);
    // the same words as the done line, so the two read as a pair
    expect(done!.msg.replace(/ done .*$/, '')).toBe(msg.replace(/ started$/, ''));
  });
});

describe('rotation (max_size_mb, backup_count)', () => {
  const writePast = async (dir: string, backupCount: number, kib: number) => {
    const file = join(dir, 'bbackup.log');
    // 1 KiB per file; every line ~100 bytes, so `kib` KiB written rotate about `kib` times.
    const log = createLogger(logging({ file, max_size_mb: 1 / 1024, backup_count: backupCount }));
    for (let i = 0; i < kib * 10; i++) {
      log.info(`line ${String(i).padStart(5, '0')} ${'x'.repeat(40)}`);
      // Rotation happens between writes; give the stream a turn like a real program does.
      await new Promise((r) => setImmediate(r));
    }
    await log.close();
    return readdirSync(dir).sort();
  };

  it.each([
    { backupCount: 3, expected: ['bbackup.log', 'bbackup.log.1', 'bbackup.log.2', 'bbackup.log.3'] },
    { backupCount: 1, expected: ['bbackup.log', 'bbackup.log.1'] },
    { backupCount: 0, expected: ['bbackup.log'] },
  ])('backup_count $backupCount keeps $expected', async ({ backupCount, expected }) => {
    const dir = tempDir();
    const files = await writePast(dir, backupCount, 8);
    expect(files).toEqual(expected);
    for (const f of files) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(1024 + 200);
    // The newest line is in the live file; older lines moved to .1, .2, ...
    expect(readFileSync(join(dir, 'bbackup.log'), 'utf8')).toContain('line 00079');
    if (backupCount > 0) {
      const rotated = readFileSync(join(dir, 'bbackup.log.1'), 'utf8');
      expect(rotated).not.toContain('line 00079');
      expect(rotated).toMatch(/line 000[67]\d/);
    }
  });
});
