/** Short human names of schema types, for error messages and the config reference. */
import type { TSchema } from '@sinclair/typebox';
import { formatOf } from '@junction/broker-core';
import { asRecord } from './walk.js';

/** The literal values of an enum-like union (all branches `const`), or undefined. */
export function enumValues(schema: TSchema): unknown[] | undefined {
  const s = asRecord(schema);
  if ('const' in s) return [s.const];
  if (!s.anyOf || s.anyOf.length === 0) return undefined;
  const values: unknown[] = [];
  for (const branch of s.anyOf) {
    const b = asRecord(branch);
    if (!('const' in b)) return undefined;
    values.push(b.const);
  }
  return values;
}

/** E.g. `string`, `integer (1..65535)`, `duration`, `"text" | "json"`, `map of object`. */
export function describeType(schema: TSchema): string {
  const format = formatOf(schema);
  if (format) return format === 'bind' ? 'bind address' : format;
  const values = enumValues(schema);
  if (values) return values.map((v) => JSON.stringify(v)).join(' | ');
  const s = asRecord(schema) as ReturnType<typeof asRecord> & { minimum?: number; maximum?: number };
  if (s.anyOf) return s.anyOf.map(describeType).join(' | ');
  switch (s.type) {
    case 'number':
    case 'integer':
      return s.type + range(s.minimum, s.maximum);
    case 'array':
      return s.items ? `array of ${describeType(s.items)}` : 'array';
    case 'object': {
      const entry = s.patternProperties ? Object.values(s.patternProperties)[0] : undefined;
      if (entry && !s.properties) return `map of ${describeType(entry)}`;
      return 'object';
    }
    case undefined:
      return 'any';
    default:
      return s.type;
  }
}

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` (${min}..${max})`;
  if (min !== undefined) return ` (>= ${min})`;
  if (max !== undefined) return ` (<= ${max})`;
  return '';
}

/** A value as shown in messages: JSON, with `undefined` spelled out. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
