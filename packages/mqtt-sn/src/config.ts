/**
 * `gateway.mqttsn`: the MQTT-SN gateway's configuration in the shape of EMQX's (the same keys,
 * defaults and meaning), plus a few keys EMQX hard-codes (marked "Junction:"). Durations, sizes
 * and bind addresses are written in EMQX's human form (`30s`, `64KB`, `127.0.0.1:1884`); the
 * config loader parses them, so the adapter receives milliseconds, bytes and `{ host, port }`.
 */
import { Bind, Bytes, Duration } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';

export const predefinedTopicSchema = Type.Object(
  {
    id: Type.Integer({ minimum: 1, maximum: 65535, description: 'Pre-defined topic id (1..65535; 0 is reserved), the same for every client.' }),
    topic: Type.String({ minLength: 1, description: 'The topic name the id stands for, as clients see it (before the mountpoint).' }),
  },
  { additionalProperties: false, description: 'A pre-defined topic id.' },
);

export const udpOptionsSchema = Type.Object(
  {
    active_n: Type.Integer({ default: 100, minimum: 1, description: 'Accepted for compatibility with EMQX; Node.js delivers every datagram as it arrives.' }),
    recbuf: Bytes({ default: 0, description: 'Socket receive buffer (SO_RCVBUF); 0 keeps the operating system\'s default.' }),
    sndbuf: Bytes({ default: 0, description: 'Socket send buffer (SO_SNDBUF); 0 keeps the operating system\'s default.' }),
    buffer: Bytes({ default: 0, description: 'Accepted for compatibility with EMQX (its user-level buffer); each datagram is read whole.' }),
    reuseaddr: Type.Boolean({ default: true, description: 'Allow binding an address still in use by a closing socket (SO_REUSEADDR).' }),
  },
  { additionalProperties: false, default: {}, description: 'Settings of the UDP socket.' },
);

export const udpListenerSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Start this listener.' }),
    bind: Bind({ default: '127.0.0.1:1884', description: 'Address to listen on, `host:port` or `[ipv6]:port`. Loopback only unless opened on purpose (EMQX binds 0.0.0.0:1884).' }),
    max_connections: Type.Integer({ default: 1024, minimum: 1, description: 'Clients connected (or sleeping) through this listener at once; a further CONNECT gets CONNACK "rejected: congestion".' }),
    max_conn_rate: Type.Integer({ default: 1000, minimum: 1, description: 'New clients accepted per second on this listener; CONNECTs from new peers beyond it are dropped.' }),
    enable_authn: Type.Boolean({ default: true, description: 'Run authentication for clients of this listener; false admits every client without asking the authenticators.' }),
    mountpoint: Type.String({ default: '', description: 'Topic prefix for clients of this listener, replacing the gateway\'s; empty: the gateway\'s mountpoint applies.' }),
    access_rules: Type.Array(Type.String({ pattern: '^\\s*(allow|deny)\\s+\\S+\\s*$' }), {
      default: [],
      description: 'Peer address rules checked in order, the first match deciding: "allow 192.168.0.0/16", "deny 10.1.2.3", "deny all". None matching, or none given: allowed.',
    }),
    udp_options: udpOptionsSchema,
  },
  { additionalProperties: false, description: 'A UDP listener of the MQTT-SN gateway.' },
);

export const clientinfoOverrideSchema = Type.Object(
  {
    username: Type.String({ default: '', description: 'User name given to the authenticators for every client (MQTT-SN has none); may use ${clientid}. Empty: none.' }),
    password: Type.String({ default: '', description: 'Password given to the authenticators for every client; may use ${clientid}. Empty: none.' }),
    clientid: Type.String({ default: '', description: 'Client id to use instead of the one in CONNECT; may use ${clientid}. Empty: the client\'s own.' }),
  },
  { additionalProperties: false, default: {}, description: 'Client information the gateway supplies on the clients\' behalf.' },
);

