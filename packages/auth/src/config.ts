/**
 * The configuration, in EMQX's shape: an `authentication` list (the chain, in order), an
 * `authorization` object (`no_match`, `deny_action`, `cache`, `sources`), `banned` and
 * `flapping_detect`. Every key has a default and a description; durations take EMQX's human
 * form (`5s`, `1m`) and are held in milliseconds.
 */
import { Duration } from '@junction/broker-core';
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const enable = () => Type.Boolean({ default: true, description: 'Use this entry; false keeps it in the file but out of the chain.' });

// ------------------------------------------------------------------ password hashes

const simpleHash = Type.Object(
  {
    name: Type.Union([Type.Literal('plain'), Type.Literal('md5'), Type.Literal('sha'), Type.Literal('sha256'), Type.Literal('sha512')], { description: 'Hash function: the lower-case hex digest of the salted password (`plain` stores it as is).' }),
    salt_position: Type.Union([Type.Literal('disable'), Type.Literal('prefix'), Type.Literal('suffix')], { default: 'prefix', description: 'Where the salt goes: before the password (`prefix`), after it (`suffix`), or no salt (`disable`).' }),
  },
  { additionalProperties: false },
);
const bcryptHash = Type.Object(
  {
    name: Type.Literal('bcrypt', { description: 'bcrypt; the stored hash is the whole `$2b$...` string.' }),
    salt_rounds: Type.Integer({ default: 10, minimum: 5, maximum: 10, description: 'Work factor (log2 of rounds) for new passwords.' }),
  },
  { additionalProperties: false },
);
const pbkdf2Hash = Type.Object(
  {
    name: Type.Literal('pbkdf2', { description: 'PBKDF2; the stored hash is the hex derived key.' }),
    mac_fun: Type.Union([Type.Literal('md4'), Type.Literal('md5'), Type.Literal('ripemd160'), Type.Literal('sha'), Type.Literal('sha224'), Type.Literal('sha256'), Type.Literal('sha384'), Type.Literal('sha512')], { description: 'HMAC hash function of PBKDF2 (`sha` is SHA-1).' }),
    iterations: Type.Integer({ minimum: 1, description: 'Iteration count.' }),
    dk_length: Type.Optional(Type.Integer({ minimum: 1, description: 'Derived key length in bytes; default: the digest length of mac_fun.' })),
  },
  { additionalProperties: false },
);
export const passwordHashSchema = Type.Union([bcryptHash, pbkdf2Hash, simpleHash], {
  default: { name: 'sha256', salt_position: 'prefix' },
  description: 'How passwords are hashed: { name: plain|md5|sha|sha256|sha512, salt_position }, { name: bcrypt, salt_rounds }, or { name: pbkdf2, mac_fun, iterations, dk_length }.',
});

// ------------------------------------------------------------------ shared connection blocks

const redisFields = {
  redis_type: Type.Union([Type.Literal('single'), Type.Literal('sentinel'), Type.Literal('cluster')], { default: 'single', description: 'Redis deployment: one server, sentinel, or cluster.' }),
  server: Type.String({ default: '127.0.0.1:6379', description: 'Redis `host:port` (single).' }),
  servers: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'Sentinel or cluster nodes: `host:port` list, or one comma-separated string.' })),
  sentinel: Type.Optional(Type.String({ description: 'Master name (sentinel).' })),
  database: Type.Integer({ default: 0, minimum: 0, description: 'Database number (not for cluster).' }),
  username: Type.Optional(Type.String({ description: 'Redis ACL user name.' })),
  password: Type.Optional(Type.String({ description: 'Redis password. Never logged.' })),
  request_timeout: Duration({ default: '5s', description: 'Junction: how long one Redis command may take before the step gives up (failure, see on_failure).' }),
};

const httpFields = (defaultTimeout: string) => ({
  method: Type.Union([Type.Literal('get'), Type.Literal('post')], { default: 'post', description: 'HTTP method; with `get` the body fields go into the query string.' }),
  url: Type.String({ description: 'Request URL; path and query may hold placeholders (URL-encoded when rendered).' }),
  headers: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Request headers; values may hold placeholders. POST defaults to content-type application/json.' }),
  body: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Request body fields; string values may hold placeholders. JSON, or form-encoded when content-type says so.' })),
  request_timeout: Duration({ default: defaultTimeout, description: 'Time allowed for the whole request.' }),
  connect_timeout: Duration({ default: '15s', description: 'Accepted for EMQX compatibility; the request timeout bounds the connection too.' }),
  on_failure: Type.Union([Type.Literal('ignore'), Type.Literal('deny')], { default: 'ignore', description: 'Junction: when the server cannot be reached, times out or answers garbage: `ignore` (EMQX: ask the next step) or `deny`.' }),
});

