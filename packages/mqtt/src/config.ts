import { Bind, Bytes, Duration } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';

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
};

export const tcpListenerSchema = Type.Object(
  { ...common, bind: Bind({ default: '127.0.0.1:1883', description: common.bind.description }) },
  { additionalProperties: false },
);
export type TcpListenerConfig = Static<typeof tcpListenerSchema>;

export const sslOptionsSchema = Type.Object(
  {
    certfile: Type.String({ description: 'PEM server certificate (chain) file.' }),
    keyfile: Type.String({ description: 'PEM private key file.' }),
    cacertfile: Type.Optional(Type.String({ description: 'PEM CA bundle used to verify client certificates.' })),
    verify: Type.Union([Type.Literal('verify_none'), Type.Literal('verify_peer')], { default: 'verify_none', description: 'verify_peer asks clients for a certificate signed by cacertfile.' }),
    fail_if_no_peer_cert: Type.Boolean({ default: false, description: 'With verify_peer: refuse clients without a certificate.' }),
    versions: Type.Array(Type.Union([Type.Literal('tlsv1.2'), Type.Literal('tlsv1.3')]), { default: ['tlsv1.3', 'tlsv1.2'], description: 'TLS versions accepted.' }),
    ciphers: Type.Optional(Type.String({ description: 'OpenSSL cipher list for TLS 1.2.' })),
  },
  { additionalProperties: false },
);
export type SslOptions = Static<typeof sslOptionsSchema>;

export const sslListenerSchema = Type.Object(
  { ...common, bind: Bind({ default: '127.0.0.1:8883', description: common.bind.description }), ssl_options: sslOptionsSchema },
  { additionalProperties: false },
);
export type SslListenerConfig = Static<typeof sslListenerSchema>;
