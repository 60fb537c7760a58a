/**
 * One charge point: its session in the core (client id = charge point id), its subscription to
 * the dnstream topic, the upstream and downstream CALL state, the heartbeat-driven keepalive and
 * its connection events. The transport drives it; it never touches a socket.
 */
import {
  JunctionError,
  SessionClosedError,
  type CloseReason,
  type ConnectInfo,
  type Delivery,
  type DeliverySink,
  type Logger,
  type PublishRequest,
  type SessionHandle,
} from '@junction/broker-core';
import { CALL, callErrorMessage, decodeMessage, encodeMessage, errorCodeFor, MessageFormatError, type OcppMessage } from '../frames.js';
import type { MessageSchemas } from '../schemas.js';
import type { GatewayContext } from './context.js';
import { DnstreamCalls } from './dnstream.js';
import { connectedEvent, disconnectedEvent, type ChargerIdentity } from './events.js';
import type { ChargerOps, ReportReason } from './ops.js';
import type { ChargerPeer, InboundCall } from './peer.js';
import { UpstreamCalls } from './upstream.js';

/** Credentials and TLS identity from the handshake. */
export interface ChargerCredentials {
  password?: Buffer;
  peerCert?: { subject?: string; commonName?: string };
  /** False when the listener has `enable_authn: false`: the authentication chain is skipped. */
  authenticate: boolean;
}

type State = 'opening' | 'attached' | 'closed';

export class Charger implements DeliverySink, ChargerOps {
  readonly schemas: MessageSchemas;
  readonly log: Logger;
  private handle: SessionHandle | undefined;
  private transport: ChargerPeer | undefined;
  private readonly up: UpstreamCalls;
  private readonly down: DnstreamCalls;
  private state: State = 'opening';
  private closeReason: CloseReason | undefined;
  private connectedAt = 0;
  /** Heartbeat interval in force, seconds. */
  private interval: number;

  constructor(
    readonly gw: GatewayContext,
    readonly identity: ChargerIdentity,
  ) {
    this.schemas = gw.schemas[identity.version];
    this.log = gw.log;
    this.interval = gw.settings.defaultHeartbeatInterval;
    this.up = new UpstreamCalls(this);
    this.down = new DnstreamCalls(this);
  }

  get clientId(): string {
    return this.identity.clientId;
  }

