/**
 * The `gateway.ocpp` config section, in the shape of EMQX's OCPP gateway (`emqx_ocpp_schema`), so
 * that an EMQX config block reads the same here. Keys marked "Junction" are not in EMQX.
 * Durations are milliseconds and sizes bytes once loaded (see the core's `Duration`/`Bytes`).
 */
import { Bind, brokerConfigSchema, Bytes, Duration, RateLimit, type AdapterDescriptor } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';
import { sslOptionsSchema as tlsSslOptionsSchema, type SslOptions as TlsSslOptions } from '@junction/tls';

/** Subprotocols this gateway speaks (OCPP-J 1.6 §3.1.2, OCPP 2.0.1 Part 4 §3.1.2). */
export const SUBPROTOCOLS = ['ocpp1.6', 'ocpp2.0.1'] as const;
export type Subprotocol = (typeof SUBPROTOCOLS)[number];

export const MESSAGE_FORMAT_CHECKING = ['all', 'upstream_only', 'dnstream_only', 'disable'] as const;
export type MessageFormatChecking = (typeof MESSAGE_FORMAT_CHECKING)[number];

export const websocketSchema = Type.Object(
  {
    path: Type.String({ default: '/ocpp', pattern: '^/', description: 'URL path in front of the charge point id: chargers connect to `{path}/{chargePointId}`.' }),
    supported_subprotocols: Type.String({
      default: 'ocpp1.6, ocpp2.0.1',
      description: 'Comma-separated WebSocket subprotocols accepted (`ocpp1.6`, `ocpp2.0.1`). The first one the charger offers that is in this list is chosen.',
    }),
    fail_if_no_subprotocol: Type.Boolean({ default: true, description: 'Refuse a handshake that offers no subprotocol; when false such a charger gets the first supported one.' }),
    max_frame_size: Bytes({ default: '1MB', description: 'Largest WebSocket message accepted; a larger one closes the connection (1009). 0: no limit.' }),
    check_origin_enable: Type.Boolean({ default: false, description: 'Check the Origin header against `check_origins`.' }),
    allow_origin_absence: Type.Boolean({ default: true, description: 'With `check_origin_enable`: accept handshakes without an Origin header.' }),
    check_origins: Type.String({ default: '', description: 'With `check_origin_enable`: comma-separated origins accepted, e.g. `https://ops.example.com`.' }),
  },
  { additionalProperties: false, default: {}, description: 'WebSocket options of this listener.' },
);
export type WebsocketOptions = Static<typeof websocketSchema>;

/** `ssl_options` of a wss listener: EMQX's shape, shared by every TLS listener (@junction/tls). */
export const sslOptionsSchema = {
  ...tlsSslOptionsSchema,
  description: 'TLS settings of a wss listener (OCPP security profiles 2 and 3: verify_peer with cacertfile; OCPP requires TLS 1.2 or later).',
} as typeof tlsSslOptionsSchema;
export type SslOptions = TlsSslOptions;

const listenerCommon = {
  enable: Type.Boolean({ default: true, description: 'Start this listener.' }),
  max_connections: Type.Integer({ default: 1_000_000, minimum: 1, description: 'Chargers connected at once on this listener; further handshakes get HTTP 503.' }),
  enable_authn: Type.Boolean({ default: true, description: 'Run the authentication chain for chargers of this listener; false lets every charger in.' }),
  messages_rate: Type.Optional(
    RateLimit({ description: 'OCPP messages each charger may send per period, e.g. `10/s`, with a burst of one period\'s worth; beyond it the charger\'s connection is not read until the budget refills (nothing is dropped). Absent, `infinity` or 0: no limit.' }),
  ),
  websocket: websocketSchema,
};

export const wsListenerSchema = Type.Object(
  { ...listenerCommon, bind: Bind({ default: '127.0.0.1:33033', description: 'Address to listen on, `host:port`. Loopback only unless opened on purpose.' }) },
  { additionalProperties: false, description: 'An OCPP-J over WebSocket listener.' },
);
export type WsListenerConfig = Static<typeof wsListenerSchema>;

export const wssListenerSchema = Type.Object(
  {
    ...listenerCommon,
    bind: Bind({ default: '127.0.0.1:33034', description: 'Address to listen on, `host:port`. Loopback only unless opened on purpose.' }),
    ssl_options: sslOptionsSchema,
  },
  { additionalProperties: false, description: 'An OCPP-J over WebSocket with TLS listener.' },
);
export type WssListenerConfig = Static<typeof wssListenerSchema>;

