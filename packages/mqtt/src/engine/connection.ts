import type { Duplex } from 'node:stream';
import type { Broker, CloseReason, Delivery, DeliverySink, Logger, Metrics, SessionHandle, TopicMapper } from '@junction/broker-core';
import mqtt, { type IAuthPacket, type IConnectPacket, type Packet } from 'mqtt-packet';
import type { MqttOptions } from '../config.js';
import { disconnectCodeFor, RC } from '../reason-codes.js';
import { ClientLimiter, type ClientLimits } from './client-limiter.js';
import { encodeDelivery } from './encode-delivery.js';
import { encodePlainAck } from './publish-encoder.js';
import { createParser, type ConnectionParser } from './lean-parser.js';
import { leanPacket } from './lean-packets.js';
import { leanBare, leanConnect, leanConnectSize } from './lean-connect.js';
import { validatePacket } from './validate-packet.js';
import { handlers } from './handlers/index.js';
import type { InboundAliases, OutboundAliases } from './topic-alias.js';
import type { AckOrder } from './ack-order.js';

/** Everything a connection needs from its listener. */
export interface EngineContext {
  readonly broker: Broker;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly options: MqttOptions;
  readonly topics: TopicMapper;
  /** e.g. `tcp:default`. */
  readonly listener: string;
  /** Per-client `messages_rate` / `bytes_rate` of the listener; absent: none. */
  readonly limits?: ClientLimits;
}

/** Details of the transport the engine does not learn from the byte stream. */
export interface TransportInfo {
  /** `host:port` of the peer. */
  readonly peer: string;
  readonly peerCert?: { subject?: string; commonName?: string };
}

/**
 * One MQTT client connection over any duplex byte stream (TCP, TLS, WebSocket, QUIC stream).
 * Reads the usual CONNECT and the packets of the publish path by hand (lean-connect.ts,
 * lean-packets.ts) and everything else with mqtt-packet, dispatches to one handler per packet
 * type, and implements the core's DeliverySink. Packets are handled strictly in order: while an
 * asynchronous step runs (CONNECT authentication, SUBSCRIBE authorization), later packets wait in
 * a backlog.
 */
export class MqttConnection implements DeliverySink {
  /** 0 until CONNECT: then 3, 4 or 5. */
  version: 0 | 3 | 4 | 5 = 0;
  handle: SessionHandle | undefined;
  clientId = '';
  username: string | undefined;
  /** Client's Maximum Packet Size (MQTT 5), 0 for none. */
  maxOutgoingPacket = 0;
  inAliases: InboundAliases | undefined;
  /** Created when a QoS 1/2 acknowledgement first has to wait for the durable store. */
  acks: AckOrder | undefined;
  outAliases: OutboundAliases | undefined;
  /** Session expiry requested in CONNECT, for the DISCONNECT rule [MQTT-3.14.2-2]. */
  connectExpiry = 0;
  /** CONNECT seen (possibly still authenticating). */
  connecting = false;
  /** CONNACK sent: from then on errors are reported with DISCONNECT [MQTT-3.2.0-1]. */
  connackSent = false;
  /** MQTT 5 Request Problem Information: false limits Reason Strings [MQTT-3.1.2-29]. */
  problemInfo = true;
  closed = false;
  readonly log: Logger;

  /** The enhanced authentication method of this connection (MQTT 5), if any. */
  authMethod: string | undefined;
  private authWaiter: ((p: IAuthPacket) => void) | undefined;
  /** Made for the first bytes {@link leanConnect} does not take (often never, for an idle client). */
  private parser: ConnectionParser | undefined;
  /** Bytes arrived: from then on only the parser may read a CONNECT. */
  private seen = false;
  /** A CONNECT read without the parser: the parser's settings once it is made (as mqtt-packet's own). */
  private leanConnect: IConnectPacket | undefined;
  private busy = false;
  /** Packets, or protocol errors, that arrived while an asynchronous step ran: kept in order. */
  private backlog: (Packet | Violation)[] | undefined;
  private corked = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private drainListened = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Never changed in place (shared until a packet of another version is generated). */
  private genOpts: { readonly protocolVersion: number } = GEN_V4;
  /** `messages_rate` / `bytes_rate`: undefined when the listener sets neither. */
  readonly limiter: ClientLimiter | undefined;

  constructor(
    readonly stream: Duplex,
    readonly ctx: EngineContext,
    readonly transport: TransportInfo,
    /** Called once when the stream has closed (the listener's bookkeeping). */
    private readonly onGone?: (c: MqttConnection) => void,
  ) {
    this.log = ctx.log;
    this.limiter = ClientLimiter.create(ctx.limits);
    ctx.metrics.counters['connections.accepted']++;
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    // 'drain' is listened to from the first write that fills the buffer (armDrainTimer).
    stream.on('error', (err) => this.log.debug({ err: err.message, peer: transport.peer }, 'socket_error'));
    stream.on('close', () => this.onClose());
    this.idleTimer = setTimeout(idleTimeout, ctx.options.idle_timeout, this);
    this.idleTimer.unref();
  }

