// Rewrites the keys table between the markers in README.md from BINDINGS.
import { readFileSync, writeFileSync } from 'node:fs';
import { keysMarkdown, README_BEGIN, README_END } from './keys-doc.js';

const path = new URL('../README.md', import.meta.url);
const text = readFileSync(path, 'utf8');
const start = text.indexOf(README_BEGIN);
const end = text.indexOf(README_END);
if (start < 0 || end < start) throw new Error(`README.md has no ${README_BEGIN} ... ${README_END} section`);
writeFileSync(path, `${text.slice(0, start + README_BEGIN.length)}\n${keysMarkdown()}\n${text.slice(end)}`);
console.log('README.md keys table updated');
