// The tool version recorded in manifests and shown by --version; read from package.json once.
import { readFileSync } from 'node:fs';
import { packageRoot } from './paths.js';

export const version: string = (JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string })
  .version;
