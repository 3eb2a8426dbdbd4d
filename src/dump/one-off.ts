// `bbackup dump CONTAINER`: one dump, outside any backup, to a file or a stream (stdout, for
// `| psql` on another machine). A file is written beside its final name and renamed only when
// the dump is whole; `.zst` compresses it. Detection and credentials as in a backup.
import { createWriteStream } from 'node:fs';
import { chmod, rename, rm } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { byteCounter, compressToFile } from '../backup/compress.js';
import { dockerError } from '../docker/errors.js';
import { BbackupError } from '../errors.js';
import type { LogLevel } from '../events.js';
import { dataDirOf, detectDump } from './detect.js';
import { openDump, pumpDump } from './run-dump.js';
import type { DumpEngine } from './types.js';

export interface OneOffOptions {
  docker: Docker;
  container: string;
  /** a path, or a stream (stdout) */
  out: string | Writable;
  signal: AbortSignal;
  localEngine: boolean;
  log(level: LogLevel, msg: string): void;
}

export interface OneOffResult {
  engine: DumpEngine;
  tool: string;
  /** uncompressed bytes */
  bytes: number;
  file?: string;
}

export async function dumpContainer(o: OneOffOptions): Promise<OneOffResult> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await o.docker.getContainer(o.container).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404)
      throw new BbackupError('NOT_FOUND', `no container ${o.container} on this engine`);
    throw dockerError(err, `container ${o.container}`, o.signal);
  }
  const name = info.Name.replace(/^\//, '');
  const target = detectDump({ name, image: info.Config.Image, labels: info.Config.Labels, env: info.Config.Env });
  if (!target)
    throw new BbackupError(
      'USAGE',
      `container ${name} is not recognised as a database (image ${info.Config.Image}): label it bbackup.dump=postgres|mysql|mariadb|mongodb|redis|sqlite:<path>`,
    );
  const dump = await openDump(
    {
      container: info.Id,
      engine: target.engine,
      path: target.path,
      dataDir: dataDirOf(target, info.Config.Env),
      only: false,
    },
    { docker: o.docker, signal: o.signal, localEngine: o.localEngine, log: o.log },
  );
  let bytes = 0;
  const count = byteCounter((n) => (bytes = n));
  const what = `container ${name}`;
  try {
    if (typeof o.out !== 'string') {
      const sink = o.out;
      await pumpDump(dump, (input) => pipeline(input, count, sink, { signal: o.signal, end: false }), what);
      return { engine: target.engine, tool: dump.tool, bytes };
    }
    const file = o.out;
    const tmp = `${file}.partial-${process.pid}`;
    try {
      await pumpDump(
        dump,
        (input: Readable) =>
          file.endsWith('.zst')
            ? compressToFile(
                input.pipe(count),
                tmp,
                { method: 'zstd', level: 3 },
                { signal: o.signal, what: `the dump of ${what}` },
              ).then(() => undefined)
            : pipeline(input, count, createWriteStream(tmp, { mode: 0o600 }), { signal: o.signal }),
        what,
      );
      await chmod(tmp, 0o600);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    return { engine: target.engine, tool: dump.tool, bytes, file };
  } finally {
    await dump.cleanup?.().catch(() => undefined);
  }
}