  // ------------------------------------------------------------------ inbound

  private onData(chunk: Buffer): void {
    if (reading) return this.read(chunk);
    // Packets written while this chunk is handled go out when it is: one socket write each.
    reading = true;
    try {
      this.read(chunk);
    } finally {
      reading = false;
      for (let i = 0; i < corkedByRead.length; i++) uncork(corkedByRead[i]!);
      corkedByRead.length = 0;
    }
  }

  private read(chunk: Buffer): void {
    if (this.closed) return;
    const c = this.ctx.metrics.counters;
    const bytes = chunk.length;
    c['bytes.received'] += bytes;
    this.handle?.touch();
    let rest: Buffer | undefined = chunk;
    if (!this.seen) {
      this.seen = true;
      // The usual first chunk is one whole plain CONNECT: read without mqtt-packet.
      const connect = leanConnect(chunk);
      if (connect !== undefined) {
        this.leanConnect = connect;
        this.onPacket(connect);
        const size = leanConnectSize(chunk, connect);
        rest = size < bytes && !this.closed ? chunk.subarray(size) : undefined;
      }
    } else if (this.leanConnect !== undefined) {
      // Until anything else comes, an idle client's PINGREQ and its DISCONNECT need no parser.
      const p = leanBare(chunk, this.leanConnect);
      if (p !== undefined) {
        rest = undefined;
        this.onPacket(p);
      }
    }
    if (rest !== undefined && this.version !== 0 && (this.parser === undefined || this.parser.idle())) {
      // Between packets: the publish path's packets are read without the parser.
      let pos = 0;
      const n = rest.length;
      while (pos < n && !this.closed) {
        const p = leanPacket(rest, pos, this.version);
        if (p === undefined) break;
        pos += packetSize(p.length!);
        this.onPacket(p);
      }
      if (pos > 0) rest = pos < n && !this.closed ? rest.subarray(pos) : undefined;
    }
    if (rest !== undefined) {
      const parser = this.parser ?? this.createParser();
      parser.parse(rest);
      // A packet announced larger than we accept is refused before it is buffered whole.
      const pending = (parser as unknown as { packet: { length: number } }).packet.length;
      if (!this.closed && pending >= 0 && packetSize(pending) > this.ctx.options.max_packet_size) {
        this.violation({ code: RC.PACKET_TOO_LARGE, reason: 'packet too large' });
      }
    }
    if (this.limiter !== undefined && !this.closed) this.throttle(this.limiter, bytes);
  }

  private createParser(): ConnectionParser {
    const parser = createParser();
    // mqtt-packet parses what follows a CONNECT with that CONNECT as its settings.
    if (this.leanConnect !== undefined) (parser as unknown as { settings: unknown }).settings = this.leanConnect;
    this.leanConnect = undefined;
    parser.on('packet', (p: Packet) => this.onPacket(p));
    parser.on('error', (err: Error) => this.onParseError(err));
    this.parser = parser;
    return parser;
  }

  /** Over `messages_rate` or `bytes_rate`: stop reading until the budget refills. */
  private throttle(limiter: ClientLimiter, bytes: number): void {
    const wait = limiter.charge(bytes);
    if (wait === 0 || limiter.paused) return;
    this.log.debug({ clientId: this.clientId, peer: this.transport.peer, pause_ms: wait }, 'client_rate_limited');
    this.stream.pause();
    limiter.pause(
      wait,
      // Time spent paused by us is not the client's silence (keepalive).
      () => this.handle?.touch(),
      () => {
        if (!this.closed && !this.busy) this.stream.resume();
      },
    );
  }

  private onPacket(p: Packet): void {
    if (this.closed) return;
    this.ctx.metrics.counters['packets.received']++;
    // [MQTT-3.2.2-15] the limit counts the whole packet, fixed header included.
    if (p.length !== undefined && packetSize(p.length) > this.ctx.options.max_packet_size) {
      return this.violation({ code: RC.PACKET_TOO_LARGE, reason: 'packet too large' });
    }
    if (this.limiter !== undefined && p.cmd === 'publish') this.limiter.publishes++;
    if (p.cmd === 'auth' && this.authWaiter) {
      // An enhanced authentication exchange in progress takes its AUTH packets directly.
      const w = this.authWaiter;
      this.authWaiter = undefined;
      return w(p);
    }
    if (this.busy) {
      const backlog = (this.backlog ??= []);
      backlog.push(p);
      if (backlog.length === 256) this.stream.pause();
      return;
    }
    this.dispatch(p);
  }

