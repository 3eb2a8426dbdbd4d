// Errors a remote raises: always naming the remote, classified once where the failure is best
// understood (restic's IsPermanentError): retryable faults (network, timeouts) versus permanent
// ones (auth, host key, full disk, missing file) that a retry would only repeat.
import { BbackupError, isAbortError, type ErrorCode } from '../errors.js';

export class RemoteError extends BbackupError {
  constructor(
    code: ErrorCode,
    readonly remote: string,
    message: string,
    readonly retryable: boolean,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(code, `remote ${remote}: ${message}`, { remote, retryable, ...options.context }, { cause: options.cause });
  }
}

export const isRetryable = (err: unknown): boolean => err instanceof RemoteError && err.retryable && !isAbortError(err);

/** Node fs / network errno -> a RemoteError with a cause a user understands. */
export function classifyErrno(remote: string, what: string, err: unknown): Error {
  if (isAbortError(err) || err instanceof BbackupError) return err as Error;
  const e = err as NodeJS.ErrnoException;
  const detail = e?.message ?? String(err);
  switch (e?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new RemoteError('DISK', remote, `${what}: no space left on the target (disk full)`, false, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new RemoteError('REMOTE_IO', remote, `${what}: permission denied (${detail})`, false, { cause: err });
    case 'ENOENT':
      return new RemoteError('NOT_FOUND', remote, `${what}: not found`, false, { cause: err });
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EPIPE':
      return new RemoteError('REMOTE_IO', remote, `${what}: ${e.code} (${detail})`, true, { cause: err });
    default:
      return new RemoteError('REMOTE_IO', remote, `${what}: ${detail}`, true, { cause: err });
  }
}
