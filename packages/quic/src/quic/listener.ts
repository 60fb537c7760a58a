/**
 * A `listeners.quic` listener: a UDP socket with a QUIC server (TLS 1.3, ALPN `mqtt`) whose
 * connections each become one MQTT connection of the engine, in single- or multi-stream mode
 * (see QuicSessionStream). A client whose address changes (NAT rebinding, a phone changing
 * network) keeps its QUIC connection, and so its MQTT session: QUIC routes by connection id.
 */
import { X509Certificate } from 'node:crypto';
import { events, QUICServer, QUICSocket, type QUICConnection, type QUICStream } from '@matrixai/quic';
import { ConnectionRateGate, type AdapterContext, type ListenerInfo, type Logger, type Rate } from '@junction/broker-core';
import { listenerEngine, MqttConnection, type EngineContext, type TransportInfo } from '@junction/mqtt';
import { MQTT_QUIC_ALPN, type QuicListenerConfig } from './config.js';
import { serverCrypto } from './crypto.js';
import { holdEarlyStreams, releaseStreams } from './early-streams.js';
import { QuicheTls } from '../quiche-tls.js';
import { libraryLogger } from './quiet-logger.js';
import { QuicSessionStream } from './session-stream.js';
import { QuicStreamDuplex } from './stream-duplex.js';

/** QUIC application error codes this listener closes connections with. */
export const QUIC_CLOSE = {
  /** The MQTT connection ended. */
  NORMAL: 0,
  /** max_connections reached, or the listener is stopping. */
  REFUSED: 0x1,
} as const;

export class QuicListener {
  /** Open MQTT connections. */
  readonly connections = new Set<MqttConnection>();
  private readonly quicConnections = new Set<QUICConnection>();
  private socket: QUICSocket | undefined;
  private server: QUICServer | undefined;
  private tls: QuicheTls | undefined;
  private readonly engine: EngineContext;
  private readonly log: Logger;
  private closing = false;
  private refused = 0;
  /** `max_conn_rate`: connections over it wait here, handshake done, streams unread. */
  private gate: ConnectionRateGate;
  private readonly connRate: Rate | undefined;

  constructor(
    readonly name: string,
    private readonly config: QuicListenerConfig,
    ctx: AdapterContext,
  ) {
    ({ engine: this.engine, log: this.log, connRate: this.connRate, gate: this.gate } = listenerEngine(ctx, `quic:${name}`, config, `listeners.quic.${name}`));
  }

  /** Connections waiting at `max_conn_rate`. */
  get waiting(): number {
    return this.gate.waiting;
  }

  /**
   * Re-read the `ssl_options` files now (they are also watched); resolves true when they
   * changed: connections made from then on get the new certificate.
   */
  reloadTls(): Promise<boolean> {
    return this.tls?.reload() ?? Promise.resolve(false);
  }

  /** Connections refused (max_connections, stopping) since start. */
  get refusedCount(): number {
    return this.refused;
  }

  async start(): Promise<ListenerInfo> {
    const c = this.config;
    const verifyPeer = c.ssl_options.verify === 'verify_peer';
    const tls = new QuicheTls(c.ssl_options, `listeners.quic.${this.name}.ssl_options`, this.log);
    const pem = tls.pem();
    const logger = libraryLogger(this.log);
    const socket = new QUICSocket({ logger });
    holdEarlyStreams(socket);
    await socket.start({ host: c.bind.host, port: c.bind.port });
    const server = new QUICServer({
      socket,
      crypto: serverCrypto(),
      logger,
      minIdleTimeout: c.handshake_idle_timeout,
      config: {
        cert: pem.cert,
        key: pem.key,
        ...(pem.ca !== undefined ? { ca: pem.ca } : {}),
        verifyPeer,
        applicationProtos: [MQTT_QUIC_ALPN],
        maxIdleTimeout: c.idle_timeout,
        ...(c.keep_alive_interval > 0 ? { keepAliveIntervalTime: c.keep_alive_interval } : {}),
        initialMaxStreamsBidi: c.peer_bidi_stream_count,
        initialMaxStreamsUni: 0,
        // The client may move (NAT rebinding, network change) without losing its connection.
        disableActiveMigration: false,
      },
    });
    server.addEventListener(events.EventQUICServerConnection.name, (evt: Event) => this.accept((evt as events.EventQUICServerConnection).detail));
    server.addEventListener(events.EventQUICServerError.name, (evt: Event) => {
      this.log.error({ err: (evt as events.EventQUICServerError).detail }, 'listener_error');
    });
    try {
      await server.start();
    } catch (err) {
      await socket.stop({ force: true });
      tls.close();
      throw err;
    }
    this.socket = socket;
    this.server = server;
    this.tls = tls;
    // Certificate files that change (renewal) apply to the connections made from then on.
    tls.follow((next) => server.updateConfig({ cert: next.cert, key: next.key, ...(next.ca !== undefined ? { ca: next.ca } : {}) }));
    const port = socket.port as number;
    this.log.info({ host: c.bind.host, port, alpn: MQTT_QUIC_ALPN }, 'listener_started');
    return { type: 'quic', name: this.name, host: c.bind.host, port };
  }

