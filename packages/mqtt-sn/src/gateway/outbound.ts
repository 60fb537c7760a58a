import type { Delivery } from '@junction/broker-core';
import { MAX_MESSAGE_LENGTH, RETURN_CODE, type Puback, type Publish, type Pubcomp, type Pubrec, type Regack } from '../codec/index.js';
import type { MqttSnChannel } from './channel.js';

/** A PUBLISH is 7 octets plus the payload, 9 in the three-octet Length form (§5.4.12). */
const MAX_PAYLOAD = MAX_MESSAGE_LENGTH - 9;

interface Held {
  readonly d: Delivery;
  readonly dup: boolean;
}

/**
 * Messages from the bus to one client, the gateway's publish procedure (MQTT-SN 1.2 §6.10):
 * a topic the client knows by a pre-defined id, a registered id or a short name is published at
 * once; any other topic (a wildcard subscription matched it) is first registered with REGISTER,
 * and deliveries wait, in order, until REGACK. While the client sleeps, deliveries are held
 * (§6.14). When anything is held, `deliver` returns false and the core keeps the rest in the
 * session's queue (bounded by `max_mqueue_len`) until `ready()`.
 */
export class Outbound {
  private held: Held[] = [];
  /** The REGISTER awaiting REGACK, at most one at a time. */
  private registering: { topicId: number; topic: string; msgId: number } | undefined;
  /** Registrations to send before anything else (subs_resume, or a client that lost an id). */
  private readonly reregister: { topicId: number; topic: string }[] = [];
  /** Topics the client refused to register: their messages are dropped. */
  private readonly refused = new Set<string>();
  /** QoS 1/2 deliveries sent and not yet acknowledged, by packet id. */
  private readonly sent = new Map<number, Delivery>();
  /** `deliver` returned false: the core waits for `ready()`. */
  private corePaused = false;
  private nextRegisterId = 1;

  constructor(private readonly ch: MqttSnChannel) {}

  /** Nothing held, nothing registering, nothing awaiting acknowledgement. */
  get idle(): boolean {
    return this.held.length === 0 && !this.registering && this.reregister.length === 0 && !this.corePaused && this.ch.retransmit.size === 0;
  }

  private get blocked(): boolean {
    return this.ch.state === 'asleep' || this.held.length > 0 || this.registering !== undefined || this.reregister.length > 0;
  }

  /** DeliverySink.deliver. */
  deliver(d: Delivery): boolean {
    const h: Held = { d, dup: d.dup };
    if (this.blocked || !this.trySend(h)) {
      this.held.push(h);
      this.corePaused = true;
      return false;
    }
    return true;
  }

  /** DeliverySink.resendPubrel, after a session resumed. */
  resendPubrel(packetId: number): void {
    this.ch.retransmit.track(`r:${packetId}`, { type: 'pubrel', msgId: packetId });
  }

  /** Send what was held, as far as registrations allow; then let the core go on. */
  flush(): void {
    if (this.ch.state === 'asleep' || this.ch.state === 'closed' || this.registering) return;
    const next = this.reregister.shift();
    if (next) {
      this.register(next.topic, next.topicId);
      return;
    }
    while (this.held.length > 0) {
      if (!this.trySend(this.held[0]!)) return;
      this.held.shift();
      // A hook run by the core while settling a discarded delivery may have closed the client.
      if ((this.ch.state as string) === 'closed') return;
    }
    if (this.corePaused) {
      this.corePaused = false;
      this.ch.handle?.ready();
    }
    this.ch.checkAwakeDone();
  }

  /** The session just opened: the core waits for `ready()`, given once registrations are done. */
  start(): void {
    this.corePaused = true;
    this.flush();
  }

  /** REGISTER these (already assigned) ids again before delivering anything (subs_resume). */
  registerAgain(entries: { topicId: number; topic: string }[]): void {
    this.reregister.push(...entries);
  }

  /** Sends one delivery; false when its topic must be registered first (REGISTER is on its way). */
  private trySend(h: Held): boolean {
    const { d } = h;
    const topic = this.ch.unmount(d.message.topic);
    if (this.refused.has(topic)) return this.discard(d, 'topic_refused');
    if (d.message.payload.length > MAX_PAYLOAD) return this.discard(d, 'too_large');
    const ref = this.topicRef(topic);
    if (!ref) {
      if (this.register(topic)) return false;
      this.refused.add(topic);
      return this.discard(d, 'no_topic_id');
    }
    const msg: Publish = { type: 'publish', dup: h.dup, qos: d.qos, retain: d.retain, topic: ref, msgId: d.qos === 0 ? 0 : d.packetId, payload: d.message.payload };
    if (d.qos === 0) {
      this.ch.send(msg);
    } else {
      this.sent.set(d.packetId, d);
      this.ch.retransmit.track(`p:${d.packetId}`, msg);
    }
    return true;
  }

