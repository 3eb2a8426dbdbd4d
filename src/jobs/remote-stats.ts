// What each remote holds and what the next backup would add (src/remote/repo/stats.ts), for the
// CLI (`bbackup remote-stats`) and the TUI's remotes screen. The "next backup" is the newest local
// backup of the given host, or of the host whose newest backup is the newest in the store.
import type { Config } from '../config/schema.js';
import { ageSpecFrom } from '../crypto/age.js';
import { listBackups, listHostFolders } from '../store/catalog.js';
import { hostDir } from '../store/layout.js';
import { openRemote } from '../remote/open.js';
import { remoteStats, type RemoteStats } from '../remote/repo/stats.js';
import { join } from 'node:path';
import { canDecryptWith } from './rotate.js';

export interface RemoteStatsRow extends RemoteStats {
  remote: string;
}

/** The host folder whose newest backup is the newest of the store (undefined: no backups). */
export async function newestHostDir(store: string, host?: string): Promise<string | undefined> {
  if (host) return hostDir(store, host);
  let best: { dir: string; id: string } | undefined;
  for (const seg of await listHostFolders(store)) {
    const dir = join(store, seg);
    const newest = (await listBackups(dir)).filter((e) => e.manifest).at(-1);
    if (newest && (!best || newest.id > best.id)) best = { dir, id: newest.id };
  }
  return best?.dir;
}

export async function statsOfRemote(
  config: Config,
  name: string,
  o: { store: string; hostDir?: string; signal: AbortSignal },
): Promise<RemoteStatsRow> {
  const remote = openRemote(config, name);
  try {
    const stats = await remoteStats(remote, {
      store: o.store,
      hostDir: o.hostDir,
      encrypted: ageSpecFrom(config.encryption) !== undefined,
      canDecrypt: canDecryptWith(config.encryption),
      signal: o.signal,
    });
    return { remote: name, ...stats };
  } finally {
    await remote.close();
  }
}
