// Local backups of one host as table rows, read from the store's manifests.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_ID_RE, hostDir } from '../../src/store/layout.js';
import { readManifest, type Manifest } from '../../src/store/manifest.js';
import type { BackupRow } from '../state/types.js';

export async function listStoreBackups(store: string, host: string): Promise<BackupRow[]> {
  const dir = hostDir(store, host);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const rows: BackupRow[] = [];
  for (const id of names.filter((n) => BACKUP_ID_RE.test(n)).sort().reverse()) {
    try {
      rows.push(backupRowOf(await readManifest(join(dir, id))));
    } catch {
      // a folder being written or damaged is not listed; verify reports damage
    }
  }
  return rows;
}

export function backupRowOf(m: Manifest, size?: number): BackupRow {
  const count = (k: string) => m.items.filter((i) => i.kind === k).length;
  // Logical size: a volume counts its data (a tree stores only an index file in `files`).
  const bytes = m.items.reduce((a, i) => a + (i.kind === 'volume' ? i.bytes : i.files.reduce((b, f) => b + f.size, 0)), 0);
  return {
    id: m.id,
    host: m.host,
    created: m.created,
    status: m.status,
    size: size ?? bytes,
    items: m.items.filter((i) => i.kind !== 'metadata').length,
    containers: count('container'),
    volumes: count('volume'),
    networks: count('network'),
    encrypted: m.encrypted,
  };
}
