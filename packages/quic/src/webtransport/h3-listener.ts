/**
 * WebTransport over HTTP/3 on a UDP port: a QUIC server (ALPN h3), the HTTP/3 layer of
 * ./h3/ on each connection, and an MQTT connection on every WebTransport bidirectional stream
 * of a session opened on the configured path.
 */
import type { QUICServer, QUICStream } from '@matrixai/quic';
import type { ListenerInfo, Logger } from '@junction/broker-core';
import type { WebTransportEndpoint } from './endpoint.js';
import { H3Connection, type ConnectRequest, type WtSession } from './h3/connection.js';
import { H3, H3Error } from './h3/errors.js';
import { startH3QuicServer } from './h3/quic-server.js';
import { WebStreamDuplex } from './stream-duplex.js';
import type { QuichePem } from '../quiche-tls.js';

/** draft-ietf-webtransport-http3 §4.4: WebTransport application error codes on the wire. */
export function wtErrorToH3(code: number): number {
  return 0x52e4a40fa8db + code + Math.floor(code / 0x1e);
}

/** Why a WebTransport stream was reset by us: the application error code it carries. */
export class WtStreamReset extends Error {
  override readonly name = 'WtStreamReset';
  constructor(readonly wtCode: number) {
    super(`WebTransport stream reset (${wtCode})`);
  }
}

/** The code for RESET_STREAM / STOP_SENDING of a reason given to a QUIC stream. */
function reasonToCode(_type: 'read' | 'write', reason?: unknown): number {
  if (reason instanceof H3Error) return reason.code;
  if (reason instanceof WtStreamReset) return wtErrorToH3(reason.wtCode);
  return H3.REQUEST_CANCELLED;
}

export class H3Listener {
  private server: QUICServer | undefined;
  private readonly h3 = new Set<H3Connection>();
  private readonly log: Logger;

  constructor(
    private readonly endpoint: WebTransportEndpoint,
    private readonly tls: QuichePem,
  ) {
    this.log = endpoint.log.child({ transport: 'h3' });
  }

  /** Connections (QUIC) open now. */
  get quicConnections(): number {
    return this.h3.size;
  }

  async start(): Promise<ListenerInfo> {
    const { config, name } = this.endpoint;
    this.server = await startH3QuicServer({
      host: config.bind.host,
      port: config.bind.port,
      cert: this.tls.cert,
      key: this.tls.key,
      idleTimeout: config.idle_timeout,
      maxStreamsBidi: config.max_streams,
      reasonToCode,
      onConnection: (quic) => {
        const conn = new H3Connection(quic, {
            accept: (req) => this.accept(req),
            opened: (session) => session.onClose(() => this.endpoint.sessionEnded()),
            stream: (s, st, r, h) => this.stream(s, st, r, h),
          }, { maxSessions: config.max_sessions }, this.log);
        this.h3.add(conn);
        quic.closedP.then(
          () => this.h3.delete(conn),
          () => this.h3.delete(conn),
        );
        conn.start();
      },
    });
    const port = this.server.port as number;
    this.log.info({ host: config.bind.host, port, path: config.path }, 'listener_started');
    return { type: 'wt', name, host: config.bind.host, port };
  }

  /** New connections use this certificate and key from now on. */
  updateTls(pem: QuichePem): void {
    this.server?.updateConfig({ cert: pem.cert, key: pem.key });
  }

  private accept(req: ConnectRequest): number {
    if (req.path !== this.endpoint.config.path) {
      this.endpoint.refused++;
      return 404;
    }
    if (this.endpoint.admitSession()) return 200;
    return this.endpoint.closing ? 503 : 429;
  }

  private stream(session: WtSession, stream: QUICStream, reader: ReadableStreamDefaultReader<Uint8Array>, head: Buffer): void {
    const duplex = new WebStreamDuplex(stream, { reader, head, resetReason: () => new WtStreamReset(0) });
    const off = session.onClose(() => duplex.destroy());
    duplex.once('close', off);
    this.endpoint.attach(duplex, session.connection.peer);
  }

  async stop(drain: Promise<void>): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await Promise.all([...this.h3].map((c) => c.close(drain)));
    await server.stop({ force: true }).catch(() => {});
    this.log.info({}, 'listener_stopped');
  }
}
