// What the header says about the host shown: its name, Docker version, store folder and free space.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { TuiState } from '../state/types.js';
import type { TuiEngine } from './types.js';

export async function hostInfo(engine: TuiEngine, store: string): Promise<TuiState['host']> {
  return { name: engine.hostName, docker: engine.serverVersion, store, freePercent: await freePercent(store) };
}

/** Free space of the filesystem holding the store (or its nearest existing parent). */
async function freePercent(path: string): Promise<number | undefined> {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return s.blocks > 0 ? Math.round((s.bavail / s.blocks) * 100) : undefined;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}
