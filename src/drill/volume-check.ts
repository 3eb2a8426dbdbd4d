// After the sandbox volumes are filled and before anything runs in them: each one is compared with
// the backup's index (tree format), so a drill proves the bytes that came back, not only that the
// application starts. Archive volumes were checked against their sha256 before extraction.
import { join } from 'node:path';
import type Docker from 'dockerode';
import { describeError } from '../errors.js';
import { rel } from '../store/layout.js';
import type { VolumeItem } from '../store/manifest.js';
import { checkTree } from '../restore/verify.js';
import type { DrillVolumeResult } from './types.js';

export async function checkRestoredVolume(
  docker: Docker,
  backupDir: string,
  v: VolumeItem,
  sandbox: string,
  o: { localEngine: boolean; signal: AbortSignal },
): Promise<DrillVolumeResult> {
  const base = { name: v.name, sandbox };
  if (v.format === 'archive') return { ...base, verified: 'archive', ok: true, problems: [] };
  if (!o.localEngine)
    return {
      ...base,
      verified: 'not checked',
      ok: true,
      problems: ['the engine is remote: its volume folders cannot be read from here'],
    };
  try {
    const { Mountpoint } = (await docker.getVolume(sandbox).inspect()) as { Mountpoint: string };
    const problems = await checkTree(Mountpoint, join(backupDir, ...rel.volumeIndex(v.name).split('/')), {
      signal: o.signal,
    });
    return {
      ...base,
      verified: 'checked',
      ok: problems.length === 0,
      problems: problems.map((p) => `volume ${v.name}: ${p}`),
    };
  } catch (err) {
    if (o.signal.aborted) throw err;
    return {
      ...base,
      verified: 'not checked',
      ok: false,
      problems: [`volume ${v.name}: could not be checked: ${describeError(err)}`],
    };
  }
}
