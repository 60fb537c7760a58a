/**
 * A ws or wss listener: its own HTTP(S) server whose upgrade requests on `mqtt_path` go to an
 * MqttWebSocketHandler. Other upgrade paths get 404; plain HTTP requests get 426 on `mqtt_path`
 * and 404 elsewhere.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AdapterContext, ListenerInfo, Logger } from '@junction/broker-core';
import { tlsServerOptions } from '@junction/mqtt';
import type { WsListenerConfig, WssListenerConfig } from '../config.js';
import { MqttWebSocketHandler, refuse } from './handler.js';

export class WebSocketListener {
  readonly handler: MqttWebSocketHandler;
  private server: Server | undefined;
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
      verifyPeer,
      configPath: `listeners.${type}.${name}`,
    });
  }

  get connections(): ReadonlySet<unknown> {
    return this.handler.connections;
  }

  async start(): Promise<ListenerInfo> {
    const { bind } = this.config;
    const onRequest = (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res);
    const server: Server =
      'ssl_options' in this.config
        ? (createHttpsServer({ ...tlsServerOptions(this.config.ssl_options), noDelay: true }, onRequest) as unknown as Server)
        : createHttpServer({ noDelay: true }, onRequest);
    server.maxConnections = this.config.max_connections;
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      if (!this.handler.handleUpgrade(req, socket, head)) refuse(socket, 404);
    });
    if ('ssl_options' in this.config && this.config.ssl_options.verify === 'verify_peer') {
      // A presented certificate that does not verify ends the connection before any HTTP.
      server.on('secureConnection', (s: TLSSocket) => {
        const cert = s.getPeerCertificate();
        if (cert && Object.keys(cert).length > 0 && !s.authorized) s.destroy();
      });
    }
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
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await this.handler.close(drainMs);
    // Every upgraded socket is gone now; a slow plain HTTP request may still hold the server.
    server.closeAllConnections();
    await Promise.race([closed, new Promise<void>((resolve) => setTimeout(resolve, 100).unref())]);
    this.log.info({}, 'listener_stopped');
  }
}
