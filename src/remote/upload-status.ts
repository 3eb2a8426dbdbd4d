// What the local store remembers about its uploads, for metrics: per remote and host, the last
// upload attempt and its result, the last successful one, and the bytes the remote held after it.
// <store>/.uploads/<remote>/<host>.json, one small file per pair, written atomically (temporary
// name, then rename) so concurrent backups of two hosts never write the same file and a reader
// never sees half of one. Facts for monitoring only: nothing decides what exists on a remote by them.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromSafeSegment, isSafeSegment, safeSegment } from '../store/layout.js';
import { makePrivateDir, PRIVATE_FILE } from '../store/private.js';

export const UPLOADS_DIR = '.uploads';
/** major version of a status file (docs/FORMAT.md); none = 1; a newer one is skipped */
export const UPLOAD_STATUS_FORMAT = 1;

export interface UploadStatus {
  format?: typeof UPLOAD_STATUS_FORMAT;
  remote: string;
  host: string;
  /** when the last upload attempt ended */
  attempted: string;
  ok: boolean;
  /** the last attempt's error (already naming the remote, credentials stripped) */
  error?: string;
  /** when the last successful upload ended, and what it sent */
  last_upload?: string;
  backup?: string;
  /** bytes that upload stored on the remote (new packs, indexes, snapshot files) */
  sent_bytes?: number;
  /** everything the remote held when listed after that upload (all hosts), and when */
  stored_bytes?: number;
  stored_at?: string;
}

const file = (store: string, remote: string, host: string) =>
  join(store, UPLOADS_DIR, safeSegment(remote), `${safeSegment(host)}.json`);

export async function readUploadStatus(store: string, remote: string, host: string): Promise<UploadStatus | undefined> {
  return parseStatus(await readFile(file(store, remote, host), 'utf8').catch(() => undefined));
}

/** Merges `update` into the pair's status (a failed attempt keeps the last success's facts). */
export async function recordUpload(
  store: string,
  update: Pick<UploadStatus, 'remote' | 'host' | 'ok'> & Partial<UploadStatus>,
): Promise<void> {
  const before = await readUploadStatus(store, update.remote, update.host);
  const next: UploadStatus = {
    ...before,
    format: UPLOAD_STATUS_FORMAT,
    attempted: new Date().toISOString(),
    ...update,
  };
  if (next.ok) delete next.error;
  const dir = join(store, UPLOADS_DIR, safeSegment(update.remote));
  await makePrivateDir(join(store, UPLOADS_DIR));
  await makePrivateDir(dir);
  const path = file(store, update.remote, update.host);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: PRIVATE_FILE });
  await rename(tmp, path);
}

/** Every readable status in the store; damaged or foreign files are skipped. */
export async function readUploadStatuses(store: string): Promise<UploadStatus[]> {
  const out: UploadStatus[] = [];
  const remotes = await readdir(join(store, UPLOADS_DIR)).catch(() => [] as string[]);
  for (const r of remotes.filter(isSafeSegment)) {
    const hosts = await readdir(join(store, UPLOADS_DIR, r)).catch(() => [] as string[]);
    for (const h of hosts.filter((x) => x.endsWith('.json') && isSafeSegment(x.slice(0, -5)))) {
      const s = parseStatus(await readFile(join(store, UPLOADS_DIR, r, h), 'utf8').catch(() => undefined));
      if (s && s.remote === fromSafeSegment(r) && s.host === fromSafeSegment(h.slice(0, -5))) out.push(s);
    }
  }
  return out;
}

function parseStatus(text: string | undefined): UploadStatus | undefined {
  if (text === undefined) return undefined;
  try {
    const s = JSON.parse(text) as UploadStatus;
    const ok =
      (s.format === undefined || s.format === UPLOAD_STATUS_FORMAT) &&
      typeof s.remote === 'string' &&
      typeof s.host === 'string' &&
      typeof s.attempted === 'string' &&
      typeof s.ok === 'boolean' &&
      (s.sent_bytes === undefined || Number.isFinite(s.sent_bytes)) &&
      (s.stored_bytes === undefined || Number.isFinite(s.stored_bytes));
    return ok ? s : undefined;
  } catch {
    return undefined;
  }
}
