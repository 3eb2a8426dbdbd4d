// Object names. Unencrypted, an object is named by the sha256 of its content (the tree index
// already knows it: nothing is read twice). Encrypted, by HMAC-SHA256(naming key, sha256 bytes),
// so whoever reads the remote cannot test which well-known files it holds. The naming key is 32
// random bytes; it lives in the local store (<cache>/keys/<keyId>.json, 0600) and on the remote as
// keys/<keyId>.json.age, encrypted to the recipients. A host that has neither a cached key nor an
// identity to decrypt one makes its own (another keyId): no dedup with the other key's objects,
// still correct. Upload and rotation never need the identity.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError, describeError } from '../../errors.js';
import type { Emit } from '../../events.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../../store/private.js';
import type { Remote } from '../types.js';
import { checkFormat, KEY_ID_RE, KEYS_DIR, keyFileKey, REPO_FORMAT } from './format.js';
import { putJson, readJson } from './io.js';
import type { Repo } from './repo.js';

export interface Naming {
  encrypted: boolean;
  /** the naming key's id (encrypted only) */
  keyId?: string;
  /** object id of a content with this sha256 (hex) */
  objectId(sha256: string): string;
}

export const plainNaming: Naming = { encrypted: false, objectId: (sha) => sha };

export function keyedNaming(keyId: string, key: Buffer): Naming {
  return {
    encrypted: true,
    keyId,
    objectId: (sha) => createHmac('sha256', key).update(Buffer.from(sha, 'hex')).digest('hex'),
  };
}

export const keyIdOf = (key: Buffer): string =>
  createHash('sha256').update('bbackup naming key id\n').update(key).digest('hex').slice(0, 16);

interface KeyDoc {
  format: typeof REPO_FORMAT;
  keyId: string;
  /** base64 of the 32 key bytes */
  key: string;
  created: string;
}

function parseKey(doc: unknown, what: string): Buffer {
  const d = checkFormat(doc, what);
  const key = typeof d.key === 'string' ? Buffer.from(d.key, 'base64') : Buffer.alloc(0);
  if (key.length !== 32 || d.keyId !== keyIdOf(key))
    throw new BbackupError('INTEGRITY', `${what}: not a valid naming key`);
  return key;
}

async function cachedKeys(repo: Repo): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const dir = join(repo.cacheDir, 'keys');
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    const id = n.replace(/\.json$/, '');
    if (!KEY_ID_RE.test(id)) continue;
    try {
      out.set(id, parseKey(JSON.parse(await readFile(join(dir, n), 'utf8')), n));
    } catch {
      /* a damaged cache entry is ignored: the remote copy or a new key takes its place */
    }
  }
  return out;
}

async function cacheKey(repo: Repo, keyId: string, key: Buffer): Promise<void> {
  const dir = join(repo.cacheDir, 'keys');
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  const doc: KeyDoc = { format: REPO_FORMAT, keyId, key: key.toString('base64'), created: new Date().toISOString() };
  const tmp = join(dir, `.${keyId}.${randomBytes(3).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(doc), { mode: PRIVATE_FILE, flag: 'wx' });
  await rename(tmp, join(dir, `${keyId}.json`));
}

/** Naming keys on the remote: keyId -> stored key (keys/<keyId>.json.age). */
export async function remoteKeyIds(remote: Remote, signal: AbortSignal): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of remote.list(KEYS_DIR, { signal, maxDepth: 1 })) {
    const m = /^keys\/([0-9a-f]{16})\.json\.age$/.exec(e.key);
    if (m) out.set(m[1]!, e.key);
  }
  return out;
}

export interface NamingOptions {
  encrypted: boolean;
  /** an identity or passphrase is configured: remote keys can be decrypted */
  canDecrypt: boolean;
  /** false: never make a new key (pull, verify, stats) */
  create: boolean;
  signal: AbortSignal;
  emit?: Emit;
}

/**
 * The naming to write with. Encrypted: a cached key that the remote also holds, else a remote key
 * decrypted with the identity (then cached), else a new key (uploaded, then cached).
 */
export async function resolveNaming(repo: Repo, o: NamingOptions): Promise<Naming | undefined> {
  if (!o.encrypted) return plainNaming;
  const remote = await remoteKeyIds(repo.remote, o.signal);
  const local = await cachedKeys(repo);
  for (const id of [...remote.keys()].sort()) {
    const key = local.get(id);
    if (key) return keyedNaming(id, key);
  }
  if (o.canDecrypt) {
    for (const [id, stored] of [...remote].sort(([a], [b]) => (a < b ? -1 : 1))) {
      try {
        const key = parseKey(
          await readJson(repo.remote, stored, 64 * 1024, o.signal),
          `remote ${repo.remote.name}: ${stored}`,
        );
        if (keyIdOf(key) !== id) continue;
        await cacheKey(repo, id, key);
        return keyedNaming(id, key);
      } catch (err) {
        if (o.signal.aborted) throw err;
        o.emit?.({
          type: 'log',
          level: 'debug',
          source: 'remote',
          msg: `remote ${repo.remote.name}: naming key ${id} not usable: ${describeError(err)}`,
        });
      }
    }
  }
  if (!o.create) return undefined;
  const key = randomBytes(32);
  const keyId = keyIdOf(key);
  const doc: KeyDoc = { format: REPO_FORMAT, keyId, key: key.toString('base64'), created: new Date().toISOString() };
  await putJson(repo.remote, keyFileKey(keyId), doc, o.signal, false);
  await cacheKey(repo, keyId, key);
  if (remote.size > 0)
    o.emit?.({
      type: 'log',
      level: 'warn',
      source: 'remote',
      msg: `remote ${repo.remote.name}: made a new naming key ${keyId}: the remote's other key(s) cannot be read here (no identity_file), so this host's objects are not shared with other hosts' (still correct; see README "What travels")`,
    });
  return keyedNaming(keyId, key);
}

/** Every naming key this host can use for reading (verify --read-data, stats): cached and decryptable ones. */
export async function readableKeys(
  repo: Repo,
  o: { canDecrypt: boolean; signal: AbortSignal },
): Promise<Map<string, Buffer>> {
  const out = await cachedKeys(repo);
  if (!o.canDecrypt) return out;
  for (const [id, stored] of await remoteKeyIds(repo.remote, o.signal)) {
    if (out.has(id)) continue;
    try {
      const key = parseKey(await readJson(repo.remote, stored, 64 * 1024, o.signal), stored);
      if (keyIdOf(key) === id) out.set(id, key);
    } catch (err) {
      if (o.signal.aborted) throw err;
    }
  }
  return out;
}
