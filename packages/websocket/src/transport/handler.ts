/**
 * The MQTT-over-WebSocket endpoint as an HTTP upgrade handler. It owns no server: the ws/wss
 * listeners drive it from their own HTTP(S) server, and an application can mount it on a server
 * it shares with other WebSocket endpoints (OCPP, the admin API) by path:
 *
 *   server.on('upgrade', (req, socket, head) => {
 *     if (mqtt.handleUpgrade(req, socket, head)) return;
 *     other.handleUpgrade(req, socket, head, ...);
 *   });
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ConnectionRateGate, type AdapterContext, type Logger } from '@junction/broker-core';
import { admitWhenAllowed, defaultMqttOptions, listenerRates, MqttConnection, type EngineContext, type ListenerRates, type MqttOptions } from '@junction/mqtt';
import { peerCertInfo } from '@junction/tls';
import WebSocket, { WebSocketServer } from 'ws';
import { defaultWebsocketOptions, type WebsocketOptions } from '../config.js';
import { resolvePeer, TrustedProxies } from './peer.js';
import { CLOSE, WebSocketStream } from './ws-stream.js';

/**
 * permessage-deflate settings when `compress` is on. Without context takeover ws compresses only
 * messages of at least `threshold` bytes; with it, ws would compress every message, and small
 * MQTT packets (most of them) would each take a round trip through zlib's thread pool.
 */
const DEFLATE = { threshold: 1024, serverNoContextTakeover: true, clientNoContextTakeover: true };

/** How long a close handshake may take before the socket is cut. */
const CLOSE_TIMEOUT_MS = 5000;

/** Smallest frame limit when `max_frame_size` is 0 (derived from mqtt.max_packet_size). */
const MIN_DERIVED_FRAME_SIZE = 64 * 1024;

export interface MqttWebSocketHandlerOptions extends Partial<ListenerRates> {
  /** Listener name for logs, ConnectInfo.listener and metrics, e.g. `ws:default`. */
  readonly listener?: string;
  /** Any subset of the `websocket` options; the rest take their defaults. */
  readonly websocket?: Partial<WebsocketOptions>;
  readonly mountpoint?: string;
  readonly max_connections?: number;
  /**
   * TLS (wss) with verify_peer: a client certificate that was presented must have verified. The
   * verified certificate's identity goes to the core as `peerCert`.
   */
  readonly verifyPeer?: boolean;
  /** Where these options live in the config, for error messages, e.g. `listeners.ws.default`. */
  readonly configPath?: string;
}

/** Counters of refused handshakes, by why. */
export interface HandshakeStats {
  readonly handshakes_refused: number;
}

export class MqttWebSocketHandler {
  /** Open MQTT connections. */
  readonly connections = new Set<MqttConnection>();
  readonly options: WebsocketOptions;
  /** The frame limit in force, in bytes. */
  readonly maxFrameSize: number;
  private readonly sockets = new Set<WebSocket>();
  private wss: WebSocketServer;
  private readonly engine: EngineContext;
  private readonly log: Logger;
  private readonly trusted: TrustedProxies;
  private readonly subprotocols: readonly string[];
  private readonly maxConnections: number;
  private readonly verifyPeer: boolean;
  /** `max_conn_rate`: handshakes over it wait, unanswered, until the rate allows them. */
  private readonly gate: ConnectionRateGate;
  private refused = 0;
  private closing = false;

  /** Throws `ConfigError` for a bad `trusted_proxies` entry. */
  constructor(ctx: AdapterContext, opts: MqttWebSocketHandlerOptions = {}) {
    const listener = opts.listener ?? 'ws:default';
    this.options = { ...defaultWebsocketOptions, ...opts.websocket };
    this.log = ctx.log.child({ listener });
    this.trusted = new TrustedProxies(this.options.trusted_proxies, `${opts.configPath ? `${opts.configPath}.` : ''}websocket.trusted_proxies`);
    this.subprotocols = this.options.supported_subprotocols
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    this.maxConnections = opts.max_connections ?? defaultMaxConnections;
    this.verifyPeer = opts.verifyPeer ?? false;
    const mqtt: MqttOptions = { ...defaultMqttOptions, ...(ctx.section('mqtt') as Partial<MqttOptions> | undefined) };
    const rates = listenerRates(opts, opts.configPath ?? listener);
    this.gate = new ConnectionRateGate(rates.conn);
    this.maxFrameSize = this.options.max_frame_size || Math.max(2 * mqtt.max_packet_size, MIN_DERIVED_FRAME_SIZE);
    this.engine = {
      broker: ctx.broker,
      metrics: ctx.metrics,
      log: this.log,
      options: mqtt,
      topics: ctx.topicMapper(opts.mountpoint || undefined),
      listener,
      limits: rates.client,
    };
    this.wss = this.newServer();
  }

