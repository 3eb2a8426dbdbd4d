// Where the package is installed, so assets are found the same way from src/ (tsx, tests) and
// from dist/ (the built bin).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
