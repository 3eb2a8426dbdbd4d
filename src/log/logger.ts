// Logging (config `logging`): a size-rotated file (rotating-file-stream, classic logrotate naming
// file, file.1 ... file.N) plus a console sink for warnings and errors so the user sees them
// (stderr in the CLI; the TUI passes its own sink that feeds the error pane).
import { mkdirSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import { expandHome } from '../config/locate.js';
import type { Config } from '../config/schema.js';
import { assertNever } from '../errors.js';
import type { Emit, EngineEvent, LogLevel } from '../events.js';
import { redactorFor } from './redact.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  time: Date;
  level: LogLevel;
  source: string;
  msg: string;
}

export type LogSink = (r: LogRecord) => void;

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** `console: false` records the line in the file and sinks only (the caller already told the user) */
  log(level: LogLevel, msg: string, opts?: { console?: boolean }): void;
  /** same sinks, another source name in each line */
  child(source: string): Logger;
  /** an Emit that records engine events in the log */
  readonly emit: Emit;
  /** flush and close the file; call before the process exits */
  close(): Promise<void>;
}

export interface LoggerOptions {
  /** messages at or above this level go to the console sink (default warn) */
  consoleLevel?: LogLevel;
  console?: LogSink;
  /** extra sinks (the TUI's event store) */
  sinks?: LogSink[];
  /** applied to every message before any sink sees it (src/log/redact.ts: the config's secrets) */
  redact?: (text: string) => string;
}

export const formatRecord = (r: LogRecord): string =>
  `${r.time.toISOString()} ${r.level.toUpperCase().padEnd(5)} [${r.source}] ${r.msg}`;

export function createLogger(cfg: Config['logging'], opts: LoggerOptions = {}): Logger {
  const fileLevel = RANK[cfg.level];
  const consoleLevel = RANK[opts.consoleLevel ?? 'warn'];
  const sinks = opts.sinks ?? [];
  // A log that cannot be written must not take the command down with it: say so and go on.
  const fileProblem = (path: string, err: unknown) => {
    const r: LogRecord = {
      time: new Date(),
      level: 'warn',
      source: 'bbackup',
      msg: `cannot write the log file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    };
    opts.console?.(r);
    for (const sink of sinks) sink(r);
  };
  let file: RotatingFileStream | undefined;
  if (cfg.file) {
    const path = expandHome(cfg.file);
    try {
      file = openLogFile(path, cfg.max_size_mb, cfg.backup_count);
      file.on('error', (err) => {
        fileProblem(path, err);
        file = undefined;
      });
    } catch (err) {
      fileProblem(path, err);
    }
  }
  const redact = opts.redact ?? redactorFor(undefined);
  const write = (record: LogRecord, toConsole: boolean) => {
    const r = { ...record, msg: redact(record.msg) };
    const rank = RANK[r.level];
    if (file && rank >= fileLevel) file.write(`${formatRecord(r)}\n`);
    if (toConsole && opts.console && rank >= consoleLevel) opts.console(r);
    for (const sink of sinks) sink(r);
  };
  const make = (source: string): Logger => {
    const log = (level: LogLevel, msg: string, o: { console?: boolean } = {}) =>
      write({ time: new Date(), level, source, msg }, o.console !== false);
    return {
      debug: (m) => log('debug', m),
      info: (m) => log('info', m),
      warn: (m) => log('warn', m),
      error: (m) => log('error', m),
      log,
      child: (s) => make(s),
      emit: (e) => {
        const line = describeEvent(e);
        if (line) log(line.level, line.msg);
      },
      close: () =>
        new Promise<void>((resolve) => {
          if (!file) return resolve();
          file.end(() => resolve());
          file.once('error', () => resolve());
        }),
    };
  };
  return make('bbackup');
}

function openLogFile(path: string, maxSizeMb: number, backupCount: number): RotatingFileStream {
  mkdirSync(dirname(path), { recursive: true });
  const name = basename(path);
  const kib = Math.max(1, Math.round(maxSizeMb * 1024));
  // With `rotate` set (classic logrotate naming), the generator gets only the index (null for
  // the live file). backup_count 0 means "no rotated copies": rotate into file.1, then drop it.
  const stream = createStream(
    (index: number | Date | null) => (typeof index === 'number' && index > 0 ? `${name}.${index}` : name),
    {
      path: dirname(path),
      size: `${kib}K`,
      rotate: Math.max(1, backupCount),
    },
  );
  if (backupCount === 0) stream.on('rotated', (rotated: string) => rmSync(rotated, { force: true }));
  return stream;
}

/** Engine events worth a log line; progress is too chatty for the file. */
export function describeEvent(e: EngineEvent): { level: LogLevel; msg: string } | undefined {
  switch (e.type) {
    case 'job.start':
      return { level: 'info', msg: `job ${e.jobId} ${e.kind} started: ${e.title}` };
    case 'item.queued':
    case 'item.progress':
      return undefined;
    case 'item.start':
      // item names already say what they are ("volume db", "upload nas"), as in the lines below
      return { level: 'debug', msg: `job ${e.jobId} ${e.item} started` };
    case 'item.done':
      return {
        level: 'info',
        msg: `job ${e.jobId} ${e.item} done (${e.bytes} bytes)${e.detail ? ` ${e.detail}` : ''}`,
      };
    case 'item.failed':
      return { level: 'error', msg: `job ${e.jobId} ${e.item} failed: ${e.error.message}` };
    case 'item.skipped':
      return { level: 'warn', msg: `job ${e.jobId} ${e.item} skipped: ${e.reason}` };
    case 'job.paused':
      return { level: 'info', msg: `job ${e.jobId} paused` };
    case 'job.resumed':
      return { level: 'info', msg: `job ${e.jobId} resumed` };
    case 'job.end':
      return {
        level: e.outcome === 'ok' ? 'info' : e.outcome === 'cancelled' ? 'warn' : 'error',
        msg: `job ${e.jobId} ended: ${e.outcome}${e.summary ? ` (${e.summary})` : ''}`,
      };
    case 'log':
      return { level: e.level, msg: `${e.source}: ${e.msg}` };
    default:
      return assertNever(e, 'event');
  }
}