// ------------------------------------------------------------------ authenticators

export const builtInDatabaseAuthnSchema = Type.Object(
  {
    mechanism: Type.Literal('password_based', { description: 'Password-based authentication.' }),
    backend: Type.Literal('built_in_database', { description: 'Users kept by Junction.' }),
    enable: enable(),
    user_id_type: Type.Union([Type.Literal('username'), Type.Literal('clientid')], { default: 'username', description: 'Which CONNECT field is the user id.' }),
    password_hash_algorithm: passwordHashSchema,
    bootstrap_file: Type.Optional(Type.String({ description: 'Users to import at start: a .csv or .json file in EMQX\'s bootstrap format.' })),
    bootstrap_type: Type.Union([Type.Literal('plain'), Type.Literal('hash')], { default: 'plain', description: '`plain`: rows hold user_id,password,is_superuser; `hash`: user_id,password_hash,salt,is_superuser.' }),
  },
  { additionalProperties: false, description: 'Users kept by Junction (API and bootstrap file).' },
);

export const redisAuthnSchema = Type.Object(
  {
    mechanism: Type.Literal('password_based', { description: 'Password-based authentication.' }),
    backend: Type.Literal('redis', { description: 'Users in Redis.' }),
    enable: enable(),
    ...redisFields,
    cmd: Type.String({ description: 'HGET or HMGET with a key template and fields among password_hash (or password), salt, is_superuser, e.g. `HMGET mqtt_user:${username} password_hash salt is_superuser`.' }),
    password_hash_algorithm: passwordHashSchema,
    on_failure: Type.Union([Type.Literal('ignore'), Type.Literal('deny')], { default: 'ignore', description: 'Junction: when Redis fails or times out: `ignore` (EMQX) or `deny`.' }),
  },
  { additionalProperties: false, description: 'Users in Redis hashes.' },
);

export const httpAuthnSchema = Type.Object(
  {
    mechanism: Type.Literal('password_based', { description: 'Password-based authentication.' }),
    backend: Type.Literal('http', { description: 'An HTTP service decides.' }),
    enable: enable(),
    ...httpFields('5s'),
  },
  { additionalProperties: false, description: 'An HTTP service decides; it answers 200 with {"result": "allow"|"deny"|"ignore", "is_superuser", "acl", "client_attrs", "expire_at"} or 204 (allow).' },
);

export const jwtAuthnSchema = Type.Object(
  {
    mechanism: Type.Literal('jwt', { description: 'JSON Web Token authentication.' }),
    enable: enable(),
    from: Type.Union([Type.Literal('password'), Type.Literal('username')], { default: 'password', description: 'Which CONNECT field carries the token.' }),
    use_jwks: Type.Boolean({ default: false, description: 'Fetch the keys from a JWKS endpoint.' }),
    algorithm: Type.Union([Type.Literal('hmac-based'), Type.Literal('public-key')], { default: 'hmac-based', description: 'Without JWKS: an HMAC secret (HS256/384/512) or a public key (RS*, PS*, ES*, EdDSA).' }),
    secret: Type.Optional(Type.String({ description: 'HMAC secret (hmac-based). Never logged.' })),
    secret_base64_encoded: Type.Boolean({ default: false, description: 'The secret is base64.' }),
    public_key: Type.Optional(Type.String({ description: 'PEM public key or certificate, or a path to one (public-key).' })),
    endpoint: Type.Optional(Type.String({ description: 'JWKS URL (use_jwks).' })),
    refresh_interval: Type.Integer({ default: 300, minimum: 1, description: 'Seconds between JWKS refreshes (an unknown `kid` also triggers one).' }),
    verify_claims: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Claims that must be present and equal; values may use ${clientid} and ${username}.' }),
    acl_claim_name: Type.String({ default: 'acl', description: 'Claim holding the client\'s ACL (list of rules, or {pub, sub, all}).' }),
    disconnect_after_expire: Type.Boolean({ default: true, description: 'Disconnect the client when the token\'s exp passes.' }),
  },
  { additionalProperties: false, description: 'JSON Web Tokens.' },
);

