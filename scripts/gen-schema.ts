// Writes assets/config.schema.json from the zod schema (src/config/schema.ts).
// Run after changing the schema: npx tsx scripts/gen-schema.ts  (test/unit/config-schema.test.ts fails when stale)
import { writeFileSync } from 'node:fs';
import { renderJsonSchema } from '../src/config/json-schema.js';
import { assetPath } from '../src/paths.js';

const out = assetPath('config.schema.json');
writeFileSync(out, renderJsonSchema());
console.log(`wrote ${out}`);
