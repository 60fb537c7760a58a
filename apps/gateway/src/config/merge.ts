/**
 * Merging of section schemas declared by several parties, e.g. the `mqtt` section, to which the
 * broker core contributes session settings and the MQTT adapters wire-level settings.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { asRecord } from './walk.js';

/**
 * One object schema with the keys of both. A key declared by both must have the same schema.
 * The result forbids unknown keys and defaults to `{}`: a shared section is always present, with
 * its defaults, because the adapters that declared it read it.
 */
export function mergeSectionSchemas(path: string, a: TSchema, b: TSchema): TSchema {
  const [ra, rb] = [asRecord(a), asRecord(b)];
  for (const r of [ra, rb]) {
    if (r.type !== 'object' || r.patternProperties !== undefined || typeof r.additionalProperties === 'object') {
      throw new Error(`config section "${path}" is declared more than once, and only objects with fixed keys can be merged`);
    }
  }
  const properties: Record<string, TSchema> = { ...ra.properties };
  for (const [key, schema] of Object.entries(rb.properties ?? {})) {
    const existing = properties[key];
    if (existing !== undefined && existing !== schema && JSON.stringify(existing) !== JSON.stringify(schema)) {
      throw new Error(`config key "${path}.${key}" is declared twice, with different schemas`);
    }
    properties[key] = schema;
  }
  const description = ra.description ?? rb.description ?? `Settings of \`${path}\`.`;
  return Type.Object(properties, { additionalProperties: false, default: {}, description });
}

/** A shared object section on its own also defaults to `{}` (see `mergeSectionSchemas`). */
export function sharedSectionSchema(schema: TSchema): TSchema {
  const r = asRecord(schema);
  return r.type !== 'object' || 'default' in r ? schema : { ...schema, default: {} };
}
