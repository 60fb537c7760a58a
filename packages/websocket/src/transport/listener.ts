/**
 * A ws or wss listener: its own HTTP(S) server whose upgrade requests on `mqtt_path` go to an
 * MqttWebSocketHandler. Other upgrade paths get 404; plain HTTP requests get 426 on `mqtt_path`
 * and 404 elsewhere.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { AdapterContext, ListenerInfo, Logger } from '@junction/broker-core';
import { TlsContextManager, type PeerCheck } from '@junction/tls';
import type { WsListenerConfig, WssListenerConfig } from '../config.js';
import { MqttWebSocketHandler, refuse } from './handler.js';

export class WebSocketListener {
  readonly handler: MqttWebSocketHandler;
  private server: Server | undefined;
  private tls: TlsContextManager | undefined;
  private readonly log: Logger;

  constructor(
    readonly type: 'ws' | 'wss',
    readonly name: string,
    private readonly config: WsListenerConfig | WssListenerConfig,
    ctx: AdapterContext,
  ) {
    const listener = `${type}:${name}`;
    this.log = ctx.log.child({ listener });
    const verifyPeer = 'ssl_options' in config && config.ssl_options.verify === 'verify_peer';
    this.handler = new MqttWebSocketHandler(ctx, {
      listener,
      websocket: config.websocket,
      mountpoint: config.mountpoint,
      max_connections: config.max_connections,
      max_conn_rate: config.max_conn_rate,
      messages_rate: config.messages_rate,
      bytes_rate: config.bytes_rate,
      verifyPeer,
      configPath: `listeners.${type}.${name}`,
    });
  }

  get connections(): ReadonlySet<unknown> {
    return this.handler.connections;
  }

  async start(): Promise<ListenerInfo> {
    const { bind } = this.config;
    // Started again after stop() (an operator's restart): accept handshakes again.
    this.handler.reopen();
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res);
    // wss: @junction/tls checks each client certificate (CA, depth, CRL) right after the
    // handshake; an upgrade waits for that check, a refused client is disconnected.
    const checks = new WeakMap<object, Promise<PeerCheck>>();
    let server: Server;
    if ('ssl_options' in this.config) {
      const tls = (this.tls = new TlsContextManager(this.config.ssl_options, { log: this.log }));
      server = createHttpsServer({ ...tls.serverOptions(), noDelay: true }, onRequest) as unknown as Server;
      tls.attach(server as unknown as TlsServer);
      server.on('secureConnection', (s: TLSSocket) => {
        const check = tls.checkPeer(s).then((r) => {
          if (!r.ok) {
            this.log.info({ peer: `${s.remoteAddress}:${s.remotePort}`, reason: r.reason, detail: r.detail }, 'tls_peer_refused');
            s.destroy();
          }
          return r;
        });
        checks.set(s, check);
      });
    } else {
      server = createHttpServer({ noDelay: true }, onRequest);
    }
    server.maxConnections = this.config.max_connections;
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      const upgrade = () => {
        if (!this.handler.handleUpgrade(req, socket, head)) refuse(socket, 404);
      };
      const check = checks.get(req.socket);
      if (!check) return upgrade();
      void check.then((r) => {
        if (r.ok && !socket.destroyed) upgrade();
      });
    });
    // Malformed HTTP: answer 400 when the socket still can be written to, as Node would.
    server.on('clientError', (_err, socket) => {
      if (!socket.writable) return socket.destroy();
      socket.once('finish', () => socket.destroy());
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bind.port, bind.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener_error'));
    this.server = server;
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : bind.port;
    this.log.info({ host: bind.host, port, path: this.handler.options.mqtt_path }, 'listener_started');
    return { type: this.type, name: this.name, host: bind.host, port };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const status = this.handler.matches(req) ? 426 : 404;
    const body = `${STATUS_CODES[status]}\n`;
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), ...(status === 426 ? { Upgrade: 'websocket' } : {}) });
    res.end(body);
  }

  /** Stop accepting, tell clients the server is going away, drain. Idempotent. */
  async stop(drainMs = 5000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.tls?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await this.handler.close(drainMs);
    // Every upgraded socket is gone now; a slow plain HTTP request may still hold the server.
    server.closeAllConnections();
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 100).unref())]);
    this.log.info({}, 'listener_stopped');
  }
}