  get peer(): ChargerPeer | undefined {
    return this.state === 'attached' ? this.transport : undefined;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Seconds of the heartbeat interval in force. */
  get heartbeatInterval(): number {
    return this.interval;
  }

  /**
   * Opens the session: authentication, bans and takeover in the core, then the dnstream
   * subscription. Throws `JunctionError` when refused; the transport answers the handshake.
   */
  async open(credentials: ChargerCredentials): Promise<void> {
    const { gw, identity } = this;
    const info: ConnectInfo = {
      clientId: identity.clientId,
      username: identity.username,
      password: credentials.password,
      protocol: 'ocpp',
      peer: identity.peer,
      listener: identity.listener,
      cleanStart: true,
      sessionExpiryInterval: 0,
      keepalive: this.interval,
      peerCert: credentials.peerCert,
      authenticated: credentials.authenticate ? undefined : {},
    };
    const handle = await gw.broker.open(info, this);
    if (this.closed) {
      handle.close('connection_lost');
      throw new SessionClosedError();
    }
    this.handle = handle;
    this.applyKeepalive();
    const [sub] = await handle.subscribe([{ filter: gw.topics.dnstream(identity), qos: 1 }]);
    if (this.closed) throw new SessionClosedError();
    if (!sub?.ok) {
      this.finish('not_authorized');
      throw sub?.error ?? new JunctionError('not_authorized', 'subscription refused');
    }
  }

  /** The WebSocket is up: deliveries start and the back end learns the charger is connected. */
  attach(peer: ChargerPeer): boolean {
    if (this.state !== 'opening' || !this.handle) {
      peer.close(this.closeReason ?? 'connection_lost');
      return false;
    }
    this.transport = peer;
    this.state = 'attached';
    this.connectedAt = this.gw.clock.now();
    this.event(connectedEvent(this.identity, this.interval, this.connectedAt));
    this.log.debug({ clientId: this.clientId, peer: this.identity.peer, version: this.identity.version }, 'charger_connected');
    this.handle.ready();
    return true;
  }

  /** A CALL from the charger; resolves with the CALLRESULT payload, rejects with `OcppCallError`. */
  onCall(call: InboundCall): Promise<unknown> {
    return this.up.call(call);
  }

  /** Any OCPP message from the charger counts as a sign of life. */
  touch(): void {
    this.handle?.touch();
  }

  /** The WebSocket closed. */
  transportClosed(reason: CloseReason): void {
    this.finish(reason);
  }

  /** The handshake was abandoned before the WebSocket came up; no-op afterwards. */
  abandon(): void {
    if (this.state === 'opening') this.finish('connection_lost');
  }

  // ---------------------------------------------------------------- DeliverySink

  deliver(d: Delivery): boolean {
    // Handled in a microtask (FIFO, so in order): answering may publish, and the core's router
    // is not re-entrant (a publish from inside deliver() would reach this route's targets).
    queueMicrotask(() => {
      try {
        this.receive(d);
      } catch (err) {
        this.log.error({ clientId: this.clientId, err }, 'delivery_failed');
      }
    });
    return true;
  }

  private receive(d: Delivery): void {
    // The gateway takes responsibility for the message at once; OCPP has its own answers.
    if (d.qos > 0) this.handle?.ack(d.packetId, 'puback');
    if (this.state !== 'attached') return;
    let msg: OcppMessage;
    try {
      msg = decodeMessage(d.message.payload);
    } catch (err) {
      if (!(err instanceof MessageFormatError)) throw err;
      this.gw.counters.dnstream_refused++;
      this.report(err.uniqueId ?? '', undefined, errorCodeFor(this.identity.version, 'FormatViolation'), err.message, 'invalid_message');
      return;
    }
    if (msg.MessageTypeId === CALL) this.down.offer(msg);
    else this.up.answer(msg);
  }

  resendPubrel(): void {
    // Deliveries are at most QoS 1 (the dnstream subscription's QoS).
  }

  closeBy(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.log.info({ clientId: this.clientId, reason }, 'charger_disconnected_by_server');
    this.closeReason = reason;
    this.transport?.close(reason);
    this.finish(reason);
  }

  // ---------------------------------------------------------------- ChargerOps

  async publish(topic: string, message: OcppMessage): Promise<void> {
    const h = this.handle;
    if (!h || h.closed) throw new SessionClosedError();
    const r = h.publish({ topic, payload: encodeMessage(message), qos: 2, retain: false });
    if (r instanceof Promise) await r;
  }

  report(uniqueId: string, action: string | undefined, code: string, description: string, reason: ReportReason, details: Record<string, unknown> = {}): void {
    const topic = this.gw.topics.error(this.identity, action, uniqueId);
    const message = callErrorMessage(uniqueId, code, description, { ...details, source: 'gateway', reason }, action);
    this.asGateway({ topic, payload: encodeMessage(message), qos: 2, retain: false });
  }

  heartbeat(seconds: number): void {
    if (seconds === this.interval) return;
    this.log.debug({ clientId: this.clientId, interval: seconds }, 'heartbeat_interval_changed');
    this.interval = seconds;
    this.applyKeepalive();
  }

  // ---------------------------------------------------------------- internals

  /** The core closes a silent connection after keepalive x its multiplier: silence allowed = interval x backoff. */
  private applyKeepalive(): void {
    const s = this.gw.settings;
    this.handle?.setKeepalive((this.interval * s.heartbeatBackoff) / s.keepaliveMultiplier);
  }

  private finish(reason: CloseReason): void {
    if (this.state === 'closed') return;
    const announced = this.state === 'attached';
    this.state = 'closed';
    this.closeReason ??= reason;
    this.up.abort();
    this.down.abort();
    this.handle?.close(reason);
    if (announced) {
      this.log.debug({ clientId: this.clientId, reason }, 'charger_disconnected');
      this.event(disconnectedEvent(this.identity, reason, this.connectedAt, this.gw.clock.now()));
    }
  }

  private event(body: object): void {
    const topic = this.gw.topics.event(this.identity);
    if (topic) this.asGateway({ topic, payload: Buffer.from(JSON.stringify(body)), qos: 1, retain: true });
  }

  /** Publishes a message the gateway itself states about the charger (no authorization). */
  private asGateway(req: PublishRequest): void {
    const from = { clientId: this.clientId, username: this.identity.username, protocol: 'ocpp', peer: this.identity.peer };
    try {
      const r = this.gw.broker.publish(req, from);
      if (r instanceof Promise) r.catch((err: unknown) => this.log.warn({ clientId: this.clientId, topic: req.topic, err }, 'gateway_publish_failed'));
    } catch (err) {
      this.log.warn({ clientId: this.clientId, topic: req.topic, err }, 'gateway_publish_failed');
    }
  }
}
