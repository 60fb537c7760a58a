/**
 * Parses human values (`30s`, `1MB`, `127.0.0.1:1883`) wherever the schema marks them (see
 * `types.ts`), before validation, so that the schema validates and the app receives the parsed
 * form. A value of another type (say `true` for a duration) is left for validation to report.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { isPlainObject } from './path.js';
import { formatOf, parseHuman } from '@junction/broker-core';
import { asRecord, propertySchema } from './walk.js';

/** A human value its parser refused, with the path of the value. */
export class FormatFailure extends Error {
  constructor(
    readonly segments: readonly string[],
    message: string,
  ) {
    super(message);
    this.name = 'FormatFailure';
  }
}

/** Returns `value` with every marked human value parsed; objects and arrays change in place. */
export function applyFormats(schema: TSchema, value: unknown, segments: readonly string[] = []): unknown {
  const format = formatOf(schema);
  if (format) {
    if (typeof value !== 'string' && typeof value !== 'number') return value;
    try {
      return parseHuman(format, value);
    } catch (err) {
      throw new FormatFailure(segments, (err as Error).message);
    }
  }
  const s = asRecord(schema);
  if (s.anyOf) return formatUnion(s.anyOf, value, segments);
  if (s.allOf) return s.allOf.reduce<unknown>((acc, part) => applyFormats(part, acc, segments), value);
  if (Array.isArray(value) && s.type === 'array' && s.items) {
    for (let i = 0; i < value.length; i++) value[i] = applyFormats(s.items, value[i], [...segments, String(i)]);
    return value;
  }
  if (isPlainObject(value) && s.type === 'object') {
    for (const key of Object.keys(value)) {
      const inner = propertySchema(schema, key);
      if (inner) value[key] = applyFormats(inner, value[key], [...segments, key]);
    }
  }
  return value;
}

/**
 * A union takes the first branch under which the value parses and validates. When none does,
 * the value is returned unchanged for validation to report, unless exactly one branch failed
 * to parse it: then that failure is the most useful message.
 */
function formatUnion(branches: readonly TSchema[], value: unknown, segments: readonly string[]): unknown {
  const failures: FormatFailure[] = [];
  for (const branch of branches) {
    try {
      const candidate = applyFormats(branch, structuredClone(value), segments);
      if (Value.Check(branch, candidate)) return candidate;
    } catch (err) {
      if (!(err instanceof FormatFailure)) throw err;
      failures.push(err);
    }
  }
  if (failures.length === 1 && failures[0]) throw failures[0];
  return value;
}
