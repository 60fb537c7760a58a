/** Schema validation that reports the first problem by key path, in words. */
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { describeType, enumValues, showValue } from './describe.js';
import { pointerToSegments } from './path.js';
import { FORMAT_EXPECTED, formatOf } from '@junction/broker-core';
import { asRecord } from './walk.js';

/** A validation problem at a key path. */
export interface Problem {
  readonly segments: string[];
  readonly message: string;
}

/** Errors that say the value has the wrong type (as opposed to a violated constraint). */
const TYPE_MISMATCH = new Set<ValueErrorType>([
  ValueErrorType.Array,
  ValueErrorType.Boolean,
  ValueErrorType.Integer,
  ValueErrorType.Literal,
  ValueErrorType.Null,
  ValueErrorType.Number,
  ValueErrorType.Object,
  ValueErrorType.String,
  ValueErrorType.Tuple,
  ValueErrorType.Union,
]);

/** The first problem of `value` against `schema`, or undefined when it is valid. */
export function firstProblem(schema: TSchema, value: unknown): Problem | undefined {
  const error = Value.Errors(schema, value).First();
  return error && { segments: pointerToSegments(error.path), message: explain(error) };
}

function explain(error: ValueError): string {
  const { schema, value } = error;
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    // TypeBox reports an unknown key with the schema of the object that does not allow it.
    const known = Object.keys(asRecord(schema).properties ?? {});
    return known.length > 0 ? `unknown key; expected one of: ${known.join(', ')}` : 'unknown key';
  }
  if (error.type === ValueErrorType.ObjectRequiredProperty) {
    return `missing required key (expected ${describeType(schema)})`;
  }
  const format = formatOf(schema);
  if (format) return `expected ${FORMAT_EXPECTED[format]}, got ${showValue(value)}`;
  const values = enumValues(schema);
  if (values) return `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${showValue(value)}`;
  if (TYPE_MISMATCH.has(error.type)) return `expected ${describeType(schema)}, got ${showValue(value)}`;
  return `${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}, got ${showValue(value)}`;
}
