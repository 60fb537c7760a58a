/**
 * Navigation of the TypeBox schemas the config is made of: objects (fixed properties, and maps
 * via `patternProperties` / `additionalProperties`), arrays and unions.
 */
import { Kind, type TSchema } from '@sinclair/typebox';

/** A schema seen as a plain JSON-schema record, to read keywords TypeBox types do not declare. */
export type SchemaRecord = TSchema & {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, TSchema>>;
  readonly patternProperties?: Readonly<Record<string, TSchema>>;
  readonly additionalProperties?: boolean | TSchema;
  readonly required?: readonly string[];
  readonly items?: TSchema;
  readonly anyOf?: readonly TSchema[];
  readonly allOf?: readonly TSchema[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly description?: string;
};

export function asRecord(schema: TSchema): SchemaRecord {
  return schema as SchemaRecord;
}

export function kindOf(schema: TSchema): string | undefined {
  return (schema as { [Kind]?: string })[Kind];
}

/** The schema of key `key` inside an object schema: a declared property, a map entry, or none. */
export function propertySchema(schema: TSchema, key: string): TSchema | undefined {
  const s = asRecord(schema);
  if (s.type !== 'object') return undefined;
  if (s.properties && Object.hasOwn(s.properties, key)) return s.properties[key];
  for (const [pattern, inner] of Object.entries(s.patternProperties ?? {})) {
    if (new RegExp(pattern).test(key)) return inner;
  }
  return typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
}

/** The schema of one path segment below `schema` (object key or array index), if any. */
export function childSchema(schema: TSchema, segment: string): TSchema | undefined {
  const s = asRecord(schema);
  if (s.anyOf) {
    for (const branch of s.anyOf) {
      const found = childSchema(branch, segment);
      if (found) return found;
    }
    return undefined;
  }
  if (s.allOf) {
    for (const part of s.allOf) {
      const found = childSchema(part, segment);
      if (found) return found;
    }
    return undefined;
  }
  if (s.type === 'array') return /^\d+$/.test(segment) && s.items ? s.items : undefined;
  return propertySchema(schema, segment);
}

/** The schema at a path below `schema`, or undefined if the path leaves the schema. */
export function schemaAt(schema: TSchema, segments: readonly string[]): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const segment of segments) {
    node = node && childSchema(node, segment);
    if (!node) return undefined;
  }
  return node;
}
