// The file operations a lock is made of; the policy (who is stale, heartbeat, waiting) is lock.ts.
//
// - create: the content goes to a private temporary file, is fsynced, and is then hard-linked to
//   the lock's name. link(2) fails with EEXIST when the name exists, so exactly one creator wins,
//   and a lock is never seen empty or half-written.
// - remove (a stale lock, or our own on release): only the exact file (dev+inode) that was judged.
//   rename() and unlink() act on whatever the name holds at that moment, so a remover first takes
//   a claim: link(lock, lock.breaking). That link fails while another remover holds the claim (one
//   remover at a time) and, once made, shows which inode the lock name held at that instant. If it
//   is not the judged one, the lock changed hands since it was judged: nothing is removed. Under the
//   claim nobody else removes the lock name (creators only add it when absent), so renaming it aside
//   removes exactly the judged file; the inode is checked once more after the rename all the same.
//   A freed inode number is soon reused (a lock removed and a new one created can get the same
//   number), so a remover that does not hold the file open compares its content too: a lock's
//   content names its run and start, and is never rewritten.
// - a claim left by a remover that died is removed once it is older than CLAIM_STALE_MS (a removal
//   takes milliseconds).
import { randomBytes } from 'node:crypto';
import { link, lstat, open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { currentRun } from '../process-identity.js';

export interface FileId {
  dev: bigint;
  ino: bigint;
  /** the content, when the caller does not hold the file open (see above) */
  text?: string;
}

export const CLAIM_SUFFIX = '.breaking';
export const CLAIM_STALE_MS = 60_000;

const same = (a: FileId, b: FileId) => a.dev === b.dev && a.ino === b.ino;
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;
const aside = (path: string, why: string) => `${path}.${why}-${currentRun().runId}-${randomBytes(3).toString('hex')}`;

/** A lock file created by us: its identity and an open handle (the heartbeat touches exactly this inode). */
export interface CreatedLock {
  id: FileId;
  handle: FileHandle;
}

/** Create `path` with `content` atomically; undefined when it already exists. */
export async function createExclusive(path: string, content: string): Promise<CreatedLock | undefined> {
  const tmp = aside(path, 'tmp');
  const handle = await open(tmp, 'wx', 0o600);
  let linked = false;
  try {
    await handle.writeFile(content);
    await handle.sync();
    const st = await handle.stat({ bigint: true });
    try {
      await link(tmp, path);
      linked = true;
    } catch (err) {
      if (code(err) === 'EEXIST') return undefined;
      throw err;
    }
    await syncDir(dirname(path));
    return { id: { dev: st.dev, ino: st.ino }, handle };
  } finally {
    if (!linked) await handle.close();
    await unlink(tmp).catch(() => undefined); // the lock name keeps the inode
  }
}

/** What a lock name holds now, read through one handle so the content belongs to the inode seen. */
export async function inspectLock(
  path: string,
): Promise<{ id: Required<FileId>; mtimeMs: number; text: string } | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = await handle.stat({ bigint: true });
    const text = await handle.readFile('utf8');
    return { id: { dev: st.dev, ino: st.ino, text }, mtimeMs: Number(st.mtimeMs), text };
  } finally {
    await handle.close();
  }
}

/** Does `path` hold the file `id` right now? */
export async function holds(path: string, id: FileId): Promise<boolean> {
  try {
    const st = await lstat(path, { bigint: true });
    return same(st, id) && (id.text === undefined || (await readFile(path, 'utf8')) === id.text);
  } catch (err) {
    if (code(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Remove `path` only if it is still the file `judged`. removed: it was and is gone; changed: the
 * name holds another file or none (nothing was removed); busy: another removal is under way.
 */
export async function removeIfSame(
  path: string,
  judged: FileId,
  now = Date.now(),
): Promise<'removed' | 'changed' | 'busy'> {
  const claim = path + CLAIM_SUFFIX;
  try {
    await link(path, claim);
  } catch (err) {
    if (code(err) === 'ENOENT') return 'changed';
    if (code(err) !== 'EEXIST') throw err;
    await clearDeadClaim(claim, now);
    return 'busy';
  }
  try {
    if (!(await holds(claim, judged))) return 'changed';
    const moved = aside(path, 'removed');
    try {
      await rename(path, moved);
    } catch (err) {
      if (code(err) === 'ENOENT') return 'changed';
      throw err;
    }
    if (!(await holds(moved, judged))) {
      // Only possible when a holder judged dead was not (see the contract above): give its file back.
      await link(moved, path).catch(() => undefined);
      await unlink(moved).catch(() => undefined);
      return 'changed';
    }
    await unlink(moved);
    await syncDir(dirname(path));
    return 'removed';
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** A claim whose inode has not changed for CLAIM_STALE_MS belongs to a remover that died. */
async function clearDeadClaim(claim: string, now: number): Promise<void> {
  try {
    const st = await lstat(claim, { bigint: true });
    if (now - Number(st.ctimeMs) < CLAIM_STALE_MS) return;
    const moved = aside(claim, 'dead');
    await rename(claim, moved);
    if (!(await holds(moved, { dev: st.dev, ino: st.ino }))) await link(moved, claim).catch(() => undefined);
    await unlink(moved);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

/** fsync a folder so a created or removed name survives a power cut (best effort: not every fs allows it). */
export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r').catch(() => undefined);
  if (!h) return;
  await h.sync().catch(() => undefined);
  await h.close();
}
