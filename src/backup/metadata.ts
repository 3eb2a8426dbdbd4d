// metadata.tar.<ext>: containers/, networks/ and a copy of the manifest as it stood before this
// archive was added, so one file carries everything but the volumes (remotes, quick inspection).
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { rel, MANIFEST } from '../store/layout.js';
import type { FileEntry } from '../store/manifest.js';
import { compressToFile, extensionFor } from './compress.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export async function writeMetadataArchive(
  folder: string,
  compression: { method: 'zstd' | 'gzip' | 'none'; level: number },
  signal: AbortSignal,
): Promise<FileEntry> {
  const members: string[] = [];
  for (const m of ['containers', 'networks', MANIFEST]) if (await exists(join(folder, m))) members.push(m);
  const path = rel.metadata(extensionFor(compression.method));
  const tar = execa('tar', ['-C', folder, '--numeric-owner', '-cf', '-', '--', ...members], {
    stdout: 'pipe',
    buffer: { stdout: false },
    cancelSignal: signal,
  });
  // Both settle before we return: when the compressor fails first, tar's own rejection (EPIPE,
  // cancel) must still be awaited, or it surfaces later as an unhandled rejection.
  const [written] = await Promise.all([
    compressToFile(tar.stdout, join(folder, path), compression, { signal, what: 'the metadata archive' }),
    tar,
  ]);
  return { path, size: written.size, sha256: written.sha256 };
}
