// "Did you mean" for unknown config keys: the keys the zod schema allows at a path, and the
// closest one to a typo (edit distance below 3).
import { configSchema } from './schema.js';

export function allowedKeys(path: readonly PropertyKey[]): string[] {
  // Walk the zod schema alongside the path to list what is allowed where a typo was made.
  let schema: unknown = configSchema;
  for (const key of path) {
    schema = childSchema(schema, key);
    if (!schema) return [];
  }
  const shape = objectShape(schema);
  return shape ? Object.keys(shape) : [];
}

type AnyDef = {
  type?: string;
  innerType?: unknown;
  shape?: Record<string, unknown>;
  valueType?: unknown;
  element?: unknown;
  options?: unknown[];
};
const defOf = (s: unknown): AnyDef | undefined => (s as { _zod?: { def?: AnyDef } })?._zod?.def;

function unwrap(schema: unknown): unknown {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const def = defOf(s);
    if (def?.innerType && ['default', 'prefault', 'optional', 'nullable', 'pipe'].includes(def.type ?? ''))
      s = def.innerType;
    else break;
  }
  return s;
}

function objectShape(schema: unknown): Record<string, unknown> | undefined {
  const def = defOf(unwrap(schema));
  return def?.type === 'object' ? def.shape : undefined;
}

function childSchema(schema: unknown, key: PropertyKey): unknown {
  const s = unwrap(schema);
  const def = defOf(s);
  if (!def) return undefined;
  if (def.type === 'object') return def.shape?.[String(key)];
  if (def.type === 'record') return def.valueType;
  if (def.type === 'array') return def.element;
  return undefined;
}

export function suggest(key: string, allowed: string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best ? `did you mean "${best}"?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
