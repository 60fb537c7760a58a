/**
 * Turn a config as written (partial, `5s` durations) into the full parsed form: defaults filled
 * in, human values parsed, then validated; a problem is a `ConfigError` naming the key, e.g.
 * `authentication.1.cmd`. Already-parsed input passes through unchanged.
 */
import { ConfigError, formatOf, parseHuman } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

type SchemaRecord = TSchema & {
  type?: string;
  properties?: Record<string, TSchema>;
  additionalProperties?: boolean | TSchema;
  items?: TSchema;
  anyOf?: TSchema[];
  default?: unknown;
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function fill(schema: TSchema, value: unknown, path: string): unknown {
  const s = schema as SchemaRecord;
  const format = formatOf(schema);
  if (format) {
    if (value === undefined && s.default !== undefined) value = s.default;
    if (typeof value === 'string' || typeof value === 'number') {
      try {
        return parseHuman(format, value);
      } catch (err) {
        throw new ConfigError(path, (err as Error).message);
      }
    }
    return value;
  }
  let v = value;
  if (v === undefined && s.default !== undefined) v = structuredClone(s.default);
  if (s.anyOf) {
    for (const branch of s.anyOf) {
      try {
        const candidate = fill(branch, structuredClone(v), path);
        if (Value.Check(branch, candidate)) return candidate;
      } catch {
        // try the next branch
      }
    }
    // None fits: fill with the branch the value names, so the error is about the real problem.
    const named = pickBranch(s.anyOf, v);
    return named ? fill(named, v, path) : v;
  }
  if (s.type === 'array' && Array.isArray(v) && s.items) return v.map((item, i) => fill(s.items!, item, join(path, String(i))));
  if (s.type === 'object' && isObject(v)) {
    const out: Record<string, unknown> = { ...v };
    for (const [key, inner] of Object.entries(s.properties ?? {})) {
      const filled = fill(inner, out[key], join(path, key));
      if (filled !== undefined) out[key] = filled;
    }
    return out;
  }
  return v;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Fill defaults, parse human values and validate; throws `ConfigError` with the key's path. */
export function normalize<T>(schema: TSchema, value: unknown, path = ''): T {
  const filled = fill(schema, value, path);
  if (!Value.Check(schema, filled)) throw explain(schema, filled, path);
  return filled as T;
}

/** The most specific error: inside a union, the branch the value names (`mechanism`, `backend`, `type`). */
function explain(schema: TSchema, value: unknown, path: string): ConfigError {
  const s = schema as SchemaRecord;
  if (s.anyOf) {
    const branch = pickBranch(s.anyOf, value);
    if (branch) return explain(branch, value, path);
    return new ConfigError(path, `no variant matches ${describeDiscriminators(value)}`);
  }
  if (s.type === 'array' && Array.isArray(value) && s.items) {
    for (let i = 0; i < value.length; i++) if (!Value.Check(s.items, value[i])) return explain(s.items, value[i], join(path, String(i)));
  }
  if (s.type === 'object' && isObject(value)) {
    for (const [key, inner] of Object.entries(s.properties ?? {})) {
      if (value[key] === undefined) {
        if ((s as { required?: string[] }).required?.includes(key)) return new ConfigError(join(path, key), 'is required');
        continue;
      }
      if (!Value.Check(inner, value[key])) return explain(inner, value[key], join(path, key));
    }
    if (s.additionalProperties === false) {
      const unknown = Object.keys(value).find((k) => !Object.hasOwn(s.properties ?? {}, k));
      if (unknown !== undefined) return new ConfigError(join(path, unknown), 'unknown key');
    }
  }
  const first = [...Value.Errors(schema, value)][0];
  return new ConfigError(path, first ? `${first.message}${first.path ? ` at ${first.path}` : ''}` : 'invalid value');
}

const DISCRIMINATORS = ['mechanism', 'backend', 'type', 'name'];

function pickBranch(branches: TSchema[], value: unknown): TSchema | undefined {
  if (!isObject(value)) return undefined;
  const matching = branches.filter((b) => {
    const props = (b as SchemaRecord).properties ?? {};
    return DISCRIMINATORS.every((d) => {
      const p = props[d] as { const?: unknown } | undefined;
      return p?.const === undefined || p.const === value[d];
    }) && DISCRIMINATORS.some((d) => (props[d] as { const?: unknown } | undefined)?.const !== undefined);
  });
  return matching.length === 1 ? matching[0] : undefined;
}

function describeDiscriminators(value: unknown): string {
  if (!isObject(value)) return JSON.stringify(value);
  const parts = DISCRIMINATORS.filter((d) => value[d] !== undefined).map((d) => `${d}: ${JSON.stringify(value[d])}`);
  return parts.length ? `{ ${parts.join(', ')} }` : 'this value';
}
