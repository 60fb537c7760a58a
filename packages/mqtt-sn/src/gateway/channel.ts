import type { CloseReason, Delivery, DeliverySink, Logger, SessionHandle } from '@junction/broker-core';
import { RETURN_CODE, type Connect, type MessageType, type MqttSnMessage } from '../codec/index.js';
import type { ChannelHost, ClientMemory, Peer, WillData } from './context.js';
import { HANDLERS } from './handlers/index.js';
import { Outbound } from './outbound.js';
import { Retransmitter } from './retransmit.js';
import { TopicRegistry } from './topic-registry.js';

/**
 * Where a client is in its life (MQTT-SN 1.2 §6.2, §6.14): `new` until CONNECT is handled,
 * `will_topic` / `will_msg` during the will dialogue, `opening` while the core authenticates,
 * then `active`, `asleep` or `awake`, and finally `closed`.
 */
export type ChannelState = 'new' | 'will_topic' | 'will_msg' | 'opening' | 'active' | 'asleep' | 'awake' | 'closed';

/** Messages handled before the session exists. */
const CONNECT_PHASE: ReadonlySet<MessageType> = new Set(['connect', 'willtopic', 'willmsg', 'disconnect']);

/** Datagrams kept while an asynchronous step (authentication, authorization) runs. */
const MAX_BACKLOG = 64;

/**
 * One MQTT-SN client of the gateway, from its CONNECT to its end: the per-client state machine.
 * Messages from the client are dispatched, strictly in order, to one handler per message type
 * (`handlers/`); messages to the client leave through the gateway (`send`). It is the core's
 * `DeliverySink` for the client's session.
 */
export class MqttSnChannel implements DeliverySink {
  state: ChannelState = 'new';
  clientId = '';
  username: string | undefined;
  handle: SessionHandle | undefined;
  cleanSession = true;
  /** Keepalive of the active state, seconds (CONNECT Duration). */
  keepalive = 0;
  /** The CONNECT that opened (or is opening) the session. */
  connectMsg: Connect | undefined;
  /** The will being collected during the will dialogue. */
  pendingWill: WillData | undefined;
  /** When the last CONNACK went out: a CONNECT repeated soon after is a retransmission. */
  connackAt = 0;
  /** Topic ids, will and subscriptions; kept by the gateway for CleanSession 0. */
  memory: ClientMemory;
  readonly out: Outbound;
  readonly retransmit: Retransmitter;
  log: Logger;
  private busy = false;
  private readonly backlog: MqttSnMessage[] = [];
  private idleTimer: unknown;

