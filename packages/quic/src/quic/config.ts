/**
 * Configuration of MQTT over QUIC listeners, in EMQX's shape:
 * `listeners.quic.<name>.{enable, bind, max_connections, mountpoint, idle_timeout,
 * handshake_idle_timeout, keep_alive_interval, peer_bidi_stream_count, max_conn_rate,
 * messages_rate, bytes_rate, ssl_options: {...}}`.
 */
import { Bind, Duration, type AdapterDescriptor } from '@junction/broker-core';
import { listenerLimits, mqttOptionsSchema } from '@junction/mqtt';
import { sslOptionsSchema, type SslOptions } from '@junction/tls';
import { Type, type Static } from '@sinclair/typebox';

/** The ALPN of MQTT over QUIC (EMQX, NanoSDK, emqtt). */
export const MQTT_QUIC_ALPN = 'mqtt';

/**
 * `listeners.quic.<name>.ssl_options`: EMQX's ssl_options, shared by every TLS listener
 * (@junction/tls), so a block written for `listeners.ssl` works here. QUIC always runs TLS 1.3:
 * `versions` must include tlsv1.3; `ciphers`, `ocsp` and `depth` are ignored (logged);
 * `enable_crl_check` and `psk` are refused. With verify_peer every client must present a
 * certificate (quiche has no optional client certificate), whatever fail_if_no_peer_cert says.
 */
export const quicSslOptionsSchema = sslOptionsSchema;
export type QuicSslOptions = SslOptions;

export const quicListenerSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Start this listener.' }),
    bind: Bind({ default: '127.0.0.1:14567', description: 'UDP address to listen on, `host:port`. Loopback only unless you open it on purpose.' }),
    max_connections: Type.Integer({ default: 1_000_000, minimum: 1, description: 'QUIC connections this listener holds at once; further ones are closed once their handshake ends.' }),
    mountpoint: Type.String({ default: '', description: "Prefix added to every topic of this listener's clients; may use ${clientid} and ${username}." }),
    idle_timeout: Duration({
      default: '2m',
      description: 'QUIC idle timeout: a connection with no packet from the peer for this long is closed. Keep it above the MQTT keepalive of your clients unless they send QUIC PINGs (the smaller of both sides\' values applies). 0: no QUIC idle timeout (MQTT keepalive still applies).',
    }),
    handshake_idle_timeout: Duration({ default: '10s', description: 'How long a QUIC handshake may take before the attempt is dropped.' }),
    keep_alive_interval: Duration({ default: '0s', description: 'Send a QUIC PING this often on idle connections to keep NAT bindings open. 0: never.' }),
    peer_bidi_stream_count: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 65535,
      description: 'Bidirectional streams a client may have open at once: the control stream plus data streams (multi-stream mode).',
    }),
    // EMQX's listener limiters, as on TCP: over max_conn_rate a new QUIC connection waits (its
    // streams unread) after its handshake; over messages_rate / bytes_rate a client's streams
    // are not read (QUIC flow control holds the client back; other connections go on).
    ...listenerLimits(),
    ssl_options: quicSslOptionsSchema,
  },
  { additionalProperties: false },
);
export type QuicListenerConfig = Static<typeof quicListenerSchema>;

const quicListenersSchema = Type.Record(Type.String(), quicListenerSchema, {
  default: {},
  description: 'MQTT over QUIC listeners (EMQX-compatible: UDP, TLS 1.3, ALPN `mqtt`, single- and multi-stream mode), by name.',
});

/** `listeners.quic.{name}`: MQTT over QUIC (EMQX default 14567/udp). */
export const quicListenersDescriptor: AdapterDescriptor<typeof quicListenersSchema> = {
  type: 'listeners.quic',
  configSchema: quicListenersSchema,
  sections: { mqtt: mqttOptionsSchema },
};