  private newServer(): WebSocketServer {
    return new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: this.maxFrameSize,
      perMessageDeflate: this.options.compress ? DEFLATE : false,
      // Runs after the checks in handleUpgrade, so a match exists whenever protocols were offered.
      handleProtocols: (offered) => this.pickSubprotocol(offered) ?? false,
      // A client that never answers our close frame is cut after this long (ws >= 8.19; not in
      // @types/ws yet).
      ...({ closeTimeout: CLOSE_TIMEOUT_MS } as object),
    });
  }

  /** True when the request's path is this endpoint's (`mqtt_path`), whatever its query string. */
  matches(req: IncomingMessage): boolean {
    return pathOf(req.url) === this.options.mqtt_path;
  }

  /**
   * Handle an HTTP upgrade request. Returns false, touching nothing, when the path is not
   * `mqtt_path` (another handler may take it); otherwise takes the socket: refuses the handshake
   * with an HTTP status (400 bad or missing subprotocol, 403 origin, 503 full or stopping) or
   * upgrades it and starts an MQTT connection over it.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (!this.matches(req)) return false;
    (req.socket as Socket).setNoDelay?.(true);
    const refusal = this.check(req);
    if (refusal) {
      this.refused++;
      this.log.debug({ peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`, status: refusal.status, reason: refusal.reason }, 'websocket_handshake_refused');
      refuse(socket, refusal.status, refusal.reason);
      return true;
    }
    const peerCert = this.peerCertOf(req, socket);
    if (peerCert === false) return true;
    this.admit(socket, () => {
      // A handshake that waited for max_conn_rate meets the limits as they are now.
      if (this.closing || this.sockets.size >= this.maxConnections) {
        this.refused++;
        return refuse(socket, 503, this.closing ? 'server shutting down' : 'too many connections');
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, peerCert));
    });
    return true;
  }

  /** Upgrade now, or, over `max_conn_rate`, once the rate allows (the handshake waits unanswered). */
  private admit(socket: Duplex, upgrade: () => void): void {
    const outcome = admitWhenAllowed(this.gate, socket, upgrade, () => {
      this.refused++;
      refuse(socket, 503, 'too many new connections');
    });
    if (outcome === 'held') {
      this.log.debug({ waiting: this.gate.waiting }, 'max_conn_rate_exceeded');
    } else if (outcome === 'dropped') {
      this.log.warn({}, 'max_conn_rate_backlog_full');
    }
  }

  private check(req: IncomingMessage): { status: number; reason: string } | undefined {
    if (this.closing) return { status: 503, reason: 'server shutting down' };
    if (this.sockets.size >= this.maxConnections) return { status: 503, reason: 'too many connections' };
    const o = this.options;
    if (o.check_origin_enable) {
      const origin = req.headers.origin;
      if (origin === undefined) {
        if (!o.allow_origin_absence) return { status: 403, reason: 'Origin header required' };
      } else if (!o.check_origins.includes(origin)) {
        return { status: 403, reason: 'origin not allowed' };
      }
    }
    const header = req.headers['sec-websocket-protocol'];
    if (header === undefined || header.trim() === '') {
      if (o.fail_if_no_subprotocol) return { status: 400, reason: 'a subprotocol is required (Sec-WebSocket-Protocol: mqtt)' };
    } else if (this.pickSubprotocol(new Set(header.split(',').map((p) => p.trim()))) === undefined) {
      return { status: 400, reason: 'no supported subprotocol offered' };
    }
    return undefined;
  }

  /** The first offered subprotocol we support (EMQX picks in the client's order). */
  private pickSubprotocol(offered: Set<string>): string | undefined {
    for (const p of offered) if (this.subprotocols.includes(p)) return p;
    return undefined;
  }

  /** The verified client certificate's identity; undefined for none; false when refused. */
  private peerCertOf(req: IncomingMessage, socket: Duplex): { subject?: string; commonName?: string } | undefined | false {
    const tls = req.socket as TLSSocket;
    if (!this.verifyPeer || typeof tls.getPeerCertificate !== 'function') return undefined;
    const cert = tls.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return undefined;
    if (!tls.authorized) {
      this.refused++;
      socket.destroy();
      return false;
    }
    return peerCertInfo(cert);
  }

  private accept(ws: WebSocket, req: IncomingMessage, peerCert: { subject?: string; commonName?: string } | undefined): void {
    if (this.closing) {
      ws.close(CLOSE.GOING_AWAY);
      return;
    }
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
    const stream = new WebSocketStream(ws, { piggyback: this.options.mqtt_piggyback });
    const peer = resolvePeer(req, this.trusted, { addressHeader: this.options.proxy_address_header, portHeader: this.options.proxy_port_header });
    const conn = new MqttConnection(stream, this.engine, peerCert ? { peer, peerCert } : { peer });
    this.connections.add(conn);
    stream.once('close', () => this.connections.delete(conn));
  }

  /** Handshakes waiting at `max_conn_rate`, not answered yet. */
  get waiting(): number {
    return this.gate.waiting;
  }

  /** WebSocket connections open or closing: what `max_connections` counts. */
  get socketCount(): number {
    return this.sockets.size;
  }

  stats(): HandshakeStats {
    return { handshakes_refused: this.refused };
  }

  /**
   * Refuse new handshakes, tell every client the server is going away (MQTT 5: DISCONNECT 0x8B,
   * then WebSocket close 1001) and wait up to `drainMs` for the connections to end; any left
   * are cut. Idempotent.
   */
  /** Accept handshakes again after `close()` (a listener restarted by an operator). */
  reopen(): void {
    if (!this.closing) return;
    this.closing = false;
    this.gate.reopen();
    this.wss = this.newServer();
  }

  async close(drainMs = 5000): Promise<void> {
    this.closing = true;
    this.gate.close();
    for (const c of this.connections) {
      (c.stream as WebSocketStream).closeCode = CLOSE.GOING_AWAY;
      c.closeBy('server_shutdown');
    }
    if (this.sockets.size > 0) {
      const gone = new Promise<void>((resolve) => {
        const check = () => {
          if (this.sockets.size === 0) resolve();
        };
        for (const ws of this.sockets) ws.once('close', check);
      });
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, drainMs).unref());
      await Promise.race([gone, deadline]);
    }
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }
}

const defaultMaxConnections = 1_000_000;

/** Answer an upgrade request with an HTTP error and close the socket. */
export function refuse(socket: Duplex, status: number, message = STATUS_CODES[status] ?? ''): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.once('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}