export const mqttSnConfigSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Run the MQTT-SN gateway.' }),
    gateway_id: Type.Integer({ default: 1, minimum: 0, maximum: 255, description: 'GwId sent in ADVERTISE and GWINFO.' }),
    broadcast: Type.Boolean({ default: false, description: 'Broadcast ADVERTISE every `advertise_interval` (and once at start).' }),
    enable_qos3: Type.Boolean({ default: true, description: 'Accept PUBLISH at QoS -1 (QoS 3 on the wire) from clients without a connection, on pre-defined ids and short topic names; published at QoS 0.' }),
    subs_resume: Type.Boolean({ default: false, description: 'When a client resumes a session (CleanSession 0), REGISTER its subscribed topic names again before delivering queued messages.' }),
    predefined: Type.Array(predefinedTopicSchema, { default: [], description: 'Pre-defined topic ids, shared by all clients.' }),
    mountpoint: Type.String({ default: '', description: 'Prefix added to every topic of the gateway\'s clients; may use ${clientid} and ${username}.' }),
    enable_stats: Type.Boolean({ default: true, description: 'Report the gateway\'s counters (packets, bytes, malformed datagrams) in its stats.' }),
    idle_timeout: Duration({ default: '30s', description: 'A client must finish CONNECT (including the will dialogue) within this time.' }),
    clientinfo_override: clientinfoOverrideSchema,
    retry_interval: Duration({ default: '10s', minimum: 10, description: 'Junction: Tretry, the wait before the gateway resends an unanswered PUBLISH, PUBREL, REGISTER, WILLTOPICREQ or WILLMSGREQ.' }),
    max_retries: Type.Integer({ default: 3, minimum: 0, description: 'Junction: Nretry, how many times an unanswered message is resent before the client is considered lost.' }),
    advertise_interval: Duration({ default: '15m', minimum: 1000, description: 'Junction: time between two ADVERTISE broadcasts (their Duration field), when `broadcast` is on.' }),
    broadcast_addresses: Type.Array(Bind(), {
      default: [],
      description: 'Junction: where ADVERTISE goes, `host:port` each. Empty: the broadcast address of every IPv4 interface, at the listener\'s port (as EMQX).',
    }),
    listeners: Type.Object(
      {
        udp: Type.Record(Type.String(), udpListenerSchema, { default: { default: {} }, description: 'UDP listeners, by name.' }),
      },
      { additionalProperties: false, default: {}, description: 'The gateway\'s listeners.' },
    ),
  },
  { additionalProperties: false, description: 'The MQTT-SN 1.2 gateway (UDP).' },
);

export type MqttSnConfig = Static<typeof mqttSnConfigSchema>;
export type UdpListenerConfig = Static<typeof udpListenerSchema>;

/** A listener's defaults, parsed (what the loader makes of `{}`). */
export const defaultUdpListener: UdpListenerConfig = {
  enable: true,
  bind: { host: '127.0.0.1', port: 1884 },
  max_connections: 1024,
  max_conn_rate: 1000,
  enable_authn: true,
  mountpoint: '',
  access_rules: [],
  udp_options: { active_n: 100, recbuf: 0, sndbuf: 0, buffer: 0, reuseaddr: true },
};

/** The gateway's defaults, parsed: durations in milliseconds, binds as `{ host, port }`. */
export const defaultMqttSnConfig: MqttSnConfig = {
  enable: true,
  gateway_id: 1,
  broadcast: false,
  enable_qos3: true,
  subs_resume: false,
  predefined: [],
  mountpoint: '',
  enable_stats: true,
  idle_timeout: 30_000,
  clientinfo_override: { username: '', password: '', clientid: '' },
  retry_interval: 10_000,
  max_retries: 3,
  advertise_interval: 900_000,
  broadcast_addresses: [],
  listeners: { udp: { default: defaultUdpListener } },
};

/** A listener config as code may write it: any key left out takes its default. */
export type UdpListenerInput = Partial<Omit<UdpListenerConfig, 'udp_options'>> & { udp_options?: Partial<UdpListenerConfig['udp_options']> };

/** The gateway config as code may write it (embedding, tests): parsed values, defaults filled in. */
export type MqttSnConfigInput = Partial<Omit<MqttSnConfig, 'listeners' | 'clientinfo_override'>> & {
  clientinfo_override?: Partial<MqttSnConfig['clientinfo_override']>;
  listeners?: { udp?: Record<string, UdpListenerInput> };
};

/** Fills in defaults, for callers that build the config in code rather than through the loader. */
export function mqttSnConfig(input: MqttSnConfigInput = {}): MqttSnConfig {
  const d = defaultMqttSnConfig;
  const udp = input.listeners?.udp ?? d.listeners.udp;
  return {
    ...d,
    ...input,
    clientinfo_override: { ...d.clientinfo_override, ...input.clientinfo_override },
    listeners: {
      udp: Object.fromEntries(
        Object.entries(udp).map(([name, l]) => [name, { ...defaultUdpListener, ...l, udp_options: { ...defaultUdpListener.udp_options, ...l.udp_options } }]),
      ),
    },
  };
}
