// Engine events: the one stream every front end (text, JSON, TUI) consumes. A discriminated
// union so that adding an event breaks the build in every consumer's switch: each ends in
// assertNever (src/errors.ts), and the linter checks switches are exhaustive.
import type { ErrorInfo } from './errors.js';

export type { ErrorInfo };

export type JobKind = 'backup' | 'restore' | 'verify' | 'upload' | 'pull' | 'rotate' | 'drill';
export type ItemKind =
  'container' | 'network' | 'volume' | 'image' | 'project' | 'dump' | 'metadata' | 'upload' | 'download' | 'file';
export type Outcome = 'ok' | 'partial' | 'failed' | 'cancelled';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type EngineEvent =
  | { type: 'job.start'; jobId: string; kind: JobKind; title: string; items: number }
  | { type: 'item.queued'; jobId: string; item: string; kind: ItemKind; total?: number }
  | { type: 'item.start'; jobId: string; item: string; kind: ItemKind; total?: number }
  | {
      type: 'item.progress';
      jobId: string;
      item: string;
      bytes: number;
      total?: number;
      /** bytes per second, smoothed */
      rate?: number;
      /** seconds left, when total is known */
      eta?: number;
      /** uploads: bytes stored on the remote so far (compressed, encrypted) */
      sent?: number;
      /** uploads: bytes of `bytes` the remote already had (not sent again) */
      skipped?: number;
    }
  | { type: 'item.done'; jobId: string; item: string; bytes: number; detail?: string }
  | { type: 'item.failed'; jobId: string; item: string; error: ErrorInfo }
  | { type: 'item.skipped'; jobId: string; item: string; reason: string }
  | { type: 'job.paused'; jobId: string }
  | { type: 'job.resumed'; jobId: string }
  | { type: 'job.end'; jobId: string; outcome: Outcome; summary?: string; backupId?: string }
  | { type: 'log'; jobId?: string; level: LogLevel; source: string; msg: string };

export type Emit = (e: EngineEvent) => void;

export const noEmit: Emit = () => {};

/** Fan one event out to several consumers (printer, log file, TUI store). */
export const fanOut =
  (...emits: Emit[]): Emit =>
  (e) => {
    for (const emit of emits) emit(e);
  };
