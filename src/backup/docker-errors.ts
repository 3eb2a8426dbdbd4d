// Docker API failures as our errors: a 404 in the middle of a run means the object was removed
// while we worked; everything else is the engine failing.
import { BbackupError } from '../errors.js';

export function dockerError(err: unknown, what: string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason;
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 404) return new BbackupError('NOT_FOUND', `${what} no longer exists (removed during the backup?)`, {}, { cause: err });
  const reason = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
  return new BbackupError('DOCKER_FAILED', `${what}: Docker failed: ${reason}`, {}, { cause: err });
}
