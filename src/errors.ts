// The project's error vocabulary. Exit codes are decided here and nowhere else (DESIGN §5):
// 0 ok · 1 usage/user error · 2 config error · 3 system (Docker/remote/disk/lock) · 4 partial · 5 cancelled.

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
  | 'DISK'
  | 'LOCKED'
  | 'INTEGRITY'
  | 'PARTIAL'
  | 'DUMP_FAILED'
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
  DISK: 3,
  LOCKED: 3,
  INTEGRITY: 4,
  PARTIAL: 4,
  // a database dump could not be taken or loaded; everything else of the item is intact
  DUMP_FAILED: 4,
  CANCELLED: 5,
};

export const EXIT_OK = 0;
export const EXIT_PARTIAL = 4;
export const EXIT_CANCELLED = 5;

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

export const exitCodeFor = (code: ErrorCode): number => EXIT[code];

/** Exit code for anything thrown: our own errors carry one; anything else is a bug or a system fault. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof BbackupError) return err.exitCode;
  if (isAbortError(err)) return EXIT.CANCELLED;
  return 3;
}

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

/** Last n lines of a tool's stderr, for messages that must stay readable. */
export function lastLines(text: string | undefined, n = 20): string {
  if (!text) return '';
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
