/**
 * The management plane's configuration, in EMQX's shape: `dashboard` (the HTTP listener, the
 * first admin user, tokens, login limits), `prometheus` (whether scraping needs credentials) and
 * `api_key` (keys created from a bootstrap file). Every key has a default and a description;
 * durations take EMQX's human form (`60m`) and are held in milliseconds, the bind address in
 * `{ host, port }`.
 */
import { Bind, ConfigError, Duration, formatOf, parseHuman } from '@junction/broker-core';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const dashboardSchema = Type.Object(
  {
    listeners: Type.Object(
      {
        http: Type.Object(
          {
            enable: Type.Boolean({ default: true, description: 'Serve the REST API (and the dashboard files) over HTTP; false: the gateway does not start the admin server.' }),
            bind: Bind({ default: '127.0.0.1:18083', description: 'Address of the HTTP listener. Loopback by default: opening it to the network must be written out (`0.0.0.0:18083`), preferably behind a TLS proxy.' }),
          },
          { additionalProperties: false, default: {}, description: 'The HTTP listener of the REST API and dashboard.' },
        ),
      },
      { additionalProperties: false, default: {}, description: 'Listeners of the REST API and dashboard.' },
    ),
    default_username: Type.String({ default: 'admin', minLength: 1, description: 'Name of the administrator created on the first start, when no dashboard user exists yet.' }),
    default_password: Type.Optional(
      Type.String({
        minLength: 8,
        description:
          'Password of that first administrator. There is no default: without this key or the environment variable `JUNCTION_DASHBOARD__DEFAULT_PASSWORD`, a random password is generated and logged once (event `admin_password_created`). Used only on the first start; never logged.',
      }),
    ),
    token_expired_time: Duration({ default: '60m', description: 'Lifetime of a login token.' }),
    unsuccessful_login_max_attempts: Type.Integer({ default: 5, minimum: 1, description: 'Failed logins of one user name from one address within `unsuccessful_login_interval` that lock further attempts.' }),
    unsuccessful_login_interval: Duration({ default: '5m', description: 'Window in which failed logins are counted.' }),
    unsuccessful_login_lock_duration: Duration({ default: '10m', description: 'How long a user name is locked for the address after too many failed logins (HTTP 429).' }),
    unsuccessful_login_delay: Duration({ default: '500ms', description: 'Junction: each failed login is answered only after this delay, to slow password guessing.' }),
    audit_max_entries: Type.Integer({ default: 1000, minimum: 0, description: 'Junction: audit entries kept in memory for `GET /api/v5/audit` (every write is also logged as `admin_audit`).' }),
    static_dir: Type.Optional(Type.String({ description: 'Junction: directory of the built dashboard (apps/dashboard), served at `/` without credentials. Unset: the gateway serves apps/dashboard/dist when it has been built; an embedding application passes `staticDir` or nothing is served.' })),
  },
  { additionalProperties: false, default: {}, description: 'The REST API and dashboard (EMQX `dashboard`).' },
);

export const prometheusSchema = Type.Object(
  {
    enable_basic_auth: Type.Boolean({
      default: true,
      description: 'Require credentials (an API key as HTTP Basic, or a login token) to scrape `/api/v5/prometheus/stats`. EMQX 5 before 6.3 defaulted to false; Junction, like EMQX 6.3, defaults to true.',
    }),
    process_metrics: Type.Boolean({ default: true, description: 'Junction: also export the Node.js process metrics of prom-client (CPU, memory, event loop lag, handles).' }),
  },
  { additionalProperties: false, default: {}, description: 'Prometheus pull endpoint (EMQX `prometheus`).' },
);

export const apiKeySchema = Type.Object(
  {
    bootstrap_file: Type.Optional(
      Type.String({ description: 'File of API keys to create at start, one per line: `api_key:api_secret[:role]`, role `administrator` (default) or `viewer`. Lines starting with # are ignored.' }),
    ),
  },
  { additionalProperties: false, default: {}, description: 'API keys for scripts (EMQX `api_key`).' },
);

/** The sections this package reads, by config path, for the gateway's schema. */
export const adminSections: Readonly<Record<'dashboard' | 'prometheus' | 'api_key', TSchema>> = {
  dashboard: dashboardSchema,
  prometheus: prometheusSchema,
  api_key: apiKeySchema,
};

export const adminConfigSchema = Type.Object(
  { dashboard: dashboardSchema, prometheus: prometheusSchema, api_key: apiKeySchema },
  { additionalProperties: false, default: {} },
);

export type DashboardConfig = Static<typeof dashboardSchema>;
export type PrometheusConfig = Static<typeof prometheusSchema>;
export type ApiKeyConfig = Static<typeof apiKeySchema>;
export type AdminConfig = Static<typeof adminConfigSchema>;

/** What `createAdminServer` accepts: any part of the sections, in human (`60m`) or parsed form. */
export interface AdminConfigInput {
  dashboard?: Record<string, unknown>;
  prometheus?: Record<string, unknown>;
  api_key?: Record<string, unknown>;
}

type SchemaRecord = TSchema & { type?: string; properties?: Record<string, TSchema>; default?: unknown; required?: string[]; additionalProperties?: boolean };

/** Fill defaults, parse human values and validate; a problem is a `ConfigError` naming the key. */
export function normalizeAdminConfig(input: AdminConfigInput = {}): AdminConfig {
  const filled = fill(adminConfigSchema, input, '');
  if (!Value.Check(adminConfigSchema, filled)) throw explain(adminConfigSchema, filled, '');
  return filled as AdminConfig;
}

function fill(schema: TSchema, value: unknown, path: string): unknown {
  const s = schema as SchemaRecord;
  const format = formatOf(schema);
  if (format) {
    const v = value === undefined ? s.default : value;
    if (typeof v !== 'string' && typeof v !== 'number') return v;
    try {
      return parseHuman(format, v);
    } catch (err) {
      throw new ConfigError(path, (err as Error).message);
    }
  }
  const v = value === undefined && s.default !== undefined ? structuredClone(s.default) : value;
  if (s.type !== 'object' || !isRecord(v)) return v;
  const out: Record<string, unknown> = { ...v };
  for (const [key, inner] of Object.entries(s.properties ?? {})) {
    const f = fill(inner, out[key], path ? `${path}.${key}` : key);
    if (f !== undefined) out[key] = f;
  }
  return out;
}

function explain(schema: TSchema, value: unknown, path: string): ConfigError {
  const s = schema as SchemaRecord;
  if (s.type === 'object' && isRecord(value)) {
    for (const [key, inner] of Object.entries(s.properties ?? {})) {
      const at = path ? `${path}.${key}` : key;
      if (value[key] === undefined) {
        if (s.required?.includes(key)) return new ConfigError(at, 'is required');
      } else if (!Value.Check(inner, value[key])) return explain(inner, value[key], at);
    }
    const unknown = s.additionalProperties === false ? Object.keys(value).find((k) => !Object.hasOwn(s.properties ?? {}, k)) : undefined;
    if (unknown !== undefined) return new ConfigError(path ? `${path}.${unknown}` : unknown, 'unknown key');
  }
  const first = [...Value.Errors(schema, value)][0];
  return new ConfigError(path, first ? first.message : 'invalid value');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
