// Which errors of a Docker call mean "the engine is not there" (exit 3, DOCKER_UNREACHABLE) and
// which are the engine's answer or a fault of ours (their own message).
import { describe, expect, it } from 'vitest';
import { DockerTimeoutError, isConnectionError } from '../../src/docker/client.js';

const sysErr = (code: string) => Object.assign(new Error(`connect ${code} /run/docker.sock`), { code });

describe('isConnectionError', () => {
  it.each([
    ['no socket', sysErr('ENOENT')],
    ['permission denied on the socket', sysErr('EACCES')],
    ['refused', sysErr('ECONNREFUSED')],
    ['reset (socket hang up)', sysErr('ECONNRESET')],
    ['host unknown', sysErr('ENOTFOUND')],
    ['no answer in time', new DockerTimeoutError('docker info: no answer within 5s')],
    [
      'ssh refused (ssh2 level)',
      Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }),
    ],
  ])('%s: the engine is unreachable', (_, err) => expect(isConnectionError(err)).toBe(true));

  it.each([
    [
      'an HTTP answer of the engine',
      Object.assign(new Error('(HTTP code 404) no such container'), { statusCode: 404, code: 'ENOENT' }),
    ],
    ['a file error of ours', sysErr('EISDIR')],
    ['an out-of-space error', sysErr('ENOSPC')],
    ['a programming error', new TypeError('x is not a function')],
    ['not an Error', { code: 'ECONNREFUSED' }],
  ])('%s: not a connection failure', (_, err) => expect(isConnectionError(err)).toBe(false));
});
