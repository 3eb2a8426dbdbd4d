// The sha256 of each file as the daemon's stream passed (TarDeviceFilter's onMember), written as
// a hash list for bbcopy adopt (one JSON line per file, in stream order: {"p","size","sha256"}).
// A file, not memory: a volume of a million files must not grow the process. Lines are buffered
// and written in blocks; they reach only the page cache, so the event loop barely waits.
// The list only saves reading files again: when it cannot be written (a full store), writing
// stops and bbcopy reads whatever the list lacks. It never fails the stream itself.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { MemberHash } from './tar-device-filter.js';
import { PRIVATE_FILE } from '../store/private.js';

const FLUSH_AT = 1 << 18;

export interface HashList {
  add(m: MemberHash): void;
  /** writes what is buffered and closes the file */
  close(): void;
}

export function hashListWriter(path: string): HashList {
  const fd = openSync(path, 'w', PRIVATE_FILE);
  let text = '';
  let closed = false;
  let broken = false;
  const flush = () => {
    try {
      if (text && !broken) writeSync(fd, text);
    } catch {
      broken = true;
    }
    text = '';
  };
  return {
    add(m) {
      if (broken) return;
      text += `${JSON.stringify({ p: m.path, size: m.size, sha256: m.sha256 })}\n`;
      if (text.length >= FLUSH_AT) flush();
    },
    close() {
      if (closed) return;
      closed = true;
      flush();
      try {
        closeSync(fd);
      } catch {
        /* nothing was lost that bbcopy cannot read again */
      }
    },
  };
}
