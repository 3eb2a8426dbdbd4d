// The project's error vocabulary, and the one place exit codes are decided (DESIGN §5):
// 0 ok · 1 usage/user error · 2 config error · 3 system (Docker/remote/disk/lock) · 4 partial · 5 cancelled.
// Jobs and commands end with an outcome (plus the codes of what failed); exitCodeFor turns that into
// the process's exit code, and toErrorInfo turns anything thrown into a code and a message.
import type { Outcome } from './events.js';

export type ErrorCode =
  | 'USAGE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'DOCKER_UNREACHABLE'
  | 'DOCKER_FAILED'
  | 'REMOTE_AUTH'
  | 'REMOTE_IO'
  | 'TOOL_FAILED'
  | 'HOOK_FAILED'
  | 'DISK'
  | 'LOCKED'
  /** a scheduled run that did not happen (the daemon was not running) */
  | 'MISSED'
  /** anything that is not one of ours: a bug or an unexpected system fault */
  | 'INTERNAL'
  | 'INTEGRITY'
  /** a restore drill did not pass (the application did not come up, or its data differs) */
  | 'DRILL_FAILED'
  | 'PARTIAL'
  | 'DUMP_FAILED'
  /** an item the user skipped */
  | 'SKIPPED'
  | 'CANCELLED';

const EXIT: Record<ErrorCode, number> = {
  USAGE: 1,
  NOT_FOUND: 1,
  CONFLICT: 1,
  CONFIG_INVALID: 2,
  CONFIG_NOT_FOUND: 2,
  DOCKER_UNREACHABLE: 3,
  DOCKER_FAILED: 3,
  REMOTE_AUTH: 3,
  REMOTE_IO: 3,
  TOOL_FAILED: 3,
  HOOK_FAILED: 3,
  DISK: 3,
  LOCKED: 3,
  MISSED: 3,
  INTERNAL: 3,
  INTEGRITY: 4,
  DRILL_FAILED: 4,
  PARTIAL: 4,
  // a database dump could not be taken or loaded; everything else of the item is intact
  DUMP_FAILED: 4,
  SKIPPED: 4,
  CANCELLED: 5,
};

/** An error as events, job results and reports carry it. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

/** How a job or a command ended: its outcome and, when it failed, what failed first decides the code. */
export interface Ending {
  outcome: Outcome;
  errors?: readonly { code: ErrorCode }[];
}

/** A command that failed for one reason (e.g. a backup set names missing objects: NOT_FOUND, exit 1). */
export const failedWith = (code: ErrorCode): Ending => ({ outcome: 'failed', errors: [{ code }] });

/** The process exit code for how a job or command ended. Failed: the first error's code decides; without one it is a system failure (3). */
export function exitCodeFor(ending: Outcome | Ending): number {
  const { outcome, errors = [] } = typeof ending === 'string' ? { outcome: ending } : ending;
  switch (outcome) {
    case 'ok':
      return 0;
    case 'partial':
      return EXIT.PARTIAL;
    case 'cancelled':
      return EXIT.CANCELLED;
    case 'failed':
      return errors[0] ? EXIT[errors[0].code] : EXIT.INTERNAL;
  }
}

export class BbackupError extends Error {
  override name = 'BbackupError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get exitCode(): number {
    return EXIT[this.code];
  }
}

/** The code of anything thrown: ours carry one; a cancel is CANCELLED, a full disk DISK, the rest INTERNAL. */
export function errorCodeOf(err: unknown): ErrorCode {
  if (err instanceof BbackupError) return err.code;
  if (isAbortError(err)) return 'CANCELLED';
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return 'DISK';
  return 'INTERNAL';
}

/** Anything thrown as a code and the message a user should read. */
export const toErrorInfo = (err: unknown): ErrorInfo => ({ code: errorCodeOf(err), message: describeError(err) });

/** Exit code for anything thrown. */
export const exitCodeOf = (err: unknown): number => EXIT[errorCodeOf(err)];

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || (err as { isCanceled?: boolean }).isCanceled === true);
}

/** The message a user should read for any error, with the cause chain when it adds something. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const parts = [err.message];
  let cause = (err as { cause?: unknown }).cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    if (!parts.some((p) => p.includes(cause instanceof Error ? cause.message : ''))) parts.push(cause.message);
    cause = (cause as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

/** The default of a switch that handled every case: adding a case breaks the build here. */
export function assertNever(value: never, what = 'case'): never {
  throw new BbackupError('INTERNAL', `unhandled ${what}: ${JSON.stringify(value)}`);
}

/** Last n lines of a tool's stderr, for messages that must stay readable. */
export function lastLines(text: string | undefined, n = 20): string {
  if (!text) return '';
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
