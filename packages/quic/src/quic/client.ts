/**
 * A Node MQTT-over-QUIC client connection on @matrixai/quic, for MQTT.js or any client that
 * takes a duplex: `new MqttClient(quicStreamBuilder({ host, port, ca }), { protocolVersion: 5 })`.
 * Single-stream mode puts the MQTT byte stream on the first bidirectional stream; multi-stream
 * mode spreads it as EMQX's multi-stream clients do (see ClientMultiStream).
 */
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { events, QUICClient, type QUICSocket } from '@matrixai/quic';
import { silentLogger, type Logger } from '@junction/broker-core';
import { ClientMultiStream } from './client-mux.js';
import { MQTT_QUIC_ALPN } from './config.js';
import { clientCrypto } from './crypto.js';
import { lightenConnection } from './lighten.js';
import { libraryLogger } from './quiet-logger.js';
import { QuicStreamDuplex } from './stream-duplex.js';

export interface MqttQuicClientOptions {
  readonly host: string;
  readonly port: number;
  /** Name the server certificate must carry (SNI and verification); default `host`. */
  readonly serverName?: string;
  /** PEM CA certificate(s) the server certificate must chain to; default the system's. */
  readonly ca?: string | Buffer;
  /** PEM client certificate and key, for servers with verify_peer. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Skip server certificate verification (tests against self-signed servers only). */
  readonly insecure?: boolean;
  /** ALPN offered; default `mqtt`. */
  readonly alpn?: string;
  /** `single` (default): one stream carries MQTT as TCP would; `multi`: EMQX's multi-stream mode. */
  readonly mode?: 'single' | 'multi';
  /** QUIC idle timeout in ms; default 30000. */
  readonly idleTimeout?: number;
  /** QUIC PING interval in ms; default 10000 (keeps the connection and NAT bindings alive). */
  readonly keepAliveInterval?: number;
  /** Local address to bind; default `127.0.0.1` for a loopback host, else `::`. */
  readonly localHost?: string;
  /** How long the handshake may take, in ms; default 5000. */
  readonly connectTimeout?: number;
  /**
   * Take @matrixai/quic's per-packet overhead off this connection (light receive lock, one send
   * per event-loop turn; see lighten.ts); default true. `false` runs the library as it ships.
   */
  readonly tune?: boolean;
  readonly log?: Logger;
}

/** One QUIC connection carrying one MQTT connection. */
export class MqttQuicClient {
  private constructor(
    private readonly client: QUICClient,
    /** The MQTT byte stream (for MQTT.js, the raw client, or your own codec). */
    readonly stream: Duplex,
  ) {}

  /** Connect, open the control stream; rejects when the handshake fails (wrong ALPN, certificate). */
  static async connect(opts: MqttQuicClientOptions): Promise<MqttQuicClient> {
    const log = opts.log ?? silentLogger;
    const toText = (v: string | Buffer | undefined) => (v === undefined ? undefined : v.toString());
    const client = await QUICClient.createQUICClient(
      {
        host: opts.host,
        port: opts.port,
        serverName: opts.serverName ?? opts.host,
        localHost: opts.localHost ?? (opts.host === '127.0.0.1' || opts.host === 'localhost' ? '127.0.0.1' : '::'),
        crypto: clientCrypto,
        logger: libraryLogger(log),
        config: {
          applicationProtos: [opts.alpn ?? MQTT_QUIC_ALPN],
          verifyPeer: !opts.insecure,
          ...(opts.ca !== undefined ? { ca: toText(opts.ca)! } : {}),
          ...(opts.cert !== undefined && opts.key !== undefined ? { cert: toText(opts.cert)!, key: toText(opts.key)! } : {}),
          maxIdleTimeout: opts.idleTimeout ?? 30_000,
          keepAliveIntervalTime: opts.keepAliveInterval ?? 10_000,
        },
      },
      { timer: opts.connectTimeout ?? 5000 },
    );
    if (opts.tune !== false) lightenConnection(client.connection);
    const open = () => new QuicStreamDuplex(client.connection.newStream('bidi'));
    const control = open();
    const stream = opts.mode === 'multi' ? new ClientMultiStream(control, open) : control;
    const self = new MqttQuicClient(client, stream);
    // The connection ending (peer close, idle timeout) ends the MQTT stream.
    client.addEventListener(events.EventQUICClientDestroyed.name, () => stream.destroy(), { once: true });
    client.addEventListener(events.EventQUICClientError.name, (evt: Event) => {
      log.debug({ err: (evt as events.EventQUICClientError).detail?.message }, 'quic_client_error');
    });
    // The MQTT stream ending closes the connection: at once when destroyed, after the close
    // handshake of the streams otherwise.
    stream.once('close', () => void self.close(!stream.writableFinished));
    return self;
  }

