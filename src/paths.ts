// Where the package is installed, so assets are found the same way from src/ (tsx, tests) and
// from dist/ (the built bin).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BbackupError } from './errors.js';

function findRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`bbackup: cannot find package.json above ${start}`);
    dir = up;
  }
  return dir;
}

export const packageRoot = findRoot(dirname(fileURLToPath(import.meta.url)));
export const assetPath = (...parts: string[]): string => join(packageRoot, 'assets', ...parts);

/** Where the worker image carries bbcopy, the copy engine (src/backup/bbcopy.ts). */
export const BBCOPY_IN_IMAGE = '/usr/local/bin/bbcopy';

/** The built copy engine (scripts/build-native.sh); a clear error when the build step did not run. */
export function bbcopyPath(): string {
  const path = join(packageRoot, 'dist', 'native', 'bbcopy');
  if (!existsSync(path)) {
    throw new BbackupError(
      'TOOL_FAILED',
      `bbackup's copy engine is not built (${path} is missing): run npm run build (it needs gcc and libssl-dev; scripts/install-deps.sh installs them)`,
      { path },
    );
  }
  return path;
}
