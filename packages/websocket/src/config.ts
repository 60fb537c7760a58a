/**
 * Configuration of MQTT over WebSocket listeners, in EMQX's shape:
 * `listeners.ws.<name>.{enable, bind, max_connections, mountpoint, websocket: {...}}` and
 * `listeners.wss.<name>.{..., ssl_options: {...}}`.
 */
import { Bind, Bytes } from '@junction/broker-core';
import { listenerLimits, sslOptionsSchema } from '@junction/mqtt';
import { Type, type Static } from '@sinclair/typebox';

/** The subprotocols EMQX accepts, plus the names MQTT.js and the MQTT specification use. */
export const DEFAULT_SUBPROTOCOLS = 'mqtt, mqtt-v3, mqtt-v3.1.1, mqtt-v5, mqttv3.1, mqttv5';

/** `listeners.ws.<name>.websocket`: how the WebSocket side behaves. */
export const websocketOptionsSchema = Type.Object(
  {
    mqtt_path: Type.String({
      default: '/mqtt',
      pattern: '^/',
      description: 'HTTP path of the WebSocket endpoint; other paths get 404.',
    }),
    mqtt_piggyback: Type.Union([Type.Literal('multiple'), Type.Literal('single')], {
      default: 'multiple',
      description: '`multiple`: MQTT packets written together leave in one WebSocket frame; `single`: one frame per MQTT packet (for clients that cannot reassemble).',
    }),
    compress: Type.Boolean({
      default: false,
      description: 'Offer permessage-deflate compression (RFC 7692) to clients that ask for it. Costs CPU and memory per connection.',
    }),
    max_frame_size: Bytes({
      default: 0,
      description: 'Largest WebSocket message accepted; larger ones close the connection with 1009. 0: twice mqtt.max_packet_size, and at least 64KB, so a frame can hold a maximal packet and more, yet never makes the listener buffer an unbounded message.',
    }),
    fail_if_no_subprotocol: Type.Boolean({
      default: true,
      description: 'Refuse (HTTP 400) a handshake that offers no Sec-WebSocket-Protocol. A handshake offering only unsupported subprotocols is always refused.',
    }),
    supported_subprotocols: Type.String({
      default: DEFAULT_SUBPROTOCOLS,
      description: 'Comma-separated subprotocols accepted; the first one the client offers that is in this list is selected.',
    }),
    check_origin_enable: Type.Boolean({
      default: false,
      description: 'Check the Origin header against check_origins; a handshake from another origin is refused with HTTP 403.',
    }),
    allow_origin_absence: Type.Boolean({
      default: true,
      description: 'With check_origin_enable: accept a handshake without an Origin header (non-browser clients send none).',
    }),
    check_origins: Type.Array(Type.String(), {
      default: [],
      description: 'Origins allowed when check_origin_enable is true, written as browsers send them, e.g. `https://app.example.com`.',
    }),
    proxy_address_header: Type.String({
      default: 'x-forwarded-for',
      description: 'Request header carrying the client address set by a reverse proxy (X-Real-IP is read when it is absent); honoured only from trusted_proxies. Empty: never read.',
    }),
    proxy_port_header: Type.String({
      default: 'x-forwarded-port',
      description: 'Request header carrying the client port set by a reverse proxy; honoured only from trusted_proxies. Empty: never read.',
    }),
    trusted_proxies: Type.Array(Type.String(), {
      default: [],
      description: 'Addresses or CIDR ranges of reverse proxies (e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`) whose proxy headers are believed. Empty: proxy headers are ignored and the peer is the TCP peer.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'WebSocket options.' },
);
export type WebsocketOptions = Static<typeof websocketOptionsSchema>;

export const defaultWebsocketOptions: WebsocketOptions = {
  mqtt_path: '/mqtt',
  mqtt_piggyback: 'multiple',
  compress: false,
  max_frame_size: 0,
  fail_if_no_subprotocol: true,
  supported_subprotocols: DEFAULT_SUBPROTOCOLS,
  check_origin_enable: false,
  allow_origin_absence: true,
  check_origins: [],
  proxy_address_header: 'x-forwarded-for',
  proxy_port_header: 'x-forwarded-port',
  trusted_proxies: [],
};

const enable = Type.Boolean({ default: true, description: 'Start this listener.' });
const bindDescription = 'Address to listen on, `host:port`. Loopback only unless you open it on purpose.';
const maxConnections = Type.Integer({
  default: 1_000_000,
  minimum: 1,
  description: 'Connections this listener holds at once; further ones are closed on arrival (through a shared HTTP server, the upgrade handler answers HTTP 503).',
});
const mountpoint = Type.String({ default: '', description: "Prefix added to every topic of this listener's clients; may use ${clientid} and ${username}." });

export const wsListenerSchema = Type.Object(
  {
    enable,
    bind: Bind({ default: '127.0.0.1:8083', description: bindDescription }),
    max_connections: maxConnections,
    mountpoint,
    ...listenerLimits(),
    websocket: websocketOptionsSchema,
  },
  { additionalProperties: false },
);
export type WsListenerConfig = Static<typeof wsListenerSchema>;

/** The mqtt ssl listener's `ssl_options`, with a description of its own here. */
const sslOptions = {
  ...sslOptionsSchema,
  description: 'TLS settings, as for `listeners.ssl`: server certificate and key, and client certificate verification.',
} as typeof sslOptionsSchema;

export const wssListenerSchema = Type.Object(
  {
    enable,
    bind: Bind({ default: '127.0.0.1:8084', description: bindDescription }),
    max_connections: maxConnections,
    mountpoint,
    ...listenerLimits(),
    websocket: websocketOptionsSchema,
    ssl_options: sslOptions,
  },
  { additionalProperties: false },
);
export type WssListenerConfig = Static<typeof wssListenerSchema>;