  /** How the client knows a topic, if it does (§6.7, §6.10): pre-defined, registered, or short. */
  private topicRef(topic: string): Publish['topic'] | undefined {
    const predefined = this.ch.host.predefined.id(topic);
    if (predefined !== undefined) return { kind: 'predefined', id: predefined };
    const id = this.ch.registry.id(topic);
    if (id !== undefined) return { kind: 'id', id };
    if (Buffer.byteLength(topic) === 2) return { kind: 'short', name: topic };
    return undefined;
  }

  /** REGISTER from the gateway (§6.10), supervised by Tretry/Nretry. False: no id is left. */
  private register(topic: string, knownId?: number): boolean {
    const topicId = knownId ?? this.ch.registry.register(topic);
    if (topicId === undefined) return false;
    const msgId = this.nextRegisterId;
    this.nextRegisterId = msgId === 0xffff ? 1 : msgId + 1;
    this.registering = { topicId, topic, msgId };
    this.ch.retransmit.track(`g:${msgId}`, { type: 'register', topicId, msgId, topicName: topic });
    return true;
  }

  /** REGACK from the client for the gateway's REGISTER (§5.4.11). */
  onRegack(m: Regack): void {
    const r = this.registering;
    if (!r || r.msgId !== m.msgId) return;
    // Congestion: the retransmission timer sends the REGISTER again.
    if (m.returnCode === RETURN_CODE.CONGESTION) return;
    this.ch.retransmit.settle(`g:${m.msgId}`);
    this.registering = undefined;
    if (m.returnCode !== RETURN_CODE.ACCEPTED) {
      this.ch.log.info({ topic: r.topic, returnCode: m.returnCode }, 'register_refused_by_client');
      this.ch.registry.remove(r.topicId);
      this.refused.add(r.topic);
    }
    this.flush();
  }

  /** PUBACK for a QoS 1 delivery, or a rejection of any delivery (§5.4.13). */
  onPuback(m: Puback): void {
    const d = this.sent.get(m.msgId);
    if (m.returnCode === RETURN_CODE.ACCEPTED) {
      this.ch.retransmit.settle(`p:${m.msgId}`);
      this.sent.delete(m.msgId);
      this.ch.handle!.ack(m.msgId, 'puback');
      return this.ch.checkAwakeDone();
    }
    // Congestion: the retransmission timer sends the PUBLISH again.
    if (m.returnCode === RETURN_CODE.CONGESTION || !d) return;
    this.ch.retransmit.settle(`p:${m.msgId}`);
    this.sent.delete(m.msgId);
    const topic = this.ch.unmount(d.message.topic);
    const id = this.ch.registry.id(topic);
    if (m.returnCode === RETURN_CODE.INVALID_TOPIC_ID && id !== undefined) {
      // The client lost the registration (it restarted, say): register again, then resend.
      this.held.unshift({ d, dup: true });
      this.reregister.push({ topicId: id, topic });
      return this.flush();
    }
    this.discard(d, 'refused_by_client');
    this.ch.checkAwakeDone();
  }

  /** PUBREC for a QoS 2 delivery: PUBREL follows, supervised (§6.10). */
  onPubrec(m: Pubrec): void {
    this.ch.retransmit.settle(`p:${m.msgId}`);
    this.sent.delete(m.msgId);
    this.ch.handle!.ack(m.msgId, 'pubrec');
    this.resendPubrel(m.msgId);
  }

  /** PUBCOMP: the QoS 2 delivery is complete. */
  onPubcomp(m: Pubcomp): void {
    if (this.ch.retransmit.settle(`r:${m.msgId}`) === undefined) return;
    this.ch.handle!.ack(m.msgId, 'pubcomp');
    this.ch.checkAwakeDone();
  }

  /** A delivery that cannot reach the client: settle it with the core and count it. */
  private discard(d: Delivery, why: string): true {
    const h = this.ch.handle;
    if (h && d.qos === 1) h.ack(d.packetId, 'puback');
    if (h && d.qos === 2) {
      h.ack(d.packetId, 'pubrec');
      h.ack(d.packetId, 'pubcomp');
    }
    const c = this.ch.host.metrics.counters;
    c['messages.dropped']++;
    if (why === 'too_large') c['messages.dropped.too_large']++;
    this.ch.log.debug({ topic: d.message.topic, why }, 'delivery_dropped');
    return true;
  }

  /** The channel ended: unacknowledged deliveries stay in the session and are resent on resume. */
  clear(): void {
    this.held = [];
    this.registering = undefined;
    this.reregister.length = 0;
    this.sent.clear();
    this.corePaused = false;
  }
}
