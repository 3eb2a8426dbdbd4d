// node_exporter's textfile collector reads *.prom files at any moment: the file is written under a
// temporary name in the same folder and renamed over the old one, so a scrape sees the old file or
// the new one, never half of either. Mode 0644: node_exporter usually runs as its own user, and the
// file holds only names, times and sizes.
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BbackupError } from '../errors.js';

export async function writeTextfile(path: string, text: string): Promise<void> {
  if (!path.endsWith('.prom'))
    throw new BbackupError('USAGE', `--textfile ${path}: node_exporter only reads files ending in .prom`);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new BbackupError('DISK', `could not write ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
}