  constructor(
    readonly host: ChannelHost,
    public peer: Peer,
  ) {
    this.log = host.log.child({ peer: peer.key });
    this.memory = { registry: new TopicRegistry(host.predefined), will: undefined, subscriptions: new Map() };
    this.out = new Outbound(this);
    this.retransmit = new Retransmitter(
      host.clock,
      host.options.retryIntervalMs,
      host.options.maxRetries,
      (msg, retry) => {
        if (retry) this.host.count('retransmissions');
        this.send(msg);
      },
      (key) => this.onGiveUp(key),
    );
    this.idleTimer = host.clock.setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.handle) this.end('normal', { reason: 'idle_timeout' });
    }, host.options.idleTimeoutMs);
  }

  get registry(): TopicRegistry {
    return this.memory.registry;
  }

  /** Topic as the client sent it -> topic on the bus. */
  mount(topic: string): string {
    return this.host.topics.mount(topic, this);
  }

  /** Topic on the bus -> topic as the client sees it. */
  unmount(topic: string): string {
    return this.host.topics.unmount(topic, this);
  }

  /** True while the session is open (active, asleep or awake). */
  get connected(): boolean {
    return this.state === 'active' || this.state === 'asleep' || this.state === 'awake';
  }

  // ------------------------------------------------------------------ inbound

  /** One message from the client, handled after those before it. */
  receive(msg: MqttSnMessage): void {
    if (this.state === 'closed') return;
    this.handle?.touch();
    if (this.busy) {
      if (this.backlog.length >= MAX_BACKLOG) return this.host.count('packets.dropped');
      this.backlog.push(msg);
      return;
    }
    this.dispatch(msg);
  }

  private dispatch(msg: MqttSnMessage): void {
    if (!CONNECT_PHASE.has(msg.type) && !this.connected) {
      this.log.debug({ type: msg.type, state: this.state }, 'packet_before_connack');
      return this.host.count('packets.dropped');
    }
    const handler = HANDLERS[msg.type] as (c: MqttSnChannel, m: MqttSnMessage) => void | Promise<void>;
    let r: void | Promise<void>;
    try {
      r = handler(this, msg);
    } catch (err) {
      return this.failed(err);
    }
    if (r instanceof Promise) {
      this.busy = true;
      r.catch((err) => this.failed(err)).finally(() => {
        this.busy = false;
        while (!this.busy && this.state !== 'closed' && this.backlog.length > 0) this.dispatch(this.backlog.shift()!);
      });
    }
  }

  private failed(err: unknown): void {
    this.log.error({ err, clientId: this.clientId }, 'mqttsn_handler_failed');
  }

  // ------------------------------------------------------------------ outbound

  send(msg: MqttSnMessage): void {
    if (this.state !== 'closed' || msg.type === 'disconnect' || msg.type === 'connack') this.host.send(this.peer, msg);
  }

  /** CONNACK with a return code (§5.4.5). */
  connack(returnCode: number): void {
    this.send({ type: 'connack', returnCode });
    if (returnCode === RETURN_CODE.ACCEPTED) this.connackAt = this.host.clock.now();
    else this.host.metrics.counters['client.connack.failure']++;
  }

  // ------------------------------------------------------------------ DeliverySink

  deliver(d: Delivery): boolean {
    return this.out.deliver(d);
  }

  resendPubrel(packetId: number): void {
    this.out.resendPubrel(packetId);
  }

  /** The core ends the connection: takeover, kick, keepalive expiry, shutdown. */
  closeBy(reason: CloseReason): void {
    if (this.state === 'closed') return;
    // A client that reconnects through this gateway (say from a new port) is the same device:
    // its old connection ends without its will.
    const quiet = reason === 'takeover' && this.host.opening.has(this.clientId) && this.host.opening.get(this.clientId) !== this;
    this.log.info({ clientId: this.clientId, reason }, 'client_disconnected_by_server');
    if (reason === 'keepalive_timeout') this.host.count('clients.lost');
    this.end(reason, { notify: true, will: !quiet && reason !== 'normal' });
  }

  // ------------------------------------------------------------------ lifecycle

  /** The session is open: from here on the client is connected (§6.2). */
  attach(handle: SessionHandle): void {
    this.handle = handle;
    this.clientId = handle.clientId;
    this.state = 'active';
    if (this.idleTimer !== undefined) this.host.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.log = this.host.log.child({ peer: this.peer.key, clientId: this.clientId });
    this.host.claim(this);
  }

  /** DISCONNECT with a Duration: the client sleeps; messages for it are held (§6.14). */
  sleep(duration: number): void {
    if (this.state === 'active' || this.state === 'awake') this.log.debug({ duration }, 'client_asleep');
    this.state = 'asleep';
    this.retransmit.pause();
    // A sleeping client not heard from within its sleep duration (x keepalive_multiplier) is lost.
    this.handle!.setKeepalive(duration);
  }

  /** PINGREQ with the client id: deliver what was held, then PINGRESP and back to sleep. */
  wake(): void {
    this.state = 'awake';
    this.retransmit.resume();
    this.out.flush();
    this.checkAwakeDone();
  }

  /** CONNECT from a sleeping client: back to the active state (§6.14). */
  reactivate(duration: number): void {
    this.state = 'active';
    this.keepalive = duration;
    this.handle!.setKeepalive(duration);
    this.connack(RETURN_CODE.ACCEPTED);
    this.retransmit.resume();
    this.out.flush();
  }

  /** While awake: once everything held is delivered and acknowledged, PINGRESP ends it (§6.14). */
  checkAwakeDone(): void {
    if (this.state !== 'awake' || !this.out.idle) return;
    this.send({ type: 'pingresp' });
    this.state = 'asleep';
    this.retransmit.pause();
  }

  /** Nretry retransmissions went unanswered: the client is lost (§6.13). */
  private onGiveUp(key: string): void {
    if (!this.handle) {
      // The will dialogue went unanswered: forget the half-open client.
      return this.end('normal', { reason: 'will_dialogue_timeout' });
    }
    this.log.info({ clientId: this.clientId, key }, 'client_lost_no_reply');
    this.host.count('clients.lost');
    this.end('connection_lost', { notify: true, will: true });
  }

  /**
   * End the channel: optionally tell the client (DISCONNECT), publish the will unless the client
   * ended normally, close the session handle, forget the channel. Idempotent.
   */
  end(reason: CloseReason, opts: { notify?: boolean; will?: boolean; reason?: string } = {}): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (opts.notify) this.send({ type: 'disconnect' });
    if (opts.will ?? reason !== 'normal') this.publishWill();
    if (this.idleTimer !== undefined) this.host.clock.clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.retransmit.clear();
    this.out.clear();
    this.backlog.length = 0;
    const h = this.handle;
    if (h && !h.closed) h.close(reason);
    if (opts.reason) this.log.debug({ clientId: this.clientId, reason: opts.reason }, 'client_dropped');
    this.host.forget(this);
  }

  /** Publish the will as the client, through its session (so authorization applies). */
  private publishWill(): void {
    const w = this.memory.will;
    const h = this.handle;
    if (!w?.topic || !h || h.closed) return;
    try {
      const r = h.publish({ topic: this.mount(w.topic), payload: w.payload, qos: w.qos, retain: w.retain });
      if (r instanceof Promise) r.catch((err) => this.log.warn({ err, clientId: this.clientId }, 'will_publish_failed'));
    } catch (err) {
      this.log.warn({ err, clientId: this.clientId }, 'will_publish_failed');
    }
  }
}