export const upstreamSchema = Type.Object(
  {
    topic: Type.String({
      default: 'cp/${cid}',
      description: 'Topic (under the mountpoint) of CALLs from chargers. Placeholders: `${cid}` (= `${clientid}`), `${action}`, `${id}` (the UniqueId).',
    }),
    topic_override_mapping: Type.Record(Type.String(), Type.String({ description: 'Topic template for CALLs of this action.' }), {
      default: {},
      description: 'Per-action topic overrides, e.g. `{ BootNotification: "cp/${cid}/Boot" }`; same placeholders as `topic`.',
    }),
    reply_topic: Type.String({ default: 'cp/${cid}/Reply', description: 'Topic of CALLRESULTs from chargers (answers to back-end CALLs).' }),
    error_topic: Type.String({
      default: 'cp/${cid}/Reply',
      description: 'Topic of CALLERRORs from chargers, and of errors the gateway reports to the back end (timeouts, invalid messages, a full queue).',
    }),
    awaiting_timeout: Duration({
      default: '30s',
      description: 'Junction: how long a charger CALL waits for the back end\'s answer; then the charger gets CALLERROR InternalError.',
    }),
    event_topic: Type.String({
      default: 'cp/${cid}/Connection',
      description: 'Junction: retained topic of connection events (`connected`, `disconnected`, with protocol version and address); empty disables them.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Charger to back end: where the gateway publishes (QoS 2).' },
);

export const dnstreamSchema = Type.Object(
  {
    topic: Type.String({ default: 'cs/${cid}', description: 'Topic each charger is subscribed to (QoS 1): back-end answers and CALLs. Placeholders: `${cid}`, `${clientid}`.' }),
    max_mqueue_len: Type.Integer({ default: 100, minimum: 0, description: 'Back-end CALLs queued per charger while one is outstanding; a CALL beyond it is refused with an error on the error topic.' }),
    awaiting_timeout: Duration({
      default: '30s',
      description: 'Junction: how long a back-end CALL waits for the charger\'s answer; then an error goes to the error topic and the next CALL is sent.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Back end to charger: what the gateway subscribes to for each charger.' },
);

export const ocppConfigSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Run the OCPP gateway.' }),
    mountpoint: Type.String({ default: 'ocpp/', description: 'Prefix of every topic of this gateway; may use `${clientid}` and `${username}`.' }),
    default_heartbeat_interval: Duration({
      default: '60s',
      description: 'Heartbeat interval assumed until the back end accepts a BootNotification with its own `interval`; 0 disables the idle check.',
    }),
    heartbeat_checking_times_backoff: Type.Integer({
      default: 1,
      minimum: 1,
      description: 'A charger silent for this many heartbeat intervals is disconnected.',
    }),
    upstream: upstreamSchema,
    dnstream: dnstreamSchema,
    message_format_checking: Type.Union(
      MESSAGE_FORMAT_CHECKING.map((m) => Type.Literal(m)),
      {
        default: 'all',
        description:
          'Validate messages against the official OCPP JSON schemas: `all`, `upstream_only` (from chargers), `dnstream_only` (from the back end) or `disable`. EMQX defaults to disable.',
      },
    ),
    json_schema_dir: Type.String({
      default: '',
      description:
        'Directory of OCPP 1.6 JSON schema files (`{Action}.json`, `{Action}Response.json`) replacing the built-in ones; empty (or EMQX\'s `${application_priv}/schemas`): the official schemas.',
    }),
    json_schema_id_prefix: Type.String({ default: 'urn:OCPP:1.6:2019:12:', description: 'With `json_schema_dir`: the schema id is this prefix + `{Action}Request` or `{Action}Response`.' }),
    listeners: Type.Object(
      {
        ws: Type.Record(Type.String(), wsListenerSchema, { default: { default: {} }, description: 'OCPP-J over WebSocket listeners, by name.' }),
        wss: Type.Record(Type.String(), wssListenerSchema, { default: {}, description: 'OCPP-J over WebSocket with TLS listeners (security profiles 2 and 3), by name.' }),
      },
      { additionalProperties: false, default: {}, description: 'Where chargers connect.' },
    ),
  },
  { additionalProperties: false, description: 'OCPP-J 1.6 and 2.0.1 gateway: charge points over WebSocket, the back end over MQTT.' },
);

/** `gateway.ocpp`: OCPP-J 1.6 and 2.0.1 charge points over WebSocket, mapped to MQTT topics as EMQX does. */
export const ocppGatewayDescriptor: AdapterDescriptor<typeof ocppConfigSchema> = {
  type: 'gateway.ocpp',
  configSchema: ocppConfigSchema,
  sections: { mqtt: brokerConfigSchema },
};

export type OcppConfig = Static<typeof ocppConfigSchema>;
export type UpstreamConfig = OcppConfig['upstream'];
export type DnstreamConfig = OcppConfig['dnstream'];

const defaultWebsocket: WebsocketOptions = {
  path: '/ocpp',
  supported_subprotocols: 'ocpp1.6, ocpp2.0.1',
  fail_if_no_subprotocol: true,
  max_frame_size: 1024 * 1024,
  check_origin_enable: false,
  allow_origin_absence: true,
  check_origins: '',
};

/** A ws listener's defaults, in parsed form. */
export function wsListenerDefaults(): WsListenerConfig {
  return { enable: true, bind: { host: '127.0.0.1', port: 33033 }, max_connections: 1_000_000, enable_authn: true, websocket: { ...defaultWebsocket } };
}

/** The defaults in parsed form (milliseconds, bytes, `{ host, port }`). */
export const defaultOcppConfig: OcppConfig = {
  enable: true,
  mountpoint: 'ocpp/',
  default_heartbeat_interval: 60_000,
  heartbeat_checking_times_backoff: 1,
  upstream: {
    topic: 'cp/${cid}',
    topic_override_mapping: {},
    reply_topic: 'cp/${cid}/Reply',
    error_topic: 'cp/${cid}/Reply',
    awaiting_timeout: 30_000,
    event_topic: 'cp/${cid}/Connection',
  },
  dnstream: { topic: 'cs/${cid}', max_mqueue_len: 100, awaiting_timeout: 30_000 },
  message_format_checking: 'all',
  json_schema_dir: '',
  json_schema_id_prefix: 'urn:OCPP:1.6:2019:12:',
  listeners: { ws: { default: wsListenerDefaults() }, wss: {} },
};

/** Input of `resolveOcppConfig`: any subset, listeners as partial entries. */
export interface OcppConfigInput extends Partial<Omit<OcppConfig, 'upstream' | 'dnstream' | 'listeners'>> {
  upstream?: Partial<UpstreamConfig>;
  dnstream?: Partial<DnstreamConfig>;
  listeners?: {
    ws?: Record<string, Partial<Omit<WsListenerConfig, 'websocket'>> & { websocket?: Partial<WebsocketOptions> }>;
    wss?: Record<string, Partial<Omit<WssListenerConfig, 'websocket' | 'ssl_options'>> & { websocket?: Partial<WebsocketOptions>; ssl_options: Partial<SslOptions> & Pick<SslOptions, 'certfile' | 'keyfile'> }>;
  };
}

/**
 * A complete config from a partial one in parsed form, for services that embed the gateway
 * without the `junction` config loader. Listener entries are completed with their defaults;
 * without `listeners`, one ws listener `default` on 127.0.0.1:33033.
 */
export function resolveOcppConfig(input: OcppConfigInput = {}): OcppConfig {
  const listeners: OcppConfig['listeners'] = { ws: {}, wss: {} };
  const given = input.listeners ?? { ws: { default: {} } };
  for (const [name, l] of Object.entries(given.ws ?? {})) {
    const d = wsListenerDefaults();
    listeners.ws[name] = { ...d, ...l, websocket: { ...d.websocket, ...l.websocket } };
  }
  for (const [name, l] of Object.entries(given.wss ?? {})) {
    const d = wsListenerDefaults();
    listeners.wss[name] = {
      ...d,
      bind: { host: '127.0.0.1', port: 33034 },
      ...l,
      websocket: { ...d.websocket, ...l.websocket },
      ssl_options: { verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3', 'tlsv1.2'], ...l.ssl_options },
    };
  }
  return {
    ...defaultOcppConfig,
    ...input,
    upstream: { ...defaultOcppConfig.upstream, ...input.upstream },
    dnstream: { ...defaultOcppConfig.dnstream, ...input.dnstream },
    listeners,
  };
}
