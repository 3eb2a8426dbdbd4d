// The remotes screen's figures per remote: backups, bytes stored, the dedup ratio (bytes the
// backups restore to per byte stored) and what the newest local backup would add if sent now.
import type { RemoteStatsEntry } from '../state/types.js';
import { formatBytes } from './format.js';

export function remoteStatsText(e: RemoteStatsEntry | undefined): string {
  if (!e) return '';
  if ('loading' in e) return 'counting...';
  if ('error' in e) return `figures unavailable: ${e.error}`;
  const s = e.stats;
  const parts = [
    `${s.backups} backup${s.backups === 1 ? '' : 's'}`,
    `${formatBytes(s.stored)} stored`,
    `dedup ${s.dedupRatio === undefined ? '-' : `${s.dedupRatio.toFixed(2)}x`}`,
  ];
  // estimated from the newest local backup's contents the remote lacks (0 when it was sent)
  if (s.wouldAdd) parts.push(`new backup adds ~${formatBytes(s.wouldAdd.bytes)} of ${formatBytes(s.wouldAdd.of)}`);
  return parts.join(', ');
}