  private accept(conn: QUICConnection): void {
    if (this.closing || this.quicConnections.size >= this.config.max_connections) {
      this.refused++;
      this.log.debug({ peer: peerOf(conn), reason: this.closing ? 'stopping' : 'max_connections' }, 'quic_connection_refused');
      releaseStreams(conn);
      void conn.stop({ isApp: true, errorCode: QUIC_CLOSE.REFUSED, force: true }).catch(() => {});
      return;
    }
    this.quicConnections.add(conn);
    let gone = false;
    conn.addEventListener(
      events.EventQUICConnectionStopped.name,
      () => {
        gone = true;
        this.quicConnections.delete(conn);
      },
      { once: true },
    );
    const outcome = this.gate.offer({
      get gone() {
        return gone;
      },
      admit: () => this.open(conn),
      drop: () => {
        this.refused++;
        releaseStreams(conn);
        void conn.stop({ isApp: true, errorCode: QUIC_CLOSE.REFUSED, force: true }).catch(() => {});
      },
    });
    // EMQX pauses accepting over max_conn_rate: the connection waits, its streams (CONNECT) unread.
    if (outcome === 'held') this.log.debug({ peer: peerOf(conn), waiting: this.gate.waiting }, 'max_conn_rate_exceeded');
    else if (outcome === 'dropped') this.log.warn({ peer: peerOf(conn) }, 'max_conn_rate_backlog_full');
  }

  /** Make the QUIC connection an MQTT connection and start reading its streams. */
  private open(conn: QUICConnection): void {
    const peer = peerOf(conn);
    const transport: TransportInfo = { peer, ...this.peerCertOf(conn) };
    const session = new QuicSessionStream(this.engine.options.max_packet_size, this.log.child({ peer }));
    const mqtt = new MqttConnection(session, this.engine, transport);
    this.connections.add(mqtt);

    // Streams announced together are attached lowest id first: the first is the control stream.
    let batch: QUICStream[] | undefined;
    conn.addEventListener(events.EventQUICConnectionStream.name, (evt: Event) => {
      const stream = (evt as events.EventQUICConnectionStream).detail;
      if (stream.type !== 'bidi') {
        stream.cancel(new Error('unidirectional streams are not used by MQTT over QUIC'));
        return;
      }
      if (!batch) {
        batch = [];
        queueMicrotask(() => {
          const streams = batch!.sort((a, b) => a.streamId - b.streamId);
          batch = undefined;
          for (const s of streams) session.attach(new QuicStreamDuplex(s));
        });
      }
      batch.push(stream);
    });
    conn.addEventListener(events.EventQUICConnectionStopped.name, () => session.destroy(), { once: true });
    session.once('close', () => {
      this.connections.delete(mqtt);
      if (!conn.closed) void conn.stop({ isApp: true, errorCode: QUIC_CLOSE.NORMAL, force: true }).catch(() => {});
    });
    this.log.debug({ peer }, 'quic_connection_accepted');
    releaseStreams(conn);
  }

  /** With verify_peer, the verified client certificate's identity for the core. */
  private peerCertOf(conn: QUICConnection): Pick<TransportInfo, 'peerCert'> {
    if (this.config.ssl_options.verify !== 'verify_peer') return {};
    const der = conn.getRemoteCertsChain()[0];
    if (!der) return {};
    try {
      const cert = new X509Certificate(der);
      const parts = cert.subject.split('\n').filter((p) => p !== '');
      const cn = parts.find((p) => p.startsWith('CN='))?.slice(3);
      return { peerCert: { subject: parts.join(','), commonName: cn } };
    } catch {
      return {};
    }
  }

  /**
   * Refuse new connections, tell every client the server is going away (MQTT 5: DISCONNECT
   * 0x8B), wait up to `drainMs` for the connections to end, then close the rest and the socket.
   * Idempotent.
   */
  async stop(drainMs = 5000): Promise<void> {
    const server = this.server;
    const socket = this.socket;
    if (!server || !socket) return;
    this.server = undefined;
    this.socket = undefined;
    this.tls?.close();
    this.tls = undefined;
    this.closing = true;
    this.gate.close();
    for (const c of this.connections) c.closeBy('server_shutdown');
    if (this.quicConnections.size > 0) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, drainMs);
        deadline.unref();
        const check = setInterval(() => {
          if (this.quicConnections.size === 0) {
            clearInterval(check);
            clearTimeout(deadline);
            resolve();
          }
        }, 20);
        check.unref();
        setTimeout(() => clearInterval(check), drainMs).unref();
      });
    }
    await server.stop({ isApp: true, errorCode: QUIC_CLOSE.REFUSED, force: true }).catch((err: unknown) => this.log.debug({ err }, 'quic_server_stop_failed'));
    await socket.stop({ force: true }).catch((err: unknown) => this.log.debug({ err }, 'quic_socket_stop_failed'));
    this.closing = false;
    // A fresh gate for a later start (a closed one drops everything).
    this.gate = new ConnectionRateGate(this.connRate);
    this.log.info({}, 'listener_stopped');
  }
}

/** `host:port` of the client, as ConnectInfo.peer wants it (written as the TCP listener does). */
function peerOf(conn: QUICConnection): string {
  return `${conn.remoteHost}:${conn.remotePort}`;
}
