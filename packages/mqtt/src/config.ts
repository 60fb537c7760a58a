import { Bind, Bytes, Duration, RateLimit } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';
import { sslOptionsSchema, type SslOptions } from '@junction/tls';

/** EMQX's `peer_cert_as_username` / `peer_cert_as_clientid` (`san`: Junction). */
function PeerCertAs(what: string) {
  return Type.Union([Type.Literal('disabled'), Type.Literal('cn'), Type.Literal('dn'), Type.Literal('san'), Type.Literal('md5')], {
    default: 'disabled',
    description: `TLS listeners: take the ${what} from the verified client certificate instead of CONNECT: \`cn\` (common name), \`dn\` (subject DN), \`san\` (first DNS, email or URI subject alternative name), \`md5\` (hex MD5 of the DER certificate).`,
  });
}

/** Wire-level MQTT settings (EMQX's `mqtt` section, the protocol half). */
export const mqttOptionsSchema = Type.Object(
  {
    max_packet_size: Bytes({ default: '1MB', description: 'Largest MQTT packet accepted; larger ones end the connection (MQTT 5: DISCONNECT 0x95).' }),
    max_clientid_len: Type.Integer({ default: 65535, minimum: 23, maximum: 65535, description: 'Longest client identifier accepted.' }),
    max_topic_alias: Type.Integer({ default: 65535, minimum: 0, maximum: 65535, description: 'Topic Alias Maximum announced to MQTT 5 clients; 0 disables inbound aliases.' }),
    max_qos_allowed: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 2, description: 'Maximum QoS a client may publish with.' }),
    server_keepalive: Type.Integer({ default: 0, minimum: 0, maximum: 65535, description: 'When non-zero, overrides the keepalive of MQTT 5 clients (Server Keep Alive).' }),
    idle_timeout: Duration({ default: '15s', description: 'Close connections that send no CONNECT within this time.' }),
    send_timeout: Duration({ default: '15s', description: 'Close a connection whose socket stays full this long (a frozen subscriber never stalls others).' }),
    response_information: Type.String({ default: '', description: 'MQTT 5 Response Information returned when a client requests it (empty: none).' }),
    peer_cert_as_username: Type.Optional(PeerCertAs('user name')),
    peer_cert_as_clientid: Type.Optional(PeerCertAs('client identifier')),
  },
  { additionalProperties: false },
);
export type MqttOptions = Static<typeof mqttOptionsSchema>;

export const defaultMqttOptions: MqttOptions = {
  max_packet_size: 1024 * 1024,
  max_clientid_len: 65535,
  max_topic_alias: 65535,
  max_qos_allowed: 2,
  server_keepalive: 0,
  idle_timeout: 15_000,
  send_timeout: 15_000,
  response_information: '',
};

const common = {
  enable: Type.Boolean({ default: true, description: 'Start this listener.' }),
  bind: Bind({ description: 'Address to listen on, `host:port`. Loopback only unless you open it on purpose.' }),
  max_connections: Type.Integer({ default: 1_000_000, minimum: 1, description: 'Connections accepted at once on this listener.' }),
  mountpoint: Type.String({ default: '', description: 'Prefix added to every topic of this listener\'s clients; may use ${clientid} and ${username}.' }),
  ...listenerLimits(),
};

/**
 * EMQX's listener limiters, shared by every MQTT listener type (tcp, ssl, ws, wss). Over
 * `max_conn_rate`, new connections wait unread; over `messages_rate` or `bytes_rate`, the
 * client's socket is not read until its budget refills (back-pressure, nothing is dropped).
 */
export function listenerLimits() {
  return {
    max_conn_rate: Type.Optional(RateLimit({ description: 'New connections accepted per period on this listener, e.g. `1000/s`; more wait, unread, until the rate allows them (at most 511 wait; more are closed). Absent, `infinity` or 0: no limit.' })),
    messages_rate: Type.Optional(RateLimit({ description: 'PUBLISH packets each client may send per period, e.g. `1000/s`, with a burst of one period\'s worth; beyond it the client\'s connection is not read until the budget refills. Absent, `infinity` or 0: no limit.' })),
    bytes_rate: Type.Optional(RateLimit({ description: 'Bytes each client may send per period, e.g. `1MB/s` (1KB = 1024 bytes), with a burst of one period\'s worth; beyond it the client\'s connection is not read until the budget refills. Absent, `infinity` or 0: no limit.' })),
  };
}

export const tcpListenerSchema = Type.Object(
  { ...common, bind: Bind({ default: '127.0.0.1:1883', description: common.bind.description }) },
  { additionalProperties: false },
);
export type TcpListenerConfig = Static<typeof tcpListenerSchema>;

/** `ssl_options`: EMQX's shape, shared by every TLS listener (see @junction/tls). */
export { sslOptionsSchema, type SslOptions };

export const sslListenerSchema = Type.Object(
  { ...common, bind: Bind({ default: '127.0.0.1:8883', description: common.bind.description }), ssl_options: sslOptionsSchema },
  { additionalProperties: false },
);
export type SslListenerConfig = Static<typeof sslListenerSchema>;
