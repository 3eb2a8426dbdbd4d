// verify --remote for a snapshot (remote format 2). Without read-data: the snapshot's files are
// there, and every object its refs name is in a listed pack (of the snapshot's encryption) whose
// index names it: what a pull needs exists. With read-data: every pack holding one of its objects
// is downloaded, decrypted and decompressed, and each of its objects hashed: the content must be
// the object its name says (sha256, or the keyed name under a naming key this host can read).
import { createHash, createHmac } from 'node:crypto';
import { BbackupError, describeError } from '../../errors.js';
import type { Remote } from '../types.js';
import type { RemoteBackup } from '../list.js';
import { MAX_REFS, SNAP } from './format.js';
import { eachLimit, readJson } from './io.js';
import { readableKeys } from './naming.js';
import { loadObjectIndex } from './packs.js';
import { readPack } from './fetch.js';
import { openRepo } from './repo.js';
import { parseRefs } from './snapshot.js';

export interface SnapshotVerifyOptions {
  store: string;
  readData: boolean;
  canDecrypt: boolean;
  transfers: number;
  signal: AbortSignal;
  onBytes?: (n: number) => void;
}

export interface SnapshotVerifyResult {
  objects: number;
  packs: number;
  /** plaintext bytes read and hashed (read-data) */
  bytes: number;
  problems: string[];
}

const MAX_LISTED = 20;

export async function verifySnapshot(
  remote: Remote,
  b: RemoteBackup,
  o: SnapshotVerifyOptions,
): Promise<SnapshotVerifyResult> {
  const out: SnapshotVerifyResult = { objects: 0, packs: 0, bytes: 0, problems: [] };
  let more = 0;
  const problem = (p: string) => void (out.problems.length < MAX_LISTED ? out.problems.push(p) : more++);
  const encrypted = b.encrypted;
  const suffix = encrypted ? '.age' : '';
  for (const f of [SNAP.manifest + suffix, SNAP.snapshot + suffix, SNAP.info, SNAP.refs])
    if (!b.entries?.has(f)) problem(`${b.prefix}/${f} is missing`);
  const repo = await openRepo(remote, o.store, { create: false, signal: o.signal });
  if (!repo) return { ...out, problems: [...out.problems, 'the remote has no bbackup-repo.json'] };
  if (!b.entries?.has(SNAP.refs)) return out;
  const refs = parseRefs(
    await readJson(remote, `${b.prefix}/${SNAP.refs}`, MAX_REFS, o.signal),
    b.id,
    `${b.prefix}/${SNAP.refs}`,
  );
  const index = await loadObjectIndex(repo, {
    signal: o.signal,
    only: encrypted ? 'encrypted' : 'plaintext',
    transfers: o.transfers,
  });
  out.objects = refs.objects.length;
  const byPack = new Map<string, Set<string>>();
  for (const obj of refs.objects) {
    const at = index.objects.get(obj);
    if (!at) problem(`object ${obj} is missing (no ${encrypted ? 'encrypted ' : ''}pack on the remote holds it)`);
    else (byPack.get(at.pack) ?? byPack.set(at.pack, new Set()).get(at.pack)!).add(obj);
  }
  out.packs = byPack.size;
  if (o.readData) {
    if (encrypted && !o.canDecrypt)
      throw new BbackupError(
        'CONFIG_INVALID',
        `backup ${b.id} on ${remote.name} is encrypted: --read-data needs encryption.identity_file (or passphrase)`,
      );
    const keys = [...(await readableKeys(repo, { canDecrypt: o.canDecrypt, signal: o.signal })).values()];
    const named = (obj: string, sha: string) =>
      encrypted
        ? keys.some((k) => createHmac('sha256', k).update(Buffer.from(sha, 'hex')).digest('hex') === obj)
        : obj === sha;
    if (encrypted && keys.length === 0)
      problem(
        'no naming key of this remote can be read here: object names cannot be checked (contents are still read and decrypted)',
      );
    await eachLimit([...byPack.keys()], o.transfers, async (packId) => {
      const wanted = byPack.get(packId)!;
      const seen = new Set<string>();
      try {
        await readPack(
          remote,
          index.packs.get(packId)!.key,
          packId,
          { signal: o.signal, where: `remote ${remote.name}` },
          async (name, body) => {
            const h = createHash('sha256');
            for await (const c of body) {
              h.update(c);
              out.bytes += c.length;
              o.onBytes?.(c.length);
            }
            if (!wanted.has(name)) return;
            seen.add(name);
            if (keys.length > 0 || !encrypted)
              if (!named(name, h.digest('hex')))
                problem(`object ${name} in pack ${packId} does not match its name (damaged or replaced)`);
          },
        );
      } catch (err) {
        if (o.signal.aborted) throw err;
        problem(`pack ${packId}: ${describeError(err)}`);
        return;
      }
      for (const obj of wanted)
        if (!seen.has(obj)) problem(`object ${obj} is not in pack ${packId}, whose index names it`);
    });
  }
  if (more > 0) out.problems.push(`… and ${more} more`);
  return out;
}
