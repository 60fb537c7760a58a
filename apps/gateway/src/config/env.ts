/**
 * Environment overrides, as EMQX's `EMQX_` variables: `JUNCTION__LISTENERS__TCP__DEFAULT__BIND=…`
 * sets `listeners.tcp.default.bind`. Segments are separated by `__` and lower-cased. The value is
 * taken as-is where the schema wants a string or a human value (duration, size, bind address);
 * elsewhere it is parsed as YAML (`true`, `42`, `[a, b]`, `{a: 1}`) and, where the schema wants a
 * number or boolean, coerced to it.
 */
import { ConfigError } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { parse as parseYamlValue } from 'yaml';
import { enumValues } from './describe.js';
import { isPlainObject, joinPath } from './path.js';
import { formatOf } from '@junction/broker-core';
import { asRecord, schemaAt } from './walk.js';

export const ENV_PREFIX = 'JUNCTION__';

/** One override: the variable it came from, the key path it sets, and the coerced value. */
export interface EnvOverride {
  readonly variable: string;
  readonly segments: string[];
  readonly value: unknown;
}

/** The overrides in `env`, parents before children (so `X__A` applies on top of `X`). */
export function envOverrides(env: NodeJS.ProcessEnv, schema: TSchema): EnvOverride[] {
  const overrides: EnvOverride[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const segments = variable.slice(ENV_PREFIX.length).split('__').map((s) => s.toLowerCase());
    if (segments.some((s) => s === '')) {
      throw new ConfigError('', `environment variable ${variable} has an empty key segment; write JUNCTION__SECTION__KEY`);
    }
    overrides.push({ variable, segments, value: coerce(raw, schemaAt(schema, segments), variable, segments) });
  }
  return overrides.sort((a, b) => a.segments.length - b.segments.length || a.variable.localeCompare(b.variable));
}

/** Sets each override into `config`, creating intermediate mappings. */
export function applyEnvOverrides(config: Record<string, unknown>, overrides: readonly EnvOverride[]): void {
  for (const { variable, segments, value } of overrides) {
    let node: unknown = config;
    for (let i = 0; i < segments.length; i++) {
      const key = segments[i] ?? '';
      const last = i === segments.length - 1;
      if (Array.isArray(node) && /^\d+$/.test(key) && Number(key) <= node.length) {
        if (last) node[Number(key)] = value;
        else node = node[Number(key)] ??= {};
      } else if (isPlainObject(node)) {
        if (last) node[key] = value;
        else node = node[key] ??= {};
      } else {
        const parent = joinPath(segments.slice(0, i));
        throw new ConfigError(parent, `cannot apply ${variable}: ${parent} is not a mapping`);
      }
    }
  }
}

function coerce(raw: string, schema: TSchema | undefined, variable: string, segments: string[]): unknown {
  if (schema && formatOf(schema)) return raw.trim();
  const type = schema && asRecord(schema).type;
  const literals = schema && enumValues(schema);
  if (type === 'string' || (literals && literals.every((v) => typeof v === 'string'))) return raw;
  const text = raw.trim();
  if (type === 'number' || type === 'integer') return text !== '' && Number.isFinite(Number(text)) ? Number(text) : raw;
  if (type === 'boolean') return /^(true|false)$/i.test(text) ? text.toLowerCase() === 'true' : raw;
  try {
    return parseYamlValue(raw) as unknown;
  } catch (err) {
    throw new ConfigError(joinPath(segments), `cannot parse the value of ${variable} as YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}
