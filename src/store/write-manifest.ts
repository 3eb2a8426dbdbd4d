// Writing a manifest: to a temporary name, flushed, then renamed, so a reader never sees half of one.
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST } from './layout.js';
import type { Manifest } from './manifest.js';
import { PRIVATE_FILE } from './private.js';

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const tmp = join(dir, `${MANIFEST}.tmp`);
  const fh = await open(tmp, 'w', PRIVATE_FILE);
  try {
    await fh.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, MANIFEST));
}