export const scramAuthnSchema = Type.Object(
  {
    mechanism: Type.Literal('scram', { description: 'SCRAM enhanced authentication (MQTT 5).' }),
    backend: Type.Literal('built_in_database', { description: 'SCRAM credentials of the built-in users.' }),
    enable: enable(),
    algorithm: Type.Union([Type.Literal('sha256'), Type.Literal('sha512')], { default: 'sha256', description: 'SCRAM-SHA-256 or SCRAM-SHA-512 (the MQTT 5 Authentication Method).' }),
    iteration_count: Type.Integer({ default: 4096, minimum: 1, description: 'PBKDF2 iterations of the stored SCRAM credentials.' }),
  },
  { additionalProperties: false, description: 'MQTT 5 enhanced authentication with SCRAM on the built-in users.' },
);

export const x509AuthnSchema = Type.Object(
  {
    mechanism: Type.Literal('x509', { description: 'Client certificate identity.' }),
    enable: enable(),
    username_from: Type.Union([Type.Literal('cn'), Type.Literal('dn'), Type.Literal('san')], { default: 'cn', description: 'Which part of the verified client certificate is the identity: common name, subject DN, or first subject alternative name.' }),
    check_username: Type.Boolean({ default: true, description: 'When the client sends a user name, it must equal the certificate identity.' }),
  },
  { additionalProperties: false, description: 'Junction: a verified TLS client certificate (listener with verify_peer) authenticates the client.' },
);

export const authenticatorSchema = Type.Union([builtInDatabaseAuthnSchema, redisAuthnSchema, httpAuthnSchema, jwtAuthnSchema, scramAuthnSchema, x509AuthnSchema]);

export const authenticationSchema = Type.Array(authenticatorSchema, {
  default: [],
  description: 'The authentication chain, in order. Each step allows, denies or ignores; when every step ignores, the client is refused. Empty: no authentication (the broker\'s allow_anonymous decides).',
});

// ------------------------------------------------------------------ authorization sources

export const fileSourceSchema = Type.Object(
  {
    type: Type.Literal('file', { description: 'Rules in acl.conf syntax.' }),
    enable: enable(),
    path: Type.Optional(Type.String({ description: 'acl.conf file in EMQX\'s rule syntax.' })),
    rules: Type.Optional(Type.String({ description: 'The rules as text instead of a path. With neither, EMQX\'s default acl.conf.' })),
  },
  { additionalProperties: false },
);

export const builtInDatabaseSourceSchema = Type.Object(
  {
    type: Type.Literal('built_in_database', { description: 'Rules managed by API.' }),
    enable: enable(),
    max_rules: Type.Integer({ default: 100, minimum: 1, description: 'Most rules per client id, user name, or the `all` list.' }),
  },
  { additionalProperties: false },
);

export const redisSourceSchema = Type.Object(
  {
    type: Type.Literal('redis', { description: 'Rules in Redis hashes.' }),
    enable: enable(),
    ...redisFields,
    cmd: Type.String({ description: 'HGETALL (or HMGET) returning topic => action pairs, e.g. `HGETALL mqtt_acl:${username}`.' }),
    on_failure: Type.Union([Type.Literal('ignore'), Type.Literal('deny')], { default: 'ignore', description: 'Junction: when Redis fails: `ignore` (EMQX: no match) or `deny`.' }),
  },
  { additionalProperties: false },
);

export const httpSourceSchema = Type.Object(
  {
    type: Type.Literal('http', { description: 'An HTTP service decides.' }),
    enable: enable(),
    ...httpFields('30s'),
  },
  { additionalProperties: false },
);

export const authzSourceSchema = Type.Union([fileSourceSchema, builtInDatabaseSourceSchema, redisSourceSchema, httpSourceSchema]);

