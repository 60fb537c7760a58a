import type { BrokerConfig } from './config.js';
import type { SubscriptionOptions } from './contract.js';
import type { Message, QoS } from './message.js';
import type { Outbox } from './session/outbox.js';
import type { Session } from './session/session.js';
import { SubscriptionIndex, type MatchVisitor, type SharedGroup } from './topic/subscription-index.js';

/**
 * Publish to delivery: match the topic, merge the matches of each session (one delivery per
 * client, at the highest granted QoS, with every subscription identifier), pick one member per
 * shared group, and hand each delivery to the outbox. Scratch state lives on the sessions and in
 * one reused array, so routing allocates nothing per subscriber beyond the delivery itself.
 */
export class Router implements MatchVisitor<Session> {
  readonly index = new SubscriptionIndex<Session>();
  private seq = 0;
  private msg!: Message;
  private readonly targets: Session[] = [];

  constructor(
    private readonly config: BrokerConfig,
    private readonly outbox: Outbox,
    private readonly onSinkError: (clientId: string, err: unknown) => void,
  ) {}

  route(msg: Message): number {
    this.msg = msg;
    this.seq = (this.seq + 1) | 0;
    const targets = this.targets;
    this.index.match(msg.topic, this);
    const n = targets.length;
    try {
      for (let i = 0; i < n; i++) {
        const s = targets[i]!;
        let qos = s.routeQos;
        if (this.config.upgrade_qos) qos = Math.max(qos, msg.qos) as QoS;
        else if (msg.qos < qos) qos = msg.qos;
        // [MQTT-3.3.1-12/13] RETAIN is kept only for retain-as-published subscriptions.
        try {
          this.outbox.offer(s, msg, qos, msg.retain && s.routeRetain, s.routeIds);
        } catch (err) {
          // One failing sink never costs the other subscribers their delivery.
          this.onSinkError(s.clientId, err);
        }
      }
    } finally {
      targets.length = 0;
    }
    return n;
  }

  sub(s: Session, o: SubscriptionOptions): void {
    // [MQTT-3.8.3-3] no local: do not send a client its own messages.
    if (o.noLocal && s.clientId === this.msg.from.clientId) return;
    this.add(s, o);
  }

  shared(g: SharedGroup<Session>): void {
    const s = this.pick(g);
    if (s) this.add(s, g.options.get(s)!);
  }

  private add(s: Session, o: SubscriptionOptions): void {
    if (s.routeSeq !== this.seq) {
      s.routeSeq = this.seq;
      s.routeQos = o.qos;
      s.routeRetain = o.retainAsPublished === true;
      s.routeIds = o.subscriptionId ? [o.subscriptionId] : undefined;
      this.targets.push(s);
      return;
    }
    // [MQTT-3.3.4-2] overlapping subscriptions: one delivery at the maximum QoS, all identifiers.
    if (o.qos > s.routeQos) s.routeQos = o.qos;
    if (o.retainAsPublished) s.routeRetain = true;
    if (o.subscriptionId) (s.routeIds ??= []).push(o.subscriptionId);
  }

  /** Choose the member of a shared group that receives this message, preferring online ones. */
  private pick(g: SharedGroup<Session>): Session | undefined {
    const m = g.members;
    if (m.length === 0) return undefined;
    if (m.length === 1) return m[0];
    switch (this.config.shared_subscription_strategy) {
      case 'random':
        return this.firstOnline(m, Math.floor(Math.random() * m.length));
      case 'hash_clientid':
        return m[hash(this.msg.from.clientId) % m.length];
      case 'sticky':
        if (g.sticky?.conn) return g.sticky;
        return (g.sticky = this.firstOnline(m, Math.floor(Math.random() * m.length)));
      default: {
        const s = this.firstOnline(m, g.cursor % m.length);
        g.cursor = (m.indexOf(s) + 1) % m.length;
        return s;
      }
    }
  }

  private firstOnline(m: Session[], start: number): Session {
    for (let k = 0; k < m.length; k++) {
      const s = m[(start + k) % m.length]!;
      if (s.conn) return s;
    }
    return m[start]!;
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}