  /** A protocol violation found while reading: handled in order after earlier packets. */
  private violation(v: Violation): void {
    if (this.busy) {
      (this.backlog ??= []).push(v);
      this.stream.pause();
      return;
    }
    this.protocolError(v.reason, v.code);
  }

  private dispatch(p: Packet | Violation): void {
    if (!('cmd' in p)) return this.protocolError(p.reason, p.code);
    if (!this.connecting && p.cmd !== 'connect') {
      // [MQTT-3.1.0-1] the first packet must be CONNECT.
      return this.destroy('first_packet_not_connect');
    }
    const invalid = validatePacket(p, p.cmd === 'connect' ? (p.protocolVersion ?? 4) : this.version);
    if (invalid) {
      if (p.cmd === 'connect') this.version = (p.protocolVersion ?? 4) as 3 | 4 | 5;
      return this.protocolError(`invalid ${p.cmd} packet`, invalid);
    }
    const handler = handlers[p.cmd] as ((c: MqttConnection, p: Packet) => void | Promise<void>) | undefined;
    if (!handler) return this.protocolError(`unexpected ${p.cmd} packet`);
    let r: void | Promise<void>;
    try {
      r = handler(this, p);
    } catch (err) {
      return this.internalError(err);
    }
    if (r instanceof Promise) {
      this.busy = true;
      r.then(
        () => this.resumeBacklog(),
        (err: unknown) => {
          try {
            this.internalError(err);
          } finally {
            this.resumeBacklog();
          }
        },
      );
    }
  }

  private resumeBacklog(): void {
    this.busy = false;
    const backlog = this.backlog;
    if (backlog !== undefined) while (!this.busy && !this.closed && backlog.length > 0) this.dispatch(backlog.shift()!);
    if (!this.busy && this.stream.isPaused() && !this.limiter?.paused) this.stream.resume();
  }

  private onParseError(err: Error): void {
    if (this.closed) return;
    if (!this.handle && /protocol version/i.test(err.message)) {
      // [MQTT-3.1.2-2] unsupported protocol level: CONNACK 0x01 and close.
      this.send({ cmd: 'connack', returnCode: 1, sessionPresent: false } as Packet, 4);
      return this.destroy('unsupported_protocol_version');
    }
    this.log.debug({ peer: this.transport.peer, clientId: this.clientId, err: err.message }, 'malformed_packet');
    this.violation({ code: RC.MALFORMED_PACKET, reason: err.message });
  }

  private internalError(err: unknown): void {
    this.log.error({ err, clientId: this.clientId }, 'connection_handler_failed');
    this.disconnect(RC.UNSPECIFIED, 'internal error', 'protocol_error');
  }

  protocolError(message: string, code: number = RC.PROTOCOL_ERROR): void {
    this.log.debug({ clientId: this.clientId, peer: this.transport.peer, reason: message }, 'protocol_error');
    this.disconnect(code, message, 'protocol_error');
  }

