/** Shared config plumbing: TypeBox schemas with defaults, checked into `ConfigError`s. */
import { ConfigError } from '@junction/broker-core';
import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Fill defaults and check; throws `ConfigError` naming the first bad key under `path`. */
export function parseConfig<S extends TSchema>(schema: S, input: unknown, path: string): Static<S> {
  const v = Value.Default(schema, Value.Clone(input ?? {})) as unknown;
  const first = Value.Errors(schema, v).First();
  if (first) {
    const at = first.path.replace(/^\//, '').replaceAll('/', '.');
    throw new ConfigError(at ? `${path}.${at}` : path, first.message);
  }
  return v as Static<S>;
}
