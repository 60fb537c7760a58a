/**
 * One OCPP-J listener (ws or wss): an HTTP(S) server of our own whose upgrades go to an ocpp-rpc
 * `RPCServer`. The handshake is checked before ocpp-rpc sees it (path, id, origin, capacity),
 * then in ocpp-rpc's auth callback (subprotocol, Basic credentials, client certificate) the
 * charger's session is opened through `broker.open`; only then is the upgrade answered with 101.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ConfigError, parseRate, type ListenerInfo, type Logger, type Rate } from '@junction/broker-core';
import { Charger } from '../charger/charger.js';
import type { GatewayContext } from '../charger/context.js';
import type { Subprotocol, WsListenerConfig, WssListenerConfig } from '../config.js';
import { versionOf } from '../frames.js';
import { basicCredentials, checkOrigin, identityFromUrl, parseSubprotocols, pickSubprotocol, type Refusal } from './handshake.js';
import { bindCharger } from './peer.js';
import { refusalFor, refuseSocket } from './refusal.js';
import { createRpcServer, type RpcHandshake, type RpcServer, type RpcServerClient } from './rpc.js';
import { ChargerThrottle } from './throttle.js';
import { createWssServer, peerCertificate } from './tls.js';

export type ListenerSpec = { type: 'ws'; name: string; config: WsListenerConfig } | { type: 'wss'; name: string; config: WssListenerConfig };

export class OcppListener {
  /** Chargers whose WebSocket is open. */
  readonly chargers = new Set<Charger>();
  private readonly clients = new Set<RpcServerClient>();
  private readonly supported: Subprotocol[];
  private readonly id: string;
  private readonly log: Logger;
  private server: Server | undefined;
  private rpc: RpcServer | undefined;
  /** Chargers between the HTTP upgrade and the WebSocket. */
  private readonly opening = new Set<Charger>();
  /** `messages_rate` per charger; undefined: no limit. */
  private readonly messagesRate: Rate | undefined;
  /** How many times a charger of this listener was paused by `messages_rate`. */
  ratePauses = 0;

  constructor(
    private readonly spec: ListenerSpec,
    private readonly gw: GatewayContext,
  ) {
    this.id = `${spec.type}:${spec.name}`;
    this.log = gw.log.child({ listener: this.id });
    const path = `gateway.ocpp.listeners.${spec.type}.${spec.name}.websocket`;
    try {
      this.supported = parseSubprotocols(spec.config.websocket.supported_subprotocols);
    } catch (err) {
      throw new ConfigError(`${path}.supported_subprotocols`, (err as Error).message);
    }
    try {
      this.messagesRate = parseRate(spec.config.messages_rate);
    } catch (err) {
      throw new ConfigError(`gateway.ocpp.listeners.${spec.type}.${spec.name}.messages_rate`, (err as Error).message);
    }
  }

  get connections(): number {
    return this.chargers.size;
  }

  async start(): Promise<ListenerInfo> {
    const { config } = this.spec;
    const rpc = createRpcServer({ protocols: this.supported, pingIntervalMs: 0, wssOptions: { maxPayload: config.websocket.max_frame_size } });
    rpc.auth((accept, reject, handshake, signal) => this.authenticate(accept, reject, handshake, signal));
    rpc.on('client', (client: RpcServerClient) => this.onClient(client));
    rpc.on('error', (err: Error) => this.log.error({ err }, 'websocket_server_error'));
    const onRequest = (_req: IncomingMessage, res: ServerResponse) => {
      res.statusCode = 426;
      res.setHeader('Upgrade', 'websocket');
      res.end('OCPP-J charge points connect with a WebSocket upgrade\n');
    };
    const wss = this.spec.type === 'wss' ? createWssServer(this.spec.config.ssl_options, this.log, onRequest) : undefined;
    const server: Server = wss ? (wss.server as unknown as Server) : createHttpServer(onRequest);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      wss ? wss.afterPeerCheck(req, () => this.onUpgrade(req, socket, head)) : this.onUpgrade(req, socket, head),
    );
    server.on('tlsClientError', (err: Error) => this.log.debug({ err: err.message }, 'tls_handshake_failed'));
    this.rpc = rpc;
    this.server = server;
    const { host, port } = config.bind;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.error({ err }, 'listener_error'));
    const addr = server.address();
    const info: ListenerInfo = { type: this.spec.type, name: this.spec.name, host, port: typeof addr === 'object' && addr ? addr.port : port };
    this.log.info({ host, port: info.port, path: config.websocket.path }, 'listener_started');
    return info;
  }

  /** Stop accepting; chargers are closed with `server_shutdown` (1001); idempotent. */
  async stop(drainMs = 5000): Promise<void> {
    const server = this.server;
    const rpc = this.rpc;
    if (!server || !rpc) return;
    this.server = this.rpc = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of [...this.chargers]) c.closeBy('server_shutdown');
    for (const c of [...this.opening]) c.abandon();
    await rpc.close({ code: 1001, reason: 'server_shutdown' }).catch((err: unknown) => this.log.warn({ err }, 'websocket_server_close_failed'));
    server.closeAllConnections();
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref());
    await Promise.race([closed, deadline]);
    for (const client of this.clients) void client.close({ force: true }).catch(() => {});
    this.log.info({}, 'listener_stopped');
  }

  /** Checks made before ocpp-rpc parses anything (its own decoding would throw on a bad id). */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const rpc = this.rpc;
    if (!rpc) return refuseSocket(socket, { status: 503, message: 'shutting down' });
    const ws = this.spec.config.websocket;
    const id = identityFromUrl(req.url, ws.path);
    if (!id.ok) return this.refuse(socket, id, req, undefined);
    const origin = checkOrigin(req.headers, ws);
    if (!origin.ok) return this.refuse(socket, origin, req, id.identity);
    if (this.chargers.size + this.opening.size >= this.spec.config.max_connections) {
      return this.refuse(socket, { status: 503, message: 'too many connections' }, req, id.identity);
    }
    this.gw.metrics.counters['connections.accepted']++;
    rpc.handleUpgrade(req, socket, head).catch((err: unknown) => this.log.error({ err }, 'websocket_upgrade_failed'));
  }

  /** ocpp-rpc's auth callback: subprotocol, credentials, then the session in the core. */
  private async authenticate(
    accept: (session?: unknown, protocol?: string | false) => void,
    reject: (code?: number, message?: string) => void,
    handshake: RpcHandshake,
    signal: AbortSignal,
  ): Promise<void> {
    const ws = this.spec.config.websocket;
    const identity = handshake.identity;
    const refuse = (r: Refusal) => {
      this.gw.metrics.counters['client.connack.failure']++;
      this.log.info({ clientId: identity, peer: handshake.remoteAddress, status: r.status, reason: r.message }, 'charger_refused');
      reject(r.status, r.message);
    };
    const proto = pickSubprotocol(handshake.protocols, this.supported, ws.fail_if_no_subprotocol);
    if (!proto.ok) return refuse(proto);
    const creds = basicCredentials(handshake.headers.authorization, identity);
    if (!creds.ok) return refuse(creds);
    const cert = peerCertificate(handshake.request);
    if (cert === false) return refuse({ status: 401, message: 'the client certificate does not verify' });

    const sock = handshake.request.socket;
    const charger = new Charger(this.gw, {
      clientId: identity,
      username: creds.username,
      version: versionOf(proto.version),
      subprotocol: proto.chosen || '',
      peer: `${sock.remoteAddress ?? handshake.remoteAddress ?? ''}:${sock.remotePort ?? 0}`,
      listener: this.id,
    });
    // Until the WebSocket is up, an aborted upgrade abandons the session (also after accept():
    // ocpp-rpc aborts when the upgrade itself fails).
    const abandon = () => charger.abandon();
    signal.addEventListener('abort', abandon, { once: true });
    this.opening.add(charger);
    try {
      await charger.open({ password: creds.password, peerCert: cert, authenticate: this.spec.config.enable_authn });
    } catch (err) {
      signal.removeEventListener('abort', abandon);
      if (signal.aborted) return;
      return refuse(refusalFor(err));
    } finally {
      this.opening.delete(charger);
    }
    if (signal.aborted || charger.closed) {
      charger.abandon();
      return;
    }
    accept(charger, proto.chosen);
  }

  private onClient(client: RpcServerClient): void {
    const charger = client.session;
    if (!(charger instanceof Charger)) {
      void client.close({ code: 1011, reason: 'no session' }).catch(() => {});
      return;
    }
    this.clients.add(client);
    this.chargers.add(charger);
    client.once('close', () => {
      this.clients.delete(client);
      this.chargers.delete(charger);
    });
    bindCharger(client, charger, this.gw.metrics);
    if (this.messagesRate) this.throttle(client, charger, this.messagesRate);
  }

  /** `messages_rate`: stop reading a charger that sends more than its budget. */
  private throttle(client: RpcServerClient, charger: Charger, rate: Rate): void {
    const t = new ChargerThrottle(rate, client.handshake.request.socket, () => charger.touch(), this.log, charger.clientId);
    client.on('message', ({ outbound }: { outbound: boolean }) => {
      if (outbound) return;
      const before = t.pauses;
      t.received();
      if (t.pauses !== before) this.ratePauses++;
    });
    client.once('close', () => t.stop());
  }

  private refuse(socket: Duplex, r: Refusal, req: IncomingMessage, identity: string | undefined): void {
    this.gw.metrics.counters['client.connack.failure']++;
    this.log.info({ clientId: identity, peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`, url: req.url, status: r.status, reason: r.message }, 'charger_refused');
    refuseSocket(socket, r);
  }
}
