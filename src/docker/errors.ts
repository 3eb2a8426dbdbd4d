// Docker API failures as our errors, naming what was being done. The one converter for the
// backup and the restore side alike.
import { BbackupError } from '../errors.js';

/**
 * `what` names the object or the act ("volume db", "could not create network front"). During a
 * run (`signal` given) an aborted signal wins over the failure it caused, and a 404 means the
 * object was removed while we worked; anything else is the engine failing.
 */
export function dockerError(err: unknown, what: string, signal?: AbortSignal): Error {
  // we abort only with errors (the job's cancel, a skip, a lost lock)
  if (signal?.aborted) return signal.reason as Error;
  const e = err as { json?: { message?: string }; message?: string; statusCode?: number };
  const context = e.statusCode === undefined ? {} : { statusCode: e.statusCode };
  if (signal && e.statusCode === 404)
    return new BbackupError('NOT_FOUND', `${what} no longer exists (removed during the backup?)`, context, {
      cause: err,
    });
  const reason = e.json?.message ?? e.message ?? String(err);
  return new BbackupError('DOCKER_FAILED', `${what}: ${reason}`, context, { cause: err });
}