  /** The client's next AUTH packet, for an exchange in progress; rejects when the connection ends. */
  nextAuth(timeoutMs: number): Promise<IAuthPacket> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.authWaiter = undefined;
        reject(new Error('authentication exchange timed out'));
      }, timeoutMs);
      t.unref();
      this.authWaiter = (p) => {
        clearTimeout(t);
        resolve(p);
      };
    });
  }

  // ------------------------------------------------------------------ outbound

  /** Encode and write one packet; false when the socket buffer is full. `now`: see {@link write}. */
  send(packet: Packet, version: number = this.version || 4, now = false): boolean {
    if (this.closed) return true;
    // The acknowledgements of the publish path, written without mqtt-packet.
    const ack = encodePlainAck(packet, version);
    if (ack !== undefined) return this.write(ack, now);
    if (this.genOpts.protocolVersion !== version) this.genOpts = { protocolVersion: version };
    let buf = mqtt.generate(packet, this.genOpts);
    const props = (packet as { properties?: { reasonString?: string; userProperties?: unknown } }).properties;
    if (this.maxOutgoingPacket > 0 && buf.length > this.maxOutgoingPacket && props && packet.cmd !== 'publish') {
      // [MQTT-3.1.2-24] leave out the Reason String and User Properties rather than exceed the
      // client's Maximum Packet Size.
      const { reasonString: _r, userProperties: _u, ...rest } = props;
      buf = mqtt.generate({ ...packet, properties: rest } as Packet, this.genOpts);
    }
    return this.write(buf, now);
  }

  /**
   * Write one packet. Packets written in one tick go out in one socket write; `now` writes this
   * one at once unless others wait already (for a CONNACK nothing else follows in its tick).
   */
  write(buf: Buffer, now = false): boolean {
    if (this.closed) return true;
    const c = this.ctx.metrics.counters;
    c['bytes.sent'] += buf.length;
    c['packets.sent']++;
    if (!this.corked && !now) {
      // Batch every packet written while one chunk read is handled, or else in this tick, into
      // one socket write.
      this.corked = true;
      this.stream.cork();
      if (reading) corkedByRead.push(this);
      else process.nextTick(uncork, this);
    }
    return this.stream.write(buf);
  }

  /** DeliverySink: the core hands over one message. */
  deliver(d: Delivery): boolean {
    const buf = encodeDelivery(this, d);
    if (buf === undefined) return true;
    if (this.write(buf)) return true;
    this.armDrainTimer();
    return false;
  }

  resendPubrel(packetId: number): void {
    this.send({ cmd: 'pubrel', messageId: packetId } as Packet);
  }

  closeBy(reason: CloseReason): void {
    if (this.closed) return;
    const code = disconnectCodeFor(reason);
    this.log.info({ clientId: this.clientId, reason }, 'client_disconnected_by_server');
    if (this.version === 5 && this.connackSent && reason !== 'backpressure_timeout') this.send({ cmd: 'disconnect', reasonCode: code } as Packet);
    this.handle?.close(reason);
    this.destroy(reason);
  }

  private armDrainTimer(): void {
    if (this.drainTimer) return;
    if (!this.drainListened) {
      this.drainListened = true;
      this.stream.on('drain', () => this.onDrain());
    }
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      this.log.warn({ clientId: this.clientId }, 'send_timeout');
      this.handle?.close('backpressure_timeout');
      this.destroy('send_timeout', false);
    }, this.ctx.options.send_timeout);
    this.drainTimer.unref();
  }

  private onDrain(): void {
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = undefined;
    this.handle?.ready();
  }

  // ------------------------------------------------------------------ ending

  /**
   * Server-side DISCONNECT (MQTT 5 only) with a reason code, then close. The session is closed
   * with `closeReason` (which decides the will).
   */
  disconnect(code: number, reasonString: string | undefined, closeReason: CloseReason): void {
    if (this.closed) return;
    const properties = reasonString && this.problemInfo ? { reasonString } : undefined;
    if (this.version === 5 && this.connackSent) {
      this.send({ cmd: 'disconnect', reasonCode: asDisconnectCode(code), properties } as Packet);
    } else if (this.version === 5 && this.connecting && CONNACK_CODES.has(code)) {
      // [MQTT-3.2.0-1] no DISCONNECT before CONNACK: refuse in the CONNACK instead.
      this.send({ cmd: 'connack', sessionPresent: false, reasonCode: code, properties } as Packet);
    }
    this.handle?.close(closeReason);
    this.destroy(closeReason);
  }

  /** Close the transport; the session sees `connection_lost` unless closed already. */
  destroy(why: string, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.limiter?.stop();
    this.log.debug({ clientId: this.clientId, peer: this.transport.peer, why }, 'connection_closed');
    if (this.corked) {
      this.corked = false;
      this.stream.uncork();
    }
    const s = this.stream;
    if (flush) {
      s.end();
      // Give the final packet a moment to leave, then make sure the socket is gone.
      setTimeout(() => s.destroy(), 1000).unref();
    } else if (!s.destroyed) {
      setTimeout(() => s.destroy(), 0).unref();
    }
    this.handle?.close('connection_lost');
  }

  private onClose(): void {
    if (!this.closed) this.destroy('socket_closed', false);
    else this.handle?.close('connection_lost');
    this.onGone?.(this);
  }

  clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

/** A protocol violation found by the reader, queued in order with packets. */
interface Violation {
  code: number;
  reason: string;
}

/** CONNACK may carry these reason codes (§3.2.2.2). */
const CONNACK_CODES = new Set([0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f]);

/** DISCONNECT allows fewer codes than CONNACK (§3.14.2.1): map the others to their nearest. */
function asDisconnectCode(code: number): number {
  switch (code) {
    case 0x86: // bad user name or password
    case 0x8c: // bad authentication method
      return 0x87;
    case 0x8a: // banned
      return 0x98;
    case 0x84:
    case 0x85:
    case 0x88:
    case 0x91:
    case 0x92:
      return 0x80;
    default:
      return code;
  }
}

/** Size of a whole packet from its Remaining Length: type byte, length bytes, the rest. */
function packetSize(remaining: number): number {
  return 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4) + remaining;
}

const GEN_V4 = { protocolVersion: 4 } as const;

/** No CONNECT within `idle_timeout` of the connection. */
function idleTimeout(c: MqttConnection): void {
  if (!c.handle) c.destroy('idle_timeout');
}

/** A chunk read is being handled (see `onData`); connections corked meanwhile. */
let reading = false;
const corkedByRead: MqttConnection[] = [];

function uncork(c: MqttConnection): void {
  (c as unknown as { corked: boolean }).corked = false;
  if (!c.closed) c.stream.uncork();
}
