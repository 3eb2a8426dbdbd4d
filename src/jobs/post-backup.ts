// After a successful backup: upload to every enabled remote (or those named with -r), then apply
// retention locally and on each remote that received this backup. A failed upload never undoes
// the backup; it is returned (naming the remote and the cause) so the job ends partial, exit 4.
// Called by the backup job while it holds the host's store lock.
import type { Config } from '../config/schema.js';
import { ageSpecFrom } from '../crypto/age.js';
import { BbackupError, describeError, toErrorInfo } from '../errors.js';
import type { Emit } from '../events.js';
import { openRemote, selectRemotes } from '../remote/open.js';
import { sweepRemote } from '../remote/repo/sweep.js';
import { uploadSnapshot } from '../remote/repo/upload.js';
import { collect, type Remote } from '../remote/types.js';
import { recordUpload, type UploadStatus } from '../remote/upload-status.js';
import { dirname } from 'node:path';
import type { Manifest } from '../store/manifest.js';
import { canDecryptWith, logsOnly, policyFrom, rotateLocal, rotateRemote } from './rotate.js';

export interface PostBackupRequest {
  config: Config;
  /** the store folder of this host */
  hostDir: string;
  backupDir: string;
  manifest: Manifest;
  /** remote names chosen with -r; undefined = every enabled remote */
  remotes?: string[];
  emit: Emit;
  signal: AbortSignal;
  /** job the events belong to (default post-<backup id>) */
  jobId?: string;
}

export interface PostBackupResult {
  /** per remote: ok or the error that names it */
  uploads: { remote: string; ok: boolean; error?: string }[];
  rotated: string[];
}

const formatSize = (n: number): string =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(1)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n} B`;

const naming = (remote: string, message: string) =>
  message.includes(`remote ${remote}`) ? message : `remote ${remote}: ${message}`;

export async function runPostBackup(req: PostBackupRequest): Promise<PostBackupResult> {
  const { config, manifest, emit, signal } = req;
  const jobId = req.jobId ?? `post-${manifest.id}`;
  const result: PostBackupResult = { uploads: [], rotated: [] };
  const names = selectRemotes(config, req.remotes);
  const encrypted = ageSpecFrom(config.encryption) !== undefined;
  const level = manifest.compression.method === 'zstd' ? manifest.compression.level : config.backup.compression.level;
  const rotates = config.retention.enabled && manifest.status === 'complete';
  // For metrics (src/metrics/remotes.ts); a status that cannot be written is logged, never fails the backup.
  const note = async (remote: string, update: Partial<UploadStatus> & { ok: boolean }, measure?: Remote) => {
    try {
      if (measure) {
        const listed = await collect(measure.list('', { signal }));
        update.stored_bytes = listed.reduce((a, e) => a + e.size, 0);
        update.stored_at = new Date().toISOString();
      }
      await recordUpload(dirname(req.hostDir), { remote, host: manifest.host, ...update });
    } catch (err) {
      if (signal.aborted) throw err;
      emit({
        type: 'log',
        jobId,
        level: 'warn',
        source: 'upload',
        msg: `remote ${remote}: upload status not recorded: ${describeError(err)}`,
      });
    }
  };
  for (const name of names) {
    signal.throwIfAborted();
    const item = `upload ${name}`;
    emit({ type: 'item.start', jobId, item, kind: 'upload' });
    // Per-file transfer events would be noise here: the upload reports one item for the whole backup.
    const remote = openRemote(config, name, { emit: logsOnly(emit), jobId });
    try {
      const r = await uploadSnapshot({
        remote,
        backupDir: req.backupDir,
        manifest,
        store: dirname(req.hostDir),
        level,
        encrypted,
        canDecrypt: canDecryptWith(config.encryption),
        transfers: config.remotes[name]!.transfers,
        signal,
        emit,
        jobId,
        item,
      });
      const detail = r.existed
        ? 'already on the remote'
        : // most telling first: a narrow jobs pane cuts the end
          `sent ${formatSize(r.stored)}, ${formatSize(r.skipped)} already there (${r.packs} pack${r.packs === 1 ? '' : 's'})`;
      emit({ type: 'item.done', jobId, item, bytes: r.total, detail });
      result.uploads.push({ remote: name, ok: true });
      const done = { ok: true, last_upload: new Date().toISOString(), backup: manifest.id, sent_bytes: r.stored };
      await note(name, done, rotates ? undefined : remote); // with rotation: measured after it, below
    } catch (err) {
      if (signal.aborted) throw err;
      const message = naming(name, describeError(err));
      const { code } = toErrorInfo(err);
      emit({ type: 'item.failed', jobId, item, error: { code: code === 'INTERNAL' ? 'REMOTE_IO' : code, message } });
      result.uploads.push({ remote: name, ok: false, error: message });
      await note(name, { ok: false, error: message });
    } finally {
      await remote.close();
    }
  }
  // Rotation never follows a backup that is not complete: its predecessors may be the only good copies.
  if (!rotates) return result;
  const policy = policyFrom(config.retention);
  let localFailure: unknown;
  try {
    const local = await rotateLocal(req.hostDir, manifest.host, policy, { dryRun: false, signal, emit, jobId });
    result.rotated.push(...local.removed.map((id) => `local:${id}`));
  } catch (err) {
    if (signal.aborted) throw err;
    localFailure = err; // remotes still rotate; reported below so the run ends partial
  }
  for (const u of result.uploads.filter((x) => x.ok)) {
    const remote = openRemote(config, u.remote, { emit: logsOnly(emit), jobId });
    try {
      const r = await rotateRemote(remote, manifest.host, policy, {
        dryRun: false,
        signal,
        emit,
        jobId,
        localHostDir: req.hostDir,
        canDecrypt: canDecryptWith(config.encryption),
        store: dirname(req.hostDir),
      });
      result.rotated.push(...r.removed.map((id) => `${u.remote}:${id}`));
      // Free what no kept backup (of any host) needs; skipped while another host uploads.
      await sweepRemote(remote, {
        store: dirname(req.hostDir),
        signal,
        emit,
        jobId,
        dryRun: false,
        encrypted,
        canDecrypt: canDecryptWith(config.encryption),
        level,
      });
      await note(u.remote, { ok: true }, remote);
    } catch (err) {
      if (signal.aborted) throw err;
      // Reported like a failed upload so the run ends partial and the message names the remote.
      result.uploads.push({
        remote: u.remote,
        ok: false,
        error: naming(u.remote, `rotation failed: ${describeError(err)}`),
      });
    } finally {
      await remote.close();
    }
  }
  if (localFailure !== undefined)
    throw new BbackupError(
      'PARTIAL',
      `rotation of the local store failed: ${describeError(localFailure)}`,
      {},
      { cause: localFailure },
    );
  return result;
}
