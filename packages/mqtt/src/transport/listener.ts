import type { Server, Socket } from 'node:net';
import { ConnectionRateGate, type AdapterContext, type BindAddress, type ListenerInfo, type Logger } from '@junction/broker-core';
import { MqttConnection, type EngineContext, type TransportInfo } from '../engine/connection.js';
import { admitWhenAllowed } from './admission.js';
import { listenerEngine } from './listener-engine.js';
import type { ListenerRates } from './rates.js';

interface StreamListenerBase {
  enable: boolean;
  bind: BindAddress;
  max_connections: number;
  mountpoint: string;
}

/** A stream listener's config with EMQX's rate limits (absent: none). */
export type StreamListenerConfig = StreamListenerBase & Partial<ListenerRates>;

/**
 * A stream listener (TCP or TLS): owns a `net.Server`, hands each accepted socket to an
 * MqttConnection, and on stop tells clients the server is going away.
 */
export class StreamListener {
  readonly connections = new Set<MqttConnection>();
  private server: Server | undefined;
  private info: ListenerInfo | undefined;
  private readonly engine: EngineContext;
  private readonly log: Logger;
  /** `max_conn_rate`: connections over it wait here, unread. */
  private readonly gate: ConnectionRateGate;

  constructor(
    private readonly type: string,
    private readonly name: string,
    private readonly config: StreamListenerConfig,
    ctx: AdapterContext,
    private readonly createServer: (onSocket: (socket: Socket, transport: Partial<TransportInfo>) => void) => Server,
  ) {
    ({ engine: this.engine, log: this.log, gate: this.gate } = listenerEngine(ctx, `${type}:${name}`, config, `listeners.${type}.${name}`));
  }

  /** Connections waiting at `max_conn_rate`, accepted but not yet read. */
  get waiting(): number {
    return this.gate.waiting;
  }

  async start(): Promise<ListenerInfo> {
    const bind = this.config.bind;
    // Started again after stop() (an operator's restart): admit connections again.
    this.gate.reopen();
    const server = this.createServer((socket, extra) => this.accept(socket, extra));
    server.maxConnections = this.config.max_connections;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener_error'));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : bind.port;
    this.info = { type: this.type, name: this.name, host: bind.host, port };
    this.log.info({ host: bind.host, port }, 'listener_started');
    return this.info;
  }

  private accept(socket: Socket, extra: Partial<TransportInfo>): void {
    socket.setNoDelay(true);
    if (this.gate.unlimited) {
      // No `max_conn_rate`: nothing to hold, no listeners to add and remove per connection.
      this.open(socket, extra);
      return;
    }
    const outcome = admitWhenAllowed(
      this.gate,
      socket,
      () => this.open(socket, extra),
      () => socket.destroy(),
    );
    if (outcome === 'held') {
      // EMQX pauses accepting over max_conn_rate: the connection waits, its CONNECT unread.
      this.log.debug({ peer: `${socket.remoteAddress}:${socket.remotePort}`, waiting: this.gate.waiting }, 'max_conn_rate_exceeded');
    } else if (outcome === 'dropped') {
      this.log.warn({ peer: `${socket.remoteAddress}:${socket.remotePort}` }, 'max_conn_rate_backlog_full');
    }
  }

  private open(socket: Socket, extra: Partial<TransportInfo>): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn = new MqttConnection(socket, this.engine, extra.peerCert ? { peer, peerCert: extra.peerCert } : { peer }, this.forget);
    this.connections.add(conn);
  }

  /** A connection's stream closed (one function for all, not a listener per socket). */
  private readonly forget = (conn: MqttConnection): void => {
    this.connections.delete(conn);
  };

  async stop(drainMs = 5000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.gate.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of this.connections) c.closeBy('server_shutdown');
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref());
    await Promise.race([closed, deadline]);
    this.log.info({}, 'listener_stopped');
  }
}
