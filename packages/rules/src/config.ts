/**
 * The `rule_engine` configuration section in EMQX's shape:
 *
 * ```yaml
 * rule_engine:
 *   ignore_sys_message: true
 *   rules:
 *     high_temp:
 *       sql: SELECT payload.temp as t, clientid FROM "sensors/#" WHERE payload.temp > 30
 *       actions:
 *         - { function: republish, args: { topic: "alerts/${clientid}" } }
 *         - { function: console }
 *         - "http:my_webhook"          # a sink, EMQX's action id form
 *       enable: true
 *       description: Temperature alerts
 * ```
 *
 * Every key has a default and a description; `normalizeRulesConfig` fills the defaults and
 * throws the core's `ConfigError` naming the offending key.
 */
import { ConfigError } from '@junction/broker-core';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const republishArgsSchema = Type.Object(
  {
    topic: Type.String({ minLength: 1, description: 'Topic to publish to; a template such as `alerts/${clientid}`.' }),
    qos: Type.Union([Type.Integer({ minimum: 0, maximum: 2 }), Type.String()], { default: '${qos}', description: 'QoS: 0, 1, 2 or a template; a missing value gives 0.' }),
    retain: Type.Union([Type.Boolean(), Type.String()], { default: '${flags.retain}', description: 'Retain flag: a boolean or a template; a missing value gives false.' }),
    payload: Type.String({ default: '', description: 'Payload template, e.g. `${payload}`; empty publishes the whole rule output as JSON.' }),
    mqtt_properties: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
      default: {},
      description: "MQTT 5 properties by EMQX name ('Content-Type', 'Message-Expiry-Interval', 'Payload-Format-Indicator', 'Response-Topic', 'Correlation-Data'), values are templates.",
    }),
    user_properties: Type.String({ default: '${user_properties}', description: 'A template whose value is a map (or a list of {key, value}) of MQTT 5 user properties.' }),
    direct_dispatch: Type.Boolean({ default: false, description: 'Accepted for EMQX compatibility; the message always goes through the message.publish hooks.' }),
  },
  { additionalProperties: false },
);

export const republishActionSchema = Type.Object(
  {
    function: Type.Literal('republish', { description: 'Publish the output as a new MQTT message.' }),
    args: republishArgsSchema,
  },
  { additionalProperties: false },
);

export const consoleActionSchema = Type.Object(
  {
    function: Type.Literal('console', { description: 'Write each output to the log.' }),
    args: Type.Optional(Type.Object({}, { description: 'None.' })),
  },
  { additionalProperties: false },
);

export const sinkActionSchema = Type.Object(
  {
    function: Type.Literal('sink', { description: 'Hand each output to a registered sink (a connector).' }),
    name: Type.String({ minLength: 1, description: 'The sink name, e.g. `http:my_webhook`.' }),
  },
  { additionalProperties: false },
);

export const actionSchema = Type.Union([
  republishActionSchema,
  consoleActionSchema,
  sinkActionSchema,
  Type.String({ pattern: '^[^:]+:.+$', description: 'EMQX action id `type:name`: the sink of that name.' }),
]);

export const ruleSchema = Type.Object(
  {
    sql: Type.String({ minLength: 1, description: 'The rule SQL: SELECT ... FROM ... [WHERE ...] or FOREACH ... FROM ....' }),
    actions: Type.Array(actionSchema, { default: [], description: 'What to do with each output, in order.' }),
    enable: Type.Boolean({ default: true, description: 'A disabled rule keeps its definition and metrics but does not run.' }),
    description: Type.String({ default: '', description: 'Free text.' }),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Free-form data kept with the rule.' })),
  },
  { additionalProperties: false },
);

export const RULE_ID = /^[A-Za-z0-9_\-.:]{1,255}$/;

export const rulesConfigSchema = Type.Object(
  {
    ignore_sys_message: Type.Boolean({ default: true, description: 'Do not run rules (or message events) for $SYS messages.' }),
    max_republish_depth: Type.Integer({
      default: 8,
      minimum: 1,
      maximum: 64,
      description: 'Junction: at most this many republishes in a chain (rule A republishes, rule B matches that and republishes, ...); the next is discarded.',
    }),
    rules: Type.Record(Type.String({ pattern: RULE_ID.source }), ruleSchema, { default: {}, description: 'Rules by id.' }),
  },
  { additionalProperties: false },
);

export type RepublishActionConfig = Static<typeof republishActionSchema>;
export type ActionConfig = Static<typeof actionSchema>;
export type RuleConfig = Static<typeof ruleSchema>;
export type RulesConfig = Static<typeof rulesConfigSchema>;

