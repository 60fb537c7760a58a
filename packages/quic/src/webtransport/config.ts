/**
 * Configuration of MQTT over WebTransport listeners: `listeners.webtransport.<name>`. One
 * listener serves WebTransport over HTTP/3 on a UDP port and, optionally, WebTransport over
 * HTTP/2 on a TCP port for clients whose UDP is blocked; both on the same path.
 */
import { Bind, Duration, type AdapterDescriptor } from '@junction/broker-core';
import { listenerLimits, mqttOptionsSchema } from '@junction/mqtt';
import { sslOptionsSchema } from '@junction/tls';
import { Type, type Static } from '@sinclair/typebox';

/**
 * The parts of EMQX's ssl_options (@junction/tls) that apply to WebTransport: the server
 * certificate and key (browsers present no client certificates), an encrypted key's password,
 * and how often the files are checked for changes.
 */
export const webtransportSslOptionsSchema = Type.Object(
  {
    certfile: Type.String({
      default: '',
      description:
        'PEM file with the server certificate (and chain). Browsers that connect with `serverCertificateHashes` need an ECDSA P-256 certificate valid for less than 14 days; a certificate from a CA the browser trusts has no such limit.',
    }),
    keyfile: Type.String({ default: '', description: 'PEM file with the private key of the certificate.' }),
    password: sslOptionsSchema.properties.password,
    reload_interval: sslOptionsSchema.properties.reload_interval,
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'TLS 1.3 certificate and key (QUIC, and the HTTP/2 port). Required. Replaced files are picked up without a restart by new HTTP/3 connections; the HTTP/2 port keeps the certificate it started with.',
  },
);

export const webtransportHttp2Schema = Type.Object(
  {
    enable: Type.Boolean({ default: false, description: 'Also serve WebTransport over HTTP/2 (TLS over TCP), for clients whose UDP is blocked.' }),
    bind: Bind({ default: '127.0.0.1:14568', description: 'TCP address of the HTTP/2 endpoint, `host:port`.' }),
  },
  { additionalProperties: false, default: {}, description: 'WebTransport over HTTP/2.' },
);

export const webtransportListenerSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Start this listener.' }),
    bind: Bind({ default: '127.0.0.1:14568', description: 'UDP address of the HTTP/3 (QUIC) endpoint, `host:port`. Loopback only unless you open it on purpose.' }),
    path: Type.String({ default: '/mqtt', pattern: '^/', description: 'Path of the WebTransport endpoint; sessions to other paths get 404. HTTP/3 ignores the query string, HTTP/2 matches the path exactly.' }),
    http2: webtransportHttp2Schema,
    ssl_options: webtransportSslOptionsSchema,
    idle_timeout: Duration({
      default: '60s',
      description: 'A QUIC connection without any packet for this long is closed (both peers announce one; the smaller applies). 0: no idle timeout.',
    }),
    max_sessions: Type.Integer({ default: 100_000, minimum: 1, description: 'WebTransport sessions this listener holds at once; further ones are refused (HTTP/3: status 429; HTTP/2: closed at once).' }),
    max_streams: Type.Integer({
      default: 100,
      minimum: 2,
      description: 'Bidirectional streams a client may have open at once on one connection (HTTP/3: QUIC initial_max_streams_bidi, the CONNECT streams included) or in one session (HTTP/2). Each carries one MQTT connection.',
    }),
    mountpoint: Type.String({ default: '', description: "Prefix added to every topic of this listener's clients; may use ${clientid} and ${username}." }),
    // EMQX's listener limiters, as on TCP, per MQTT connection (one per WebTransport stream):
    // over max_conn_rate a new stream waits unread; over messages_rate / bytes_rate a client's
    // stream is not read (flow control holds it back; other streams and sessions go on).
    ...listenerLimits(),
  },
  { additionalProperties: false },
);
export type WebTransportListenerConfig = Static<typeof webtransportListenerSchema>;

export const defaultWebTransportListenerConfig: WebTransportListenerConfig = {
  enable: true,
  bind: { host: '127.0.0.1', port: 14568 },
  path: '/mqtt',
  http2: { enable: false, bind: { host: '127.0.0.1', port: 14568 } },
  ssl_options: { certfile: '', keyfile: '' },
  idle_timeout: 60_000,
  max_sessions: 100_000,
  max_streams: 100,
  mountpoint: '',
};

const webtransportListenersSchema = Type.Record(Type.String(), webtransportListenerSchema, {
  default: {},
  description: 'MQTT over WebTransport listeners (HTTP/3 on UDP, optionally HTTP/2 on TCP), by name. Each bidirectional stream of a session carries one MQTT connection.',
});

/** `listeners.webtransport.{name}`: MQTT over WebTransport (default UDP 14568, path /mqtt). */
export const webtransportListenersDescriptor: AdapterDescriptor<typeof webtransportListenersSchema> = {
  type: 'listeners.webtransport',
  configSchema: webtransportListenersSchema,
  sections: { mqtt: mqttOptionsSchema },
};
