// Send one local backup to a remote: files as they are, each volume tree packed on the fly as
// volumes/<name>.tar.zst, then retention.json, remote-index.json and the manifest last, all into
// <host>/<id>.partial/. Only after the listing matches what was sent (sizes, and md5 where the
// remote offers it) is the folder renamed to <host>/<id>: a cut transfer never looks like a backup.
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MANIFEST, PARTIAL_SUFFIX, rel, safeSegment } from '../store/layout.js';
import type { Manifest } from '../store/manifest.js';
import { REMOTE_INDEX, REMOTE_INDEX_FORMAT, packTree, type RemoteFile, type RemoteIndex } from './packing.js';
import { Meter } from './meter.js';
import { RemoteError } from './errors.js';
import { RETENTION_FILE, retentionInfoBody } from './retention-info.js';
import { collect, type PutResult, type Remote } from './types.js';

export interface UploadRequest {
  remote: Remote;
  backupDir: string;
  manifest: Manifest;
  /** zstd level for packed trees */
  level: number;
  encrypted: boolean;
  signal: AbortSignal;
}

export interface UploadResult {
  remote: string;
  /** <host>/<id> on the remote */
  prefix: string;
  files: number;
  bytes: number;
  /** true when the backup was already there (nothing sent) */
  existed: boolean;
}

export const remotePrefix = (host: string, id: string): string => `${safeSegment(host)}/${id}`;

interface Source {
  path: string;
  open: () => Readable;
  size?: number;
  unpackTo?: string;
  /** size and sha256 from the manifest, when the file still has that size */
  known?: { size: number; sha256: string };
}

