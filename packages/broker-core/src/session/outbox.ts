import type { Clock } from '../clock.js';
import type { BrokerConfig } from '../config.js';
import type { Delivery } from '../contract.js';
import type { DropReason, Hooks } from '../hooks.js';
import type { Message, QoS } from '../message.js';
import type { Metrics } from '../metrics.js';
import type { SessionPersistence, StoredRef } from './persistence.js';
import type { Pending, Session } from './session.js';

const SENT = ['messages.qos0.sent', 'messages.qos1.sent', 'messages.qos2.sent'] as const;

/**
 * The outgoing half of every session, once for all protocols: the inflight window (Receive
 * Maximum), the bounded queue with its drop policy, message expiry, resend after resume, and
 * acknowledgements. Adapters only see `DeliverySink.deliver` and `SessionHandle.ack`.
 */
export class Outbox {
  /** Persistent sessions written to during the current publish (see `takeTouched`). */
  private touched: Session[] = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly hooks: Hooks,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly persist?: SessionPersistence,
  ) {}

  /** The store writer for a persistent session, else undefined. */
  private storeOf(s: Session): SessionPersistence | undefined {
    if (this.persist === undefined || s.expiryInterval === 0) return undefined;
    if (s.routeTouched !== this.touched) {
      s.routeTouched = this.touched;
      this.touched.push(s);
    }
    return this.persist;
  }

  /** The persistent sessions written to since the last call: a QoS 1/2 publish is acknowledged
   * once they are durable. */
  takeTouched(): Session[] {
    const t = this.touched;
    if (t.length > 0) this.touched = [];
    return t;
  }

  /** Route one message to one session; QoS is already the granted one. */
  offer(s: Session, message: Message, qos: QoS, retain: boolean, subscriptionIds: readonly number[] | undefined): void {
    const conn = s.conn;
    if (conn === null) {
      if (qos === 0 && !this.config.mqueue_store_qos0) return this.drop(message, 'session_ended', s);
      return this.enqueue(s, { message, qos, retain, subscriptionIds });
    }
    if (conn.paused || s.queue.length > 0 || (qos > 0 && s.inflight.size >= s.window)) {
      return this.enqueue(s, { message, qos, retain, subscriptionIds });
    }
    this.send(s, message, qos, retain, subscriptionIds, undefined);
  }

  private send(s: Session, message: Message, qos: QoS, retain: boolean, subscriptionIds: readonly number[] | undefined, ref: StoredRef | undefined): void {
    const conn = s.conn!;
    let packetId = 0;
    const d: Delivery = { message, qos, packetId, dup: false, retain, subscriptionIds };
    if (qos > 0) {
      packetId = s.allocatePacketId();
      (d as { packetId: number }).packetId = packetId;
      s.inflight.set(packetId, { delivery: d, released: false });
      this.storeOf(s)?.sent(s, d, packetId, ref);
    } else if (ref) {
      this.storeOf(s)?.discarded(s, ref);
    }
    this.metrics.counters['messages.sent']++;
    this.metrics.counters[SENT[qos]]++;
    let more: boolean;
    try {
      more = conn.sink.deliver(d);
    } catch (err) {
      if (packetId) s.inflight.delete(packetId);
      throw err;
    }
    if (!more) conn.paused = true;
    if (this.hooks.has('message.delivered')) this.hooks.emit('message.delivered', s.client, d);
  }

  private enqueue(s: Session, p: Pending): void {
    if (s.queue.length >= this.config.max_mqueue_len) {
      if (this.config.mqueue_drop_policy === 'drop_newest') return this.drop(p.message, 'queue_full', s);
      const oldest = s.queue.shift()!;
      this.storeOf(s)?.discarded(s, oldest.ref);
      this.drop(oldest.message, 'queue_full', s);
    }
    // Stored: everything queued for an offline session, and QoS 1/2 queued for an online one.
    if (p.qos > 0 || s.conn === null) this.storeOf(s)?.queued(s, p);
    s.queue.push(p);
  }

  /** Send queued messages while the window and the transport allow. */
  drain(s: Session): void {
    const conn = s.conn;
    if (!conn) return;
    const now = this.clock.now();
    while (!conn.paused && s.queue.length > 0) {
      const p = s.queue.peek()!;
      if (p.qos > 0 && s.inflight.size >= s.window) break;
      s.queue.shift();
      if (p.message.expiresAt !== undefined && p.message.expiresAt <= now) {
        this.storeOf(s)?.discarded(s, p.ref);
        this.drop(p.message, 'expired', s);
        continue;
      }
      this.send(s, p.message, p.qos, p.retain, p.subscriptionIds, p.ref);
    }
  }

  /** After a session resumes: resend unacknowledged PUBLISHes with DUP and pending PUBRELs. */
  resend(s: Session): void {
    const conn = s.conn!;
    for (const [packetId, entry] of s.inflight) {
      if (entry.released) {
        conn.sink.resendPubrel(packetId);
      } else {
        const d: Delivery = { ...entry.delivery, dup: true };
        (entry as { delivery: Delivery }).delivery = d;
        this.metrics.counters['messages.sent']++;
        if (!conn.sink.deliver(d)) conn.paused = true;
      }
    }
  }

  /** PUBACK / PUBREC / PUBCOMP. Returns false when the packet id is unknown or out of order. */
  ack(s: Session, packetId: number, kind: 'puback' | 'pubrec' | 'pubcomp'): boolean {
    const entry = s.inflight.get(packetId);
    if (!entry) return false;
    const qos = entry.delivery.qos;
    if (kind === 'puback') {
      if (qos !== 1) return false;
    } else if (kind === 'pubrec') {
      if (qos !== 2) return false;
      entry.released = true;
      this.storeOf(s)?.released(s, packetId);
      return true;
    } else if (qos !== 2 || !entry.released) {
      return false;
    }
    s.inflight.delete(packetId);
    this.storeOf(s)?.completed(s, packetId);
    this.metrics.counters['messages.acked']++;
    if (this.hooks.has('message.acked')) this.hooks.emit('message.acked', s.client, entry.delivery.message);
    this.drain(s);
    return true;
  }

  drop(message: Message, reason: DropReason, s?: Session): void {
    this.metrics.counters['messages.dropped']++;
    this.metrics.counters[`messages.dropped.${reason}`]++;
    if (this.hooks.has('message.dropped')) this.hooks.emit('message.dropped', message, reason, s?.clientId);
  }
}
