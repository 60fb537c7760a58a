/**
 * The `gateway.coap` section, in the shape of EMQX's CoAP gateway configuration (every EMQX key
 * the gateway implements keeps its name and default), plus Junction's limits on observations and
 * the CoAP transmission parameters of RFC 7252 §4.8.
 */
import { Bind, Bytes, Duration } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';

const qosMapping = (what: string) =>
  Type.Union([Type.Literal('coap'), Type.Literal('qos0'), Type.Literal('qos1'), Type.Literal('qos2')], {
    default: 'coap',
    description: `MQTT QoS of ${what} that carry no \`qos\` query parameter: \`coap\` maps a confirmable (CON) request to QoS 1 and a non-confirmable (NON) one to QoS 0; \`qos0\`, \`qos1\`, \`qos2\` fix it.`,
  });

export const coapUdpListenerSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Start this listener.' }),
    bind: Bind({ default: '127.0.0.1:5683', description: 'UDP address to listen on, `host:port` or `[v6]:port`. Loopback only unless opened on purpose; `[::]:5683` listens on IPv6 and IPv4.' }),
    max_connections: Type.Integer({ default: 1_024_000, minimum: 1, description: 'Clients (connection-mode connections and connectionless peers) served at once on this listener; requests of further clients get 5.03.' }),
    max_conn_rate: Type.Integer({ default: 1000, minimum: 0, description: 'New clients accepted per second on this listener; 0 means no limit. Requests over the rate get 5.03.' }),
    udp_options: Type.Object(
      {
        recbuf: Type.Optional(Bytes({ description: 'Size of the socket receive buffer (SO_RCVBUF); the OS default when unset.' })),
        sndbuf: Type.Optional(Bytes({ description: 'Size of the socket send buffer (SO_SNDBUF); the OS default when unset.' })),
        reuseaddr: Type.Boolean({ default: true, description: 'Set SO_REUSEADDR on the socket.' }),
      },
      { default: {}, additionalProperties: false, description: 'Socket options.' },
    ),
  },
  { additionalProperties: false },
);
export type CoapUdpListenerConfig = Static<typeof coapUdpListenerSchema>;

export const coapBlockwiseSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Block-wise transfer (RFC 7959): reassemble Block1 requests and send large notifications in Block2 blocks. When disabled, a request with Block1 gets 4.02 and large notifications go out whole.' }),
    max_block_size: Type.Union([16, 32, 64, 128, 256, 512, 1024].map((n) => Type.Literal(n)), { default: 1024, description: 'Largest block the gateway sends, and the size it asks clients to use (a client may ask for smaller blocks).' }),
    max_body_size: Bytes({ default: '4MB', description: 'Largest request body accepted, whole or reassembled from blocks; larger ones get 4.13 with Size1.' }),
    exchange_lifetime: Duration({ default: '247s', description: 'How long an unfinished block-wise transfer is kept (RFC 7252 EXCHANGE_LIFETIME).' }),
  },
  { default: {}, additionalProperties: false, description: 'Block-wise transfer of large payloads (RFC 7959), both ways.' },
);
export type CoapBlockwiseConfig = Static<typeof coapBlockwiseSchema>;

export const coapConfigSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Run the CoAP gateway.' }),
    connection_required: Type.Boolean({ default: false, description: 'Connection mode: clients must `POST /mqtt/connection` first and send `clientid` and `token` with every request. When false (connectionless mode), each peer is a client of its own.' }),
    heartbeat: Duration({ default: '30s', description: 'Connection mode: a connection whose client sends no request (a `PUT /mqtt/connection` heartbeat or any other) for this long, times `mqtt.keepalive_multiplier`, is closed and its subscriptions removed; 0 disables the check.' }),
    notify_type: Type.Union([Type.Literal('qos'), Type.Literal('con'), Type.Literal('non')], { default: 'qos', description: 'Message type of notifications: `qos` sends QoS 0 deliveries as NON and QoS 1/2 as CON; `con` and `non` fix it.' }),
    subscribe_qos: qosMapping('subscriptions (`GET` with Observe 0)'),
    publish_qos: qosMapping('publishes (`POST` or `PUT /ps/{topic}`)'),
    mountpoint: Type.String({ default: '', description: 'Prefix added to every topic CoAP clients publish and subscribe to; may use ${clientid} and ${username}.' }),
    idle_timeout: Duration({ default: '30s', description: 'Connectionless mode: a client with no observation is closed after this long without a request.' }),
    max_observations_per_client: Type.Integer({ default: 64, minimum: 0, description: 'Observations (subscriptions) one client may hold; further registrations are answered without Observe (RFC 7641 §4.1). 0 means no limit.' }),
    max_observations: Type.Integer({ default: 100_000, minimum: 0, description: 'Observations held by all clients of the gateway together; 0 means no limit.' }),
    ack_timeout: Duration({ default: '2s', minimum: 1, description: 'RFC 7252 ACK_TIMEOUT: first wait for the acknowledgement of a confirmable notification (randomised up to 1.5 times), doubled on every retransmission.' }),
    max_retransmit: Type.Integer({ default: 4, minimum: 0, maximum: 20, description: 'RFC 7252 MAX_RETRANSMIT: retransmissions of an unacknowledged confirmable notification before the observation is cancelled (RFC 7641 §4.5).' }),
    blockwise: coapBlockwiseSchema,
    listeners: Type.Object(
      {
        udp: Type.Record(Type.String(), coapUdpListenerSchema, { default: {}, description: 'UDP listeners, by name.' }),
      },
      { default: { udp: { default: { bind: '127.0.0.1:5683' } } }, additionalProperties: false, description: 'Listeners of the CoAP gateway.' },
    ),
  },
  { additionalProperties: false, description: 'The CoAP gateway: EMQX-compatible publish/subscribe over CoAP (RFC 7252, 7641, 7959).' },
);
export type CoapConfig = Static<typeof coapConfigSchema>;

/** The defaults of one UDP listener, in numbers, as the gateway's config loader produces them. */
export const defaultCoapUdpListener: CoapUdpListenerConfig = {
  enable: true,
  bind: { host: '127.0.0.1', port: 5683 },
  max_connections: 1_024_000,
  max_conn_rate: 1000,
  udp_options: { reuseaddr: true },
};

/** The defaults in numbers (durations in ms, sizes in bytes), for embedding and tests. */
export const defaultCoapConfig: CoapConfig = {
  enable: true,
  connection_required: false,
  heartbeat: 30_000,
  notify_type: 'qos',
  subscribe_qos: 'coap',
  publish_qos: 'coap',
  mountpoint: '',
  idle_timeout: 30_000,
  max_observations_per_client: 64,
  max_observations: 100_000,
  ack_timeout: 2000,
  max_retransmit: 4,
  blockwise: { enable: true, max_block_size: 1024, max_body_size: 4 * 1024 * 1024, exchange_lifetime: 247_000 },
  listeners: { udp: { default: defaultCoapUdpListener } },
};
