// The real index of a tree already in place, as a backup writes it: bbcopy adopt reads and hashes
// every file and writes volumes/<name>.index.jsonl (src/backup/bbcopy.ts).
import { execFileSync } from 'node:child_process';
import { adoptArgs } from '../../src/backup/bbcopy.js';
import { bbcopyPath } from '../../src/paths.js';

export async function writeTreeIndex(root: string, indexPath: string): Promise<void> {
  execFileSync(bbcopyPath(), adoptArgs({ target: root, index: indexPath }), { stdio: ['ignore', 'ignore', 'pipe'] });
}
