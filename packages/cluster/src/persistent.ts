import { parseSubscriptionFilter, SubscriptionIndex, type Message, type QoS, type SubscriptionOptions } from '@junction/broker-core';
import type { RegistryEntry } from './registry.js';
import type { WireDelivery } from './snapshot-wire.js';

/** One persistent session a message is for: its client id and the delivery it would get. */
export interface SessionTarget {
  readonly clientId: string;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly subscriptionIds?: number[];
}

/** Per node: the persistent sessions it holds that a message is for. */
export type TargetsByNode = Map<string, SessionTarget[]>;

interface Held {
  readonly node: string;
  readonly filters: readonly string[];
  /** Seconds (0xFFFFFFFF: never). */
  readonly expiryInterval: number;
  readonly disconnectedAt: number | undefined;
}

/** A persistent session of the registry: whose, and when it expires once its node is gone. */
export interface HeldSession {
  readonly clientId: string;
  readonly expiryInterval: number;
  readonly disconnectedAt: number | undefined;
}

/**
 * The persistent sessions of the whole cluster, by subscription, as the client registry holds
 * them (followed through a KV watch): which other nodes hold a persistent session that a QoS 1/2
 * message is for, so the publishing node can wait for them to confirm it (see `Confirmations`).
 * Shared subscriptions are left out: NATS gives their copy to a member that is there.
 */
export class PersistentInterest {
  private readonly index = new SubscriptionIndex<string>();
  private readonly held = new Map<string, Held>();

  constructor(private readonly self: string) {}

  /** Sessions known (any node). */
  get size(): number {
    return this.held.size;
  }

  /** The node holding `clientId`'s persistent session, if any. */
  nodeOf(clientId: string): string | undefined {
    return this.held.get(clientId)?.node;
  }

  /** A registry entry changed (undefined: deleted). */
  apply(clientId: string, entry: RegistryEntry | undefined): void {
    const before = this.held.get(clientId);
    if (before) for (const f of before.filters) this.index.remove(f, clientId);
    this.held.delete(clientId);
    const session = entry?.session;
    if (!entry || !session) return;
    const filters: string[] = [];
    for (const sub of session.subscriptions) {
      const { filter, group } = parseSubscriptionFilter(sub.filter);
      if (group !== undefined || sub.qos === 0) continue;
      this.index.add(filter, clientId, sub);
      filters.push(filter);
    }
    this.held.set(clientId, { node: entry.node, filters, expiryInterval: session.expiryInterval, disconnectedAt: session.disconnectedAt });
  }

  /** The persistent sessions the registry gives to `node`. */
  heldBy(node: string): HeldSession[] {
    const out: HeldSession[] = [];
    for (const [clientId, h] of this.held) if (h.node === node) out.push({ clientId, expiryInterval: h.expiryInterval, disconnectedAt: h.disconnectedAt });
    return out;
  }

  /**
   * The other nodes' persistent sessions `msg` (QoS 1/2) is for, with the delivery each gets
   * (QoS the highest of its matching subscriptions', capped by the message's; retain as
   * published; every subscription id); undefined when there are none.
   */
  match(msg: Message): TargetsByNode | undefined {
    if (this.held.size === 0 || msg.qos === 0) return undefined;
    let found: Map<string, { qos: QoS; retain: boolean; ids: number[] | undefined }> | undefined;
    const from = msg.from.clientId;
    this.index.match(msg.topic, {
      sub: (clientId: string, opts: SubscriptionOptions) => {
        if (opts.noLocal && clientId === from) return;
        const h = this.held.get(clientId);
        if (!h || h.node === this.self) return;
        found ??= new Map();
        const qos = Math.min(opts.qos, msg.qos) as QoS;
        const t = found.get(clientId);
        const retain = opts.retainAsPublished === true && msg.retain;
        if (!t) found.set(clientId, { qos, retain, ids: opts.subscriptionId ? [opts.subscriptionId] : undefined });
        else {
          if (qos > t.qos) t.qos = qos;
          t.retain ||= retain;
          if (opts.subscriptionId) (t.ids ??= []).push(opts.subscriptionId);
        }
      },
      shared: () => {},
    });
    if (!found) return undefined;
    const byNode: TargetsByNode = new Map();
    for (const [clientId, t] of found) {
      const node = this.held.get(clientId)!.node;
      let list = byNode.get(node);
      if (!list) byNode.set(node, (list = []));
      list.push({ clientId, qos: t.qos, retain: t.retain, ...(t.ids && { subscriptionIds: t.ids }) });
    }
    return byNode;
  }
}

/** A target's delivery of `frame` (base64 of the message frame) as parked. */
export function parkedDelivery(t: SessionTarget, frame: string): WireDelivery {
  return { qos: t.qos, retain: t.retain, ...(t.subscriptionIds && { subscriptionIds: t.subscriptionIds }), frame };
}
