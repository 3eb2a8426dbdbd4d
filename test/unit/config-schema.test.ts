// The shipped JSON schema and example config stay in step with the zod schema.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { buildJsonSchema, renderJsonSchema } from '../../src/config/json-schema.js';
import { configSchema } from '../../src/config/schema.js';
import { assetPath } from '../../src/paths.js';
import { exampleConfigText } from '../../src/cli/commands/init-config.js';

describe('assets/config.schema.json', () => {
  it('is what scripts/gen-schema.ts generates now (run `npx tsx scripts/gen-schema.ts` after a schema change)', () => {
    expect(readFileSync(assetPath('config.schema.json'), 'utf8')).toBe(renderJsonSchema());
  });

  it('lists every top-level section, forbids unknown keys and knows the *_file secret keys', () => {
    const schema = buildJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
      additionalProperties: unknown;
    };
    expect(Object.keys(schema.properties)).toEqual(Object.keys(configSchema.def.innerType.shape));
    expect(schema.additionalProperties).toBe(false);
    const email = (schema.properties.notifications!.properties!.email as { properties: Record<string, unknown> })
      .properties;
    expect(email).toHaveProperty('password');
    expect(email).toHaveProperty('password_file');
  });
});

describe('assets/config.example.yaml', () => {
  const text = readFileSync(assetPath('config.example.yaml'), 'utf8');

  it('parses and validates without any environment or secret files', () => {
    const config = parseConfigText(text, assetPath('config.example.yaml'), {});
    expect(config.backup.backup_sets.web?.containers).toEqual(['web', 'db']);
    expect(config.remotes.nas).toMatchObject({ type: 'local', enabled: false });
  });

  it('writes out every section (so every one is documented in place)', () => {
    for (const section of Object.keys(configSchema.def.innerType.shape))
      expect(text).toMatch(new RegExp(`^#? ?${section}:`, 'm'));
  });

  it('points editors at the schema; init-config rewrites that to the installed absolute path', () => {
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./config.schema.json');
    expect(exampleConfigText().split('\n')[0]).toBe(
      `# yaml-language-server: $schema=file://${assetPath('config.schema.json')}`,
    );
  });
});
