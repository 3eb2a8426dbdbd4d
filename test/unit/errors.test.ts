// The one outcome -> exit code rule and the one error -> code conversion (src/errors.ts).
import { describe, expect, it } from 'vitest';
import {
  assertNever,
  BbackupError,
  errorCodeOf,
  exitCodeFor,
  exitCodeOf,
  failedWith,
  toErrorInfo,
  type Ending,
  type ErrorCode,
} from '../../src/errors.js';

describe('exitCodeFor', () => {
  it.each<[string, Ending | Ending['outcome'], number]>([
    ['ok', 'ok', 0],
    ['partial', 'partial', 4],
    ['cancelled', 'cancelled', 5],
    ['failed without a code: a system failure', 'failed', 3],
    ['failed, usage', failedWith('USAGE'), 1],
    ['failed, not found (a backup set with missing members)', failedWith('NOT_FOUND'), 1],
    ['failed, config', failedWith('CONFIG_INVALID'), 2],
    ['failed, Docker', failedWith('DOCKER_FAILED'), 3],
    ['failed, lock held', failedWith('LOCKED'), 3],
    [
      'failed, the first error decides',
      { outcome: 'failed', errors: [{ code: 'CONFIG_INVALID' }, { code: 'DISK' }] },
      2,
    ],
    ['an ok outcome ignores errors listed with it', { outcome: 'ok', errors: [{ code: 'DISK' }] }, 0],
    ['partial stays 4 whatever failed', { outcome: 'partial', errors: [{ code: 'CONFIG_INVALID' }] }, 4],
  ])('%s', (_name, ending, code) => {
    expect(exitCodeFor(ending)).toBe(code);
  });
});

describe('errorCodeOf / toErrorInfo / exitCodeOf', () => {
  const abort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
  const execaCancel = Object.assign(new Error('Command was canceled'), { isCanceled: true });
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
  it.each<[string, unknown, ErrorCode, number]>([
    ['ours carry their code', new BbackupError('REMOTE_AUTH', 'remote nas: wrong password'), 'REMOTE_AUTH', 3],
    ['an abort is a cancel', abort, 'CANCELLED', 5],
    ["execa's cancel is a cancel", execaCancel, 'CANCELLED', 5],
    ['a full disk', enospc, 'DISK', 3],
    ['any other system error is internal', enoent, 'INTERNAL', 3],
    ['a thrown string is internal', 'boom', 'INTERNAL', 3],
    ['undefined is internal', undefined, 'INTERNAL', 3],
  ])('%s', (_name, err, code, exit) => {
    expect(errorCodeOf(err)).toBe(code);
    expect(exitCodeOf(err)).toBe(exit);
    expect(toErrorInfo(err).code).toBe(code);
    expect(typeof toErrorInfo(err).message).toBe('string');
  });

  it('toErrorInfo keeps the message a user should read', () => {
    expect(toErrorInfo(new BbackupError('NOT_FOUND', 'no backup 20260101T000000Z in /srv/store'))).toEqual({
      code: 'NOT_FOUND',
      message: 'no backup 20260101T000000Z in /srv/store',
    });
  });

  it('assertNever throws an INTERNAL error naming what was not handled', () => {
    expect(() => assertNever({ type: 'job.new' } as never, 'event')).toThrow(/unhandled event: \{"type":"job.new"\}/);
  });
});
