// The first bytes of one saved file (the TUI's viewer): from a tree's snapshot folder, or from the
// archive read through the restore gate. The path must be a regular file in the listing, under
// real folders; a tree's file is opened without following a symlink.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BbackupError } from '../errors.js';
import type { VolumeItem } from '../store/manifest.js';
import { checkedTar, compressionOf } from '../restore/archive-check.js';
import { memberPath, storedFile, treeFolder } from './listing.js';
import { selectEntries } from './restore-paths.js';
import { normalizeVolumePath } from './selection.js';

export interface FileHead {
  bytes: Buffer;
  /** the file's full size */
  size: number;
}

export async function readVolumeFile(
  backupDir: string,
  item: VolumeItem,
  rawPath: string,
  max: number,
  signal?: AbortSignal,
): Promise<FileHead> {
  const p = normalizeVolumePath(rawPath);
  const { entries } = await selectEntries(backupDir, item, [p], signal);
  const e = entries.find((x) => x.p === p)!;
  if (e.t !== 'f') throw new BbackupError('USAGE', `${p} is not a file`, { path: p });
  if (item.format === 'tree') {
    const fh = await open(join(treeFolder(backupDir, item), p), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(Math.min(max, e.size ?? max));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return { bytes: buf.subarray(0, bytesRead), size: e.size ?? bytesRead };
    } finally {
      await fh.close();
    }
  }
  return readFromArchive(storedFile(backupDir, item), item, p, max, signal);
}

async function readFromArchive(
  file: string,
  item: VolumeItem,
  p: string,
  max: number,
  signal?: AbortSignal,
): Promise<FileHead> {
  const checked = checkedTar(file, {
    method: item.compression ?? compressionOf(file),
    signal,
    what: `the archive of volume ${item.name}`,
  });
  const extract = tar.extract();
  const feed = pipeline(checked.stream, extract as unknown as Writable).then(
    () => undefined,
    () => undefined,
  );
  try {
    for await (const entry of extract) {
      if (entry.header.type !== 'file' || memberPath(entry.header.name) !== p) {
        entry.resume();
        continue;
      }
      const parts: Buffer[] = [];
      let got = 0;
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (got < max) {
          parts.push(Buffer.from(chunk.subarray(0, max - got))); // a copy: the stream may reuse its buffers
          got += Math.min(chunk.length, max - got);
        }
      }
      return { bytes: Buffer.concat(parts), size };
    }
  } finally {
    checked.consumerExited();
    await feed;
  }
  throw new BbackupError('NOT_FOUND', `${p} was not found in the archive of volume ${item.name}`, { path: p });
}
