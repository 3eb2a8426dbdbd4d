// The JSON schema of the config file, derived from the zod schema so the two cannot disagree.
// Shipped as assets/config.schema.json (scripts/gen-schema.ts) for editors' completion.
import { z } from 'zod';
import { SECRET_KEYS } from './load.js';
import { configSchema } from './schema.js';

type JsonObject = { [key: string]: unknown };

export function buildJsonSchema(): JsonObject {
  // io 'input': what a user may write (keys with defaults are optional), not what the loader returns.
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonObject;
  addSecretFileKeys(schema);
  return { $schema: schema.$schema, title: 'bbackup configuration', ...schema };
}

/** The loader accepts `<secret>_file` next to every secret key; editors must not flag it. */
function addSecretFileKeys(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(addSecretFileKeys);
  if (!node || typeof node !== 'object') return;
  const obj = node as JsonObject;
  const props = obj.properties as JsonObject | undefined;
  if (props) {
    for (const key of Object.keys(props)) {
      if (SECRET_KEYS.has(key) && !(`${key}_file` in props)) {
        props[`${key}_file`] = {
          type: 'string',
          description: `read ${key} from this file (trailing newline removed); do not set both`,
        };
      }
    }
  }
  for (const value of Object.values(obj)) addSecretFileKeys(value);
}

export const renderJsonSchema = (): string => `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