export const authorizationSchema = Type.Object(
  {
    no_match: Type.Union([Type.Literal('allow'), Type.Literal('deny')], { default: 'allow', description: 'Verdict when no source has a matching rule.' }),
    deny_action: Type.Union([Type.Literal('ignore'), Type.Literal('disconnect')], { default: 'ignore', description: 'After a denied publish or subscribe: refuse only that (`ignore`) or also disconnect the client.' }),
    cache: Type.Object(
      {
        enable: Type.Boolean({ default: true, description: 'Cache verdicts per client.' }),
        max_size: Type.Integer({ default: 32, minimum: 1, description: 'Verdicts kept per client.' }),
        ttl: Duration({ default: '1m', description: 'How long a verdict is kept.' }),
        excludes: Type.Array(Type.String(), { default: [], description: 'Topic filters never cached.' }),
      },
      { additionalProperties: false, default: {}, description: 'Per-client verdict cache.' },
    ),
    sources: Type.Array(authzSourceSchema, {
      default: [{ type: 'file', enable: true }],
      description: 'Authorization sources, in order (after the ACL a client\'s JWT or HTTP authentication carried). Default: the file source with EMQX\'s default acl.conf.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Authorization: who may publish and subscribe to what.' },
);

// ------------------------------------------------------------------ banned and flapping

export const bannedSchema = Type.Object(
  {
    bootstrap_file: Type.Optional(Type.String({ description: 'CSV of bans loaded at start: as,who,reason,at,until,by (at/until RFC 3339 or `infinity`).' })),
  },
  { additionalProperties: false, default: {}, description: 'Banned clients.' },
);

export const flappingDetectSchema = Type.Object(
  {
    enable: Type.Boolean({ default: false, description: 'Ban clients that disconnect too often.' }),
    max_count: Type.Integer({ default: 15, minimum: 1, description: 'Disconnects within window_time that trigger a ban.' }),
    window_time: Duration({ default: '1m', description: 'The counting window.' }),
    ban_time: Duration({ default: '5m', description: 'How long the client id stays banned.' }),
  },
  { additionalProperties: false, default: {}, description: 'Flapping detection.' },
);

export const authConfigSchema = Type.Object(
  {
    authentication: authenticationSchema,
    authorization: authorizationSchema,
    banned: bannedSchema,
    flapping_detect: flappingDetectSchema,
  },
  { additionalProperties: false },
);

export type AuthConfig = Static<typeof authConfigSchema>;
export type AuthenticatorConfig = Static<typeof authenticatorSchema>;
export type BuiltInDatabaseAuthnConfig = Static<typeof builtInDatabaseAuthnSchema>;
export type RedisAuthnConfig = Static<typeof redisAuthnSchema>;
export type HttpAuthnConfig = Static<typeof httpAuthnSchema>;
export type JwtAuthnConfig = Static<typeof jwtAuthnSchema>;
export type ScramAuthnConfig = Static<typeof scramAuthnSchema>;
export type X509AuthnConfig = Static<typeof x509AuthnSchema>;
export type AuthorizationConfig = Static<typeof authorizationSchema>;
export type AuthzSourceConfig = Static<typeof authzSourceSchema>;
export type FileSourceConfig = Static<typeof fileSourceSchema>;
export type RedisSourceConfig = Static<typeof redisSourceSchema>;
export type HttpSourceConfig = Static<typeof httpSourceSchema>;
export type BannedConfig = Static<typeof bannedSchema>;
export type FlappingDetectConfig = Static<typeof flappingDetectSchema>;
export type RedisConnectionConfig = Pick<RedisAuthnConfig, 'redis_type' | 'server' | 'servers' | 'sentinel' | 'database' | 'username' | 'password' | 'request_timeout'>;
export type HttpRequestConfig = Pick<HttpAuthnConfig, 'method' | 'url' | 'headers' | 'body' | 'request_timeout' | 'on_failure'>;

/** The config sections this plugin reads, by top-level key (for the gateway's registry). */
export const authSections: Readonly<Record<'authentication' | 'authorization' | 'banned' | 'flapping_detect', TSchema>> = {
  authentication: authenticationSchema,
  authorization: authorizationSchema,
  banned: bannedSchema,
  flapping_detect: flappingDetectSchema,
};

/** What `installAuth` accepts: any part of the config, in human or parsed form. */
export type AuthConfigInput = {
  authentication?: readonly Record<string, unknown>[];
  authorization?: Record<string, unknown>;
  banned?: Record<string, unknown>;
  flapping_detect?: Record<string, unknown>;
};