export async function uploadBackup(req: UploadRequest): Promise<UploadResult> {
  const { remote, manifest, signal } = req;
  const prefix = remotePrefix(manifest.host, manifest.id);
  const partial = prefix + PARTIAL_SUFFIX;
  const existing = await collect(remote.list(prefix, { signal }));
  if (existing.some((e) => /\/manifest\.json(\.age)?$/.test(e.key))) {
    return {
      remote: remote.name,
      prefix,
      files: existing.length,
      bytes: existing.reduce((a, e) => a + e.size, 0),
      existed: true,
    };
  }
  if (existing.length > 0) await remote.removeDir(prefix, { signal }); // a half copy from an old, non-atomic client
  await remote.removeDir(partial, { signal }); // leftover of a cut transfer
  try {
    const sent: { file: RemoteFile; put: PutResult }[] = [];
    const send = async (src: Source) => {
      let plain: Meter | undefined;
      const put = await remote.put(
        `${partial}/${src.path}`,
        () => {
          if (src.known) return src.open(); // hashed when the backup was made: no second pass
          // A packed tree is counted, not hashed: its zstd frame carries an XXH64 checksum of the
          // content that `zstd -d` checks on pull, and hashing here too cost ~20% of upload speed.
          plain = new Meter(src.unpackTo ? [] : ['sha256']);
          const s = src.open();
          s.on('error', (err) => plain!.destroy(err));
          return s.pipe(plain);
        },
        { signal, size: src.size, label: src.path },
      );
      const counted = src.known ? undefined : plain!.result();
      const p = src.known ?? { size: counted!.size, sha256: counted!.hashes.sha256 };
      const stored = put.key.slice(partial.length + 1);
      sent.push({
        put,
        file: { path: src.path, stored, size: p.size, sha256: p.sha256, storedSize: put.size, unpackTo: src.unpackTo },
      });
    };
    for (const src of await sourcesOf(req)) await send(src);
    // Plaintext even on an encrypted remote, so rotation never needs the age identity; not in the
    // index (pull leaves it on the remote). Before the manifest: inside the final rename.
    const info = retentionInfoBody(manifest, req.encrypted);
    const infoPut = await remote.put(`${partial}/${RETENTION_FILE}`, () => Readable.from([info]), {
      signal,
      size: info.length,
      label: RETENTION_FILE,
      plaintext: true,
    });
    const index: RemoteIndex = {
      format: REMOTE_INDEX_FORMAT,
      id: manifest.id,
      host: manifest.host,
      uploaded: new Date().toISOString(),
      encrypted: req.encrypted,
      files: sent.map((s) => s.file),
    };
    // The index lists the manifest too (sent right after it), so pull checks it like every file.
    // Its stored size is known only once sent: pull checks plaintext size and sha256 anyway.
    const manifestPath = join(req.backupDir, MANIFEST);
    const manifestEntry: RemoteFile = {
      path: MANIFEST,
      stored: req.encrypted ? `${MANIFEST}.age` : MANIFEST,
      ...(await sizeAndHash(manifestPath)),
      storedSize: -1,
    };
    const body = Buffer.from(JSON.stringify({ ...index, files: [...index.files, manifestEntry] }, null, 1));
    await send({ path: REMOTE_INDEX, open: () => Readable.from([body]), size: body.length });
    await send({ path: MANIFEST, open: () => createReadStream(manifestPath), size: manifestEntry.size });
    await verifyArrival(remote, partial, [...sent, { put: infoPut }], signal);
    await remote.renameDir(partial, prefix, { signal });
    return {
      remote: remote.name,
      prefix,
      files: sent.length,
      bytes: sent.reduce((a, s) => a + s.put.size, 0),
      existed: false,
    };
  } catch (err) {
    // Clean up with our own deadline: the job's signal may be the reason we are here.
    await remote.removeDir(partial, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    throw err;
  }
}

/** What travels, in order: plain files, packed trees; the index and the manifest come last. */
async function sourcesOf(req: UploadRequest): Promise<Source[]> {
  const trees = new Set<string>();
  for (const item of req.manifest.items)
    if (item.kind === 'volume' && item.format === 'tree') trees.add(rel.volumeTree(item.name));
  const hashed = new Map(req.manifest.items.flatMap((i) => i.files).map((f) => [f.path, f]));
  const out: Source[] = [];
  const walk = async (dir: string, relDir: string) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const relPath = relDir ? `${relDir}/${e.name}` : e.name;
      const abs = join(dir, e.name);
      const tree = trees.has(relPath);
      if (tree && e.isDirectory()) {
        // no size: progress counts compressed bytes, a logical total would never be reached
        out.push({ path: `${relPath}.tar.zst`, open: () => packTree(abs, req.level, req.signal), unpackTo: relPath });
      } else if (e.isDirectory()) await walk(abs, relPath);
      else if (e.isFile() && relPath !== MANIFEST && relPath !== REMOTE_INDEX && relPath !== RETENTION_FILE) {
        const size = (await lstat(abs)).size;
        const entry = hashed.get(relPath);
        // pull checks these bytes against the manifest's hash: a file damaged since the backup shows up there
        const known = entry && entry.size === size ? { size, sha256: entry.sha256 } : undefined;
        out.push({ path: relPath, open: () => createReadStream(abs, { highWaterMark: 1 << 20 }), size, known });
      }
    }
  };
  await walk(req.backupDir, '');
  return out;
}

async function sizeAndHash(path: string): Promise<{ size: number; sha256: string }> {
  const m = new Meter(['sha256']);
  for await (const _ of createReadStream(path).pipe(m)) void _;
  const r = m.result();
  return { size: r.size, sha256: r.hashes.sha256! };
}

/** The remote's listing must hold every file we sent with the size we sent (and md5 where offered). */
async function verifyArrival(
  remote: Remote,
  partial: string,
  sent: { put: PutResult }[],
  signal: AbortSignal,
): Promise<void> {
  const listed = new Map(
    (await collect(remote.list(partial, { signal, hashes: remote.caps.hashes.length > 0 }))).map((e) => [e.key, e]),
  );
  for (const { put } of sent) {
    const got = listed.get(put.key);
    if (!got)
      throw new RemoteError('INTEGRITY', remote.name, `upload check: ${put.key} is missing after upload`, false);
    if (got.size !== put.size)
      throw new RemoteError(
        'INTEGRITY',
        remote.name,
        `upload check: ${put.key} has ${got.size} bytes on the remote, ${put.size} were sent`,
        false,
      );
    const md5 = got.hashes?.md5;
    if (md5 && put.hashes.md5 && md5 !== put.hashes.md5)
      throw new RemoteError(
        'INTEGRITY',
        remote.name,
        `upload check: ${put.key} md5 differs (remote ${md5}, sent ${put.hashes.md5})`,
        false,
      );
  }
}
