/**
 * The config loader: YAML file -> environment overrides -> schema defaults -> human values parsed
 * -> validation. Every problem is a `ConfigError` naming the dotted key path, what was expected,
 * and where the bad value came from (file position or environment variable).
 */
import { ConfigError } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { applyDefaults } from './defaults.js';
import { applyEnvOverrides, envOverrides, type EnvOverride } from './env.js';
import { applyFormats, FormatFailure } from './formats.js';
import { isPlainObject, joinPath } from './path.js';
import { firstProblem } from './validate.js';
import { readYamlFile, type YamlSource } from './yaml.js';

export interface LoadConfigOptions {
  /** YAML file to read; without it the config is built from `env` and defaults alone. */
  readonly file?: string;
  /** Environment to take `JUNCTION__…` overrides from; `process.env` when omitted. */
  readonly env?: NodeJS.ProcessEnv;
  /** The schema, e.g. from `buildGatewaySchema`; every object should forbid unknown keys. */
  readonly schema: TSchema;
}

/**
 * Loads, completes and validates a config. Returns the config in its parsed form (durations in
 * ms, sizes in bytes, bind addresses as `{ host, port }`); the caller casts it to the schema's
 * static type. Throws `ConfigError` on any problem. An empty value (`key:` with nothing after
 * it) counts as absent, so the key takes its default.
 */
export function loadConfig(opts: LoadConfigOptions): unknown {
  const source = opts.file === undefined ? undefined : readYamlFile(opts.file);
  const raw = source ? source.data : {};
  if (!isPlainObject(raw)) throw new ConfigError('', `expected a mapping of sections at the top of ${opts.file ?? 'the config'}`);
  const overrides = envOverrides(opts.env ?? process.env, opts.schema);
  const config = dropNulls(raw);
  applyEnvOverrides(config, overrides);
  const fail = (segments: readonly string[], message: string): ConfigError =>
    new ConfigError(joinPath(segments), `${message}${origin(segments, overrides, source)}`);

  const defaulted = applyDefaults(opts.schema, config);
  let parsed: unknown;
  try {
    parsed = applyFormats(opts.schema, defaulted);
  } catch (err) {
    if (err instanceof FormatFailure) throw fail(err.segments, err.message);
    throw err;
  }
  const problem = firstProblem(opts.schema, parsed);
  if (problem) throw fail(problem.segments, problem.message);
  return parsed;
}

/** ` (from JUNCTION__…)` or ` (file.yaml:3:5)`: where the value at `segments` was written. */
function origin(segments: readonly string[], overrides: readonly EnvOverride[], source: YamlSource | undefined): string {
  const path = joinPath(segments);
  const related = (o: EnvOverride) => {
    const p = joinPath(o.segments);
    return p === path || path.startsWith(`${p}.`) || p.startsWith(`${path}.`);
  };
  const fromEnv = overrides.filter(related).at(-1);
  if (fromEnv) return ` (from environment variable ${fromEnv.variable})`;
  const where = source?.locate(segments);
  return where ? ` (${where})` : '';
}

function dropNulls(value: Record<string, unknown>): Record<string, unknown> {
  for (const [key, inner] of Object.entries(value)) {
    if (inner === null) delete value[key];
    else if (isPlainObject(inner)) dropNulls(inner);
    else if (Array.isArray(inner)) inner.forEach((item) => isPlainObject(item) && dropNulls(item));
  }
  return value;
}
