import type { BrokerConfig } from './config.js';
import type { SubscriptionOptions } from './contract.js';
import type { Message, QoS } from './message.js';
import type { Outbox } from './session/outbox.js';
import type { Session } from './session/session.js';
import { SubscriptionIndex, type MatchVisitor, type SharedGroup } from './topic/subscription-index.js';

/** Reused per nesting depth: the sessions one publish reaches and what each gets. */
interface Batch {
  sessions: Session[];
  qos: QoS[];
  retain: boolean[];
  ids: (number[] | undefined)[];
}

/**
 * Publish to delivery: match the topic, merge the matches of each session (one delivery per
 * client, at the highest granted QoS, with every subscription identifier), pick one member per
 * shared group, and hand each delivery to the outbox. Matching uses scratch fields on the
 * sessions and reused arrays, so routing allocates nothing per subscriber beyond the delivery.
 * Re-entrant: a sink may publish from inside `deliver()`; that publish gets its own batch.
 */
export class Router implements MatchVisitor<Session> {
  readonly index = new SubscriptionIndex<Session>();
  private seq = 0;
  private msg!: Message;
  private batch!: Batch;
  private depth = 0;
  private readonly batches: Batch[] = [];
  /** Set when a cluster link is attached: shared groups are served through `routeShared`, by
   * whichever node the cluster picks, so `route` leaves them out. */
  remoteShared = false;

  constructor(
    private readonly config: BrokerConfig,
    private readonly outbox: Outbox,
    private readonly onSinkError: (clientId: string, err: unknown) => void,
  ) {}

  /** Deliver `msg` to its subscribers; `persistent`, if given, gets the client ids of the
   * persistent sessions (expiry > 0) among them. */
  route(msg: Message, persistent?: string[]): number {
    const batch = (this.batches[this.depth] ??= { sessions: [], qos: [], retain: [], ids: [] });
    this.depth++;
    this.msg = msg;
    this.batch = batch;
    this.seq = (this.seq + 1) | 0;
    this.index.match(msg.topic, this);
    const { sessions, qos, retain, ids } = batch;
    const n = sessions.length;
    // Settle each session's share before delivering: a nested publish reuses the scratch fields.
    for (let i = 0; i < n; i++) {
      const s = sessions[i]!;
      let q = s.routeQos;
      if (this.config.upgrade_qos) q = Math.max(q, msg.qos) as QoS;
      else if (msg.qos < q) q = msg.qos;
      qos[i] = q;
      // [MQTT-3.3.1-12/13] RETAIN is kept only for retain-as-published subscriptions.
      retain[i] = msg.retain && s.routeRetain;
      ids[i] = s.routeIds;
      if (persistent !== undefined && s.expiryInterval !== 0) persistent.push(s.clientId);
    }
    try {
      for (let i = 0; i < n; i++) {
        try {
          this.outbox.offer(sessions[i]!, msg, qos[i]!, retain[i]!, ids[i]);
        } catch (err) {
          // One failing sink never costs the other subscribers their delivery.
          this.onSinkError(sessions[i]!.clientId, err);
        }
      }
    } finally {
      sessions.length = 0;
      ids.length = 0;
      this.depth--;
    }
    return n;
  }

  sub(s: Session, o: SubscriptionOptions): void {
    // [MQTT-3.8.3-3] no local: do not send a client its own messages.
    if (o.noLocal && s.clientId === this.msg.from.clientId) return;
    this.add(s, o);
  }

  shared(g: SharedGroup<Session>): void {
    if (this.remoteShared) return;
    const s = this.pick(g);
    if (s) this.add(s, g.options.get(s)!);
  }

  /** Deliver to one member of the shared group `group` on the plain `filter` (cluster mode);
   * returns false when this node has no such group. */
  routeShared(msg: Message, filter: string, group: string): boolean {
    const g = this.index.sharedGroup(filter, group);
    if (!g) return false;
    const outer = this.msg;
    this.msg = msg;
    const s = this.pick(g);
    this.msg = outer;
    if (!s) return false;
    const o = g.options.get(s)!;
    const qos = (this.config.upgrade_qos ? Math.max(o.qos, msg.qos) : Math.min(o.qos, msg.qos)) as QoS;
    try {
      this.outbox.offer(s, msg, qos, msg.retain && o.retainAsPublished === true, o.subscriptionId ? [o.subscriptionId] : undefined);
    } catch (err) {
      this.onSinkError(s.clientId, err);
    }
    return true;
  }

  private add(s: Session, o: SubscriptionOptions): void {
    if (s.routeSeq !== this.seq) {
      s.routeSeq = this.seq;
      s.routeQos = o.qos;
      s.routeRetain = o.retainAsPublished === true;
      s.routeIds = o.subscriptionId ? [o.subscriptionId] : undefined;
      this.batch.sessions.push(s);
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
