/**
 * Fills schema defaults into a raw config. Unlike `Value.Default`, entries of maps (e.g. the named
 * listeners under `listeners.tcp`) get their inner defaults even when the entry schema has no
 * `default` of its own, so adapter schemas need no special care.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isPlainObject } from './path.js';
import { asRecord, propertySchema } from './walk.js';

/** Returns `value` with defaults filled in; objects and arrays are filled in place. */
export function applyDefaults(schema: TSchema, value: unknown): unknown {
  const s = asRecord(schema);
  let v = value;
  if ('default' in s) {
    if (v === undefined) v = structuredClone(s.default);
    else if (isPlainObject(v) && isPlainObject(s.default)) v = { ...structuredClone(s.default), ...v };
  }
  if (s.anyOf) return defaultUnion(s.anyOf, v);
  if (s.allOf) return s.allOf.reduce<unknown>((acc, part) => applyDefaults(part, acc), v);
  if (Array.isArray(v) && s.type === 'array' && s.items) {
    for (let i = 0; i < v.length; i++) v[i] = applyDefaults(s.items, v[i]);
    return v;
  }
  if (isPlainObject(v) && s.type === 'object') {
    for (const [key, inner] of Object.entries(s.properties ?? {})) {
      const filled = applyDefaults(inner, v[key]);
      if (filled !== undefined) v[key] = filled;
    }
    for (const key of Object.keys(v)) {
      if (s.properties && Object.hasOwn(s.properties, key)) continue;
      const inner = propertySchema(schema, key);
      if (inner) v[key] = applyDefaults(inner, v[key]);
    }
  }
  return v;
}

/** A union takes the first branch whose defaults make the value valid; else the value as is. */
function defaultUnion(branches: readonly TSchema[], value: unknown): unknown {
  for (const branch of branches) {
    const candidate = applyDefaults(branch, structuredClone(value));
    if (Value.Check(branch, candidate)) return candidate;
  }
  return value;
}
