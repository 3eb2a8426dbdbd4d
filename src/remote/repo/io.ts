// Small-file transfers for the repository: JSON documents read with a size limit (a remote may
// hold anything) and written in one put.
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { BbackupError } from '../../errors.js';
import type { PutResult, Remote } from '../types.js';
import { jsonBytes } from './format.js';

/** the largest document text read (V8 strings end a little above 512 MiB) */
const MAX_JSON_TEXT = 256 << 20;

export async function readBytes(remote: Remote, key: string, limit: number, signal: AbortSignal): Promise<Buffer> {
  const stream = await remote.get(key, { signal });
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new BbackupError(
        'INTEGRITY',
        `remote ${remote.name}: ${key} is larger than ${Math.round(limit / 1024)} KiB: not a file bbackup wrote`,
      );
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/** A JSON document (gzip when the key ends in .gz), parsed; INTEGRITY when it is not JSON. */
export async function readJson(remote: Remote, key: string, limit: number, signal: AbortSignal): Promise<unknown> {
  let bytes = await readBytes(remote, key, limit, signal);
  try {
    if (/\.gz(\.age)?$/.test(key)) bytes = gunzipSync(bytes, { maxOutputLength: Math.min(limit * 8, MAX_JSON_TEXT) });
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BbackupError(
      'INTEGRITY',
      `remote ${remote.name}: ${key} is not readable JSON (${(err as Error).message})`,
      { key },
      { cause: err },
    );
  }
}

export function putBytes(
  remote: Remote,
  key: string,
  body: Buffer,
  signal: AbortSignal,
  plaintext: boolean,
): Promise<PutResult> {
  return remote.put(key, () => Readable.from([body]), { signal, size: body.length, label: key, plaintext });
}

export const putJson = (
  remote: Remote,
  key: string,
  doc: unknown,
  signal: AbortSignal,
  plaintext: boolean,
): Promise<PutResult> => putBytes(remote, key, jsonBytes(doc), signal, plaintext);

/** Run `fn` over items with at most `n` at once; the first failure stops new work and is thrown. */
export async function eachLimit<T>(
  items: readonly T[],
  n: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  // the first failure stops new work; the ones already running finish, and the first is rethrown
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  if (failure) throw failure.err instanceof Error ? failure.err : new Error(String(failure.err));
}
