// Loaded with `node --require` by test/unit/startup-imports.test.ts: at exit, prints on stderr
// `REQUIRED <package>` for every npm package whose files Node's CommonJS loader read (the bundled
// CLI in dist/ keeps its npm packages inline, so these are the ones it left outside the bundle), and
// `ESM-LOADER` when Node's ES module loader ran.
/* global process, require -- a CommonJS preload run by Node */
'use strict';
process.on('exit', () => {
  const names = new Set();
  for (const file of Object.keys(require.cache)) {
    const m = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
    if (m) names.add(m[1].replace(/\\/g, '/'));
  }
  for (const n of names) process.stderr.write(`REQUIRED ${n}\n`);
  // Node's ES module loader is started only when something is imported as an ES module
  if (process.moduleLoadList.includes('NativeModule internal/modules/esm/loader')) process.stderr.write('ESM-LOADER\n');
});