/** A rule as given to the API: only `sql` is required. */
export type RuleInput = { sql: string; actions?: readonly unknown[]; enable?: boolean; description?: string; metadata?: Record<string, unknown> };
export type RulesConfigInput = { ignore_sys_message?: boolean; max_republish_depth?: number; rules?: Record<string, RuleInput> };

type SchemaShape = TSchema & {
  type?: string;
  properties?: Record<string, TSchema>;
  patternProperties?: Record<string, TSchema>;
  items?: TSchema;
  anyOf?: TSchema[];
  default?: unknown;
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Defaults filled in, also inside records, arrays and the union branch the value fits. */
function fill(schema: TSchema, value: unknown): unknown {
  const s = schema as SchemaShape;
  let v = value === undefined && s.default !== undefined ? structuredClone(s.default) : value;
  if (s.anyOf) {
    for (const branch of s.anyOf) {
      const candidate = fill(branch, structuredClone(v));
      if (Value.Check(branch, candidate)) return candidate;
    }
    return v;
  }
  if (s.type === 'array' && Array.isArray(v) && s.items) return v.map((x) => fill(s.items!, x));
  if (s.type === 'object' && isObject(v)) {
    const out: Record<string, unknown> = { ...v };
    for (const [k, inner] of Object.entries(s.properties ?? {})) {
      const filled = fill(inner, out[k]);
      if (filled !== undefined) out[k] = filled;
    }
    const pattern = Object.values(s.patternProperties ?? {})[0];
    if (pattern) for (const k of Object.keys(out)) out[k] = fill(pattern, out[k]);
    v = out;
  }
  return v;
}

/** Fill defaults and validate; throws `ConfigError` naming the key. */
export function normalize<T>(schema: TSchema, input: unknown, prefix: string): T {
  const value = fill(schema, structuredClone(input ?? {}));
  if (Value.Check(schema, value)) return value as T;
  throw explain(schema, value, prefix);
}

/** The most specific problem: inside a union, the branch whose `function` the value names. */
function explain(schema: TSchema, value: unknown, path: string): ConfigError {
  const s = schema as SchemaShape;
  const join = (k: string) => (path ? `${path}.${k}` : k);
  if (s.anyOf) {
    const fn = isObject(value) ? value.function : undefined;
    const branch = s.anyOf.find((b) => ((b as SchemaShape).properties?.function as { const?: unknown } | undefined)?.const === fn && fn !== undefined);
    if (branch) return explain(branch, value, path);
    return new ConfigError(path, `expected one of: ${s.anyOf.map(describe).join(', ')}`);
  }
  if (s.type === 'array' && Array.isArray(value) && s.items) {
    const i = value.findIndex((x) => !Value.Check(s.items!, x));
    if (i >= 0) return explain(s.items, value[i], join(String(i)));
  }
  if (s.type === 'object' && isObject(value)) {
    for (const [k, inner] of Object.entries(s.properties ?? {})) {
      if (value[k] === undefined) {
        if ((s as { required?: string[] }).required?.includes(k)) return new ConfigError(join(k), 'is required');
        continue;
      }
      if (!Value.Check(inner, value[k])) return explain(inner, value[k], join(k));
    }
    const pattern = Object.values(s.patternProperties ?? {})[0];
    for (const [k, x] of Object.entries(value)) {
      if (pattern && !Value.Check(pattern, x)) return explain(pattern, x, join(k));
      if (!pattern && (s as { additionalProperties?: unknown }).additionalProperties === false && !Object.hasOwn(s.properties ?? {}, k)) return new ConfigError(join(k), 'unknown key');
    }
  }
  const first = [...Value.Errors(schema, value)][0];
  return new ConfigError(path, first ? first.message : 'invalid value');
}

function describe(schema: TSchema): string {
  const s = schema as SchemaShape;
  const fn = (s.properties?.function as { const?: unknown } | undefined)?.const;
  return fn !== undefined ? `{ function: ${String(fn)} }` : s.type === 'string' ? "a 'type:name' sink id" : (s.type ?? 'a value');
}

export function normalizeRulesConfig(input: RulesConfigInput | unknown = {}): RulesConfig {
  const config = normalize<RulesConfig>(rulesConfigSchema, input, 'rule_engine');
  for (const id of Object.keys(config.rules)) if (!RULE_ID.test(id)) throw new ConfigError(`rule_engine.rules.${id}`, 'a rule id is 1 to 255 letters, digits, _ - . :');
  return config;
}

export function normalizeRule(id: string, input: RuleInput | unknown): RuleConfig {
  if (!RULE_ID.test(id)) throw new ConfigError(`rule_engine.rules.${id}`, 'a rule id is 1 to 255 letters, digits, _ - . :');
  return normalize<RuleConfig>(ruleSchema, input, `rule_engine.rules.${id}`);
}
