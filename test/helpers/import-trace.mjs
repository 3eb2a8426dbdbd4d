// Loaded with `node --import` by test/unit/startup-imports.test.ts: prints `IMPORT <package>` on
// stderr for every npm package that bbackup's own code imports, so a test can see what start-up loads.
import { register } from 'node:module';

if (!process.env.BBT_TRACE_HOOK) {
  process.env.BBT_TRACE_HOOK = '1';
  register(import.meta.url, import.meta.url);
}

export async function resolve(spec, context, next) {
  const parent = context.parentURL ?? '';
  if (!/^(\.|\/|node:|file:|data:)/.test(spec) && parent.startsWith('file:') && !parent.includes('/node_modules/')) {
    process.stderr.write(
      `IMPORT ${spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]}\n`,
    );
  }
  return next(spec, context);
}
