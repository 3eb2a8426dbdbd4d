// After a successful backup: upload to every enabled remote (or those named with -r), then apply
// retention locally and on each remote that received this backup. A failed upload never undoes
// the backup; it is returned (naming the remote and the cause) so the job ends partial, exit 4.
// Called by the backup job while it holds the host's store lock.
import type { Config } from '../config/schema.js';
import { ageSpecFrom } from '../crypto/age.js';
import { BbackupError, describeError, toErrorInfo } from '../errors.js';
import type { Emit } from '../events.js';
import { openRemote, selectRemotes } from '../remote/open.js';
import { uploadBackup } from '../remote/upload-backup.js';
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

const naming = (remote: string, message: string) =>
  message.includes(`remote ${remote}`) ? message : `remote ${remote}: ${message}`;

export async function runPostBackup(req: PostBackupRequest): Promise<PostBackupResult> {
  const { config, manifest, emit, signal } = req;
  const jobId = req.jobId ?? `post-${manifest.id}`;
  const result: PostBackupResult = { uploads: [], rotated: [] };
  const names = selectRemotes(config, req.remotes);
  const encrypted = ageSpecFrom(config.encryption) !== undefined;
  const level = manifest.compression.method === 'zstd' ? manifest.compression.level : config.backup.compression.level;
  for (const name of names) {
    signal.throwIfAborted();
    const item = `upload ${name}`;
    emit({ type: 'item.start', jobId, item, kind: 'upload' });
    const remote = openRemote(config, name, { emit, jobId });
    try {
      const r = await uploadBackup({ remote, backupDir: req.backupDir, manifest, level, encrypted, signal });
      emit({
        type: 'item.done',
        jobId,
        item,
        bytes: r.bytes,
        detail: r.existed ? 'already on the remote' : `${r.files} files, checked`,
      });
      result.uploads.push({ remote: name, ok: true });
    } catch (err) {
      if (signal.aborted) throw err;
      const message = naming(name, describeError(err));
      const { code } = toErrorInfo(err);
      emit({ type: 'item.failed', jobId, item, error: { code: code === 'INTERNAL' ? 'REMOTE_IO' : code, message } });
      result.uploads.push({ remote: name, ok: false, error: message });
    } finally {
      await remote.close();
    }
  }
  // Rotation never follows a backup that is not complete: its predecessors may be the only good copies.
  if (!config.retention.enabled || manifest.status !== 'complete') return result;
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
      });
      result.rotated.push(...r.removed.map((id) => `${u.remote}:${id}`));
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
