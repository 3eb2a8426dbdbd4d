// Per-remote metrics from the upload statuses the backups leave in the store
// (src/remote/upload-status.ts): when each host last uploaded to each remote, whether the last
// attempt worked, what it sent, and what the remote held afterwards. Read, never measured here:
// a scrape must not list a remote.
import { Gauge, type Registry } from 'prom-client';
import { readUploadStatuses } from '../remote/upload-status.js';

const seconds = (iso: string | undefined): number | undefined => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t / 1000 : undefined;
};

export async function collectRemoteMetrics(registry: Registry, store: string): Promise<void> {
  const g = (name: string, help: string, labelNames: string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const lastUpload = g(
    'bbackup_remote_last_upload_timestamp_seconds',
    'end of the last successful upload of this host to this remote',
    ['remote', 'host'],
  );
  const lastResult = g(
    'bbackup_remote_last_upload_result',
    "1 when this host's last upload attempt to this remote worked, 0 when it failed",
    ['remote', 'host'],
  );
  const sent = g('bbackup_remote_last_upload_sent_bytes', 'bytes the last successful upload stored on the remote', [
    'remote',
    'host',
  ]);
  const stored = g(
    'bbackup_remote_stored_bytes',
    'bytes the remote held (all hosts) when last listed after an upload',
    ['remote'],
  );
  const storedAt = g('bbackup_remote_stored_bytes_timestamp_seconds', 'when bbackup_remote_stored_bytes was measured', [
    'remote',
  ]);
  const newestStored = new Map<string, { at: number; bytes: number }>();
  for (const s of await readUploadStatuses(store)) {
    const labels = { remote: s.remote, host: s.host };
    lastResult.set(labels, s.ok ? 1 : 0);
    const t = seconds(s.last_upload);
    if (t !== undefined) lastUpload.set(labels, t);
    if (s.sent_bytes !== undefined) sent.set(labels, s.sent_bytes);
    const at = seconds(s.stored_at);
    const prev = newestStored.get(s.remote);
    if (at !== undefined && s.stored_bytes !== undefined && (!prev || at > prev.at))
      newestStored.set(s.remote, { at, bytes: s.stored_bytes });
  }
  for (const [remote, v] of newestStored) {
    stored.set({ remote }, v.bytes);
    storedAt.set({ remote }, v.at);
  }
}