  /** Open another bidirectional stream (multi-stream mode, by hand). */
  newStream(): QuicStreamDuplex {
    return new QuicStreamDuplex(this.client.connection.newStream('bidi'));
  }

  /** The server's certificate (DER) as presented in the handshake. */
  get serverCertificate(): Uint8Array | undefined {
    return this.client.connection.getRemoteCertsChain()[0];
  }

  get localPort(): number {
    return socketOf(this.client).socket.address().port;
  }

  /**
   * Move to a new local UDP port, as after a NAT rebinding or a network change: the QUIC
   * connection goes on from the new address (the server follows it by connection id). Resolves
   * with the new port.
   */
  async rebind(): Promise<number> {
    const qs = socketOf(this.client);
    const old = qs.socket;
    const fresh: UdpSocket = createSocket({ type: old.address().family === 'IPv6' ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      fresh.once('error', reject);
      fresh.bind(0, old.address().address, () => {
        fresh.off('error', reject);
        resolve();
      });
    });
    fresh.on('message', qs.handleSocketMessage);
    qs.socket = fresh;
    qs.socketSend = promisify(fresh.send).bind(fresh) as QuicSocketInternals['socketSend'];
    qs.socketClose = promisify(fresh.close).bind(fresh);
    old.off('message', qs.handleSocketMessage);
    old.close();
    return fresh.address().port;
  }

  /** Close the QUIC connection (`force`: reset the streams instead of letting them finish). */
  async close(force = true): Promise<void> {
    if (this.client.closed) return;
    await this.client.destroy({ isApp: true, errorCode: 0, force }).catch(() => {});
  }
}

/** The parts of QUICSocket that moving to another UDP socket needs (not public API). */
interface QuicSocketInternals {
  socket: UdpSocket;
  socketSend: (...params: unknown[]) => Promise<number>;
  socketClose: () => Promise<void>;
  handleSocketMessage: (data: Buffer, remote: RemoteInfo) => Promise<void>;
}

function socketOf(client: QUICClient): QuicSocketInternals {
  return (client as unknown as { socket: QUICSocket }).socket as unknown as QuicSocketInternals;
}

/**
 * A stream builder for MQTT.js (`new MqttClient(builder, options)`): each call connects anew
 * (so MQTT.js reconnects work) and returns at once a duplex that carries writes over once the
 * QUIC handshake is done; a failed handshake destroys it with the error.
 */
export function quicStreamBuilder(opts: MqttQuicClientOptions): () => Duplex {
  return () => new ConnectingStream(MqttQuicClient.connect(opts));
}

/** A duplex standing for a stream that is still being opened. */
class ConnectingStream extends Duplex {
  private inner: Duplex | undefined;
  private client: MqttQuicClient | undefined;

  constructor(private readonly opening: Promise<MqttQuicClient>) {
    super({ allowHalfOpen: false });
    opening.then(
      (client) => {
        if (this.destroyed) return void client.close();
        this.client = client;
        const inner = client.stream;
        this.inner = inner;
        inner.on('data', (chunk: Buffer) => {
          if (!this.push(chunk)) inner.pause();
        });
        inner.on('end', () => this.push(null));
        inner.on('error', (err: Error) => this.destroy(err));
        inner.on('close', () => this.destroy());
      },
      (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.inner) return passOn(this.inner, chunk, cb);
    this.opening.then(
      () => (this.inner ? passOn(this.inner, chunk, cb) : cb(new Error('stream closed'))),
      (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.inner) this.inner.end(() => cb());
    else cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner?.destroy();
    void this.client?.close();
    cb(err);
  }
}

/**
 * Write to the inner stream and take the next chunk at once unless it is full: waiting for each
 * write to reach QUIC would send one packet per round of the QUIC stack instead of batches.
 */
function passOn(inner: Duplex, chunk: Buffer, cb: (err?: Error | null) => void): void {
  if (inner.write(chunk)) cb();
  else inner.once('drain', () => cb());
}
