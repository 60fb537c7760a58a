import type { SessionSnapshot } from '../cluster.js';
import type { Delivery } from '../contract.js';
import type { ClientInfo } from '../hooks.js';
import type { StoredDelivery } from '../store/session-store.js';
import { Session } from './session.js';

/**
 * A session's state for another node (cluster takeover): the record and, when asked, its
 * outgoing messages in order: in-flight first (by packet id), then the queue.
 */
export function exportSession(s: Session, withDeliveries: boolean): SessionSnapshot {
  const deliveries: StoredDelivery[] = [];
  if (withDeliveries) {
    let seq = 0;
    for (const [packetId, entry] of s.inflight) {
      const d = entry.delivery;
      deliveries.push({ seq: ++seq, message: d.message, qos: d.qos, retain: d.retain, subscriptionIds: d.subscriptionIds, packetId, released: entry.released || undefined });
    }
    for (const p of s.queue) deliveries.push({ seq: ++seq, message: p.message, qos: p.qos, retain: p.retain, subscriptionIds: p.subscriptionIds });
  }
  return {
    session: { clientId: s.clientId, expiryInterval: s.expiryInterval, subscriptions: [...s.subscriptions.values()].map((x) => x.sub) },
    deliveries,
  };
}

/**
 * A session moved from another node, offline until the connection that claimed it attaches.
 * Subscriptions are indexed by the caller. Messages are held in memory (not in this node's
 * session store, which has no record of them).
 */
export function importSession(snap: SessionSnapshot, client: ClientInfo): Session {
  const s = new Session(snap.session.clientId, client);
  s.expiryInterval = snap.session.expiryInterval;
  let lastId = 0;
  for (const d of snap.deliveries) {
    if (d.packetId !== undefined) {
      const delivery: Delivery = { message: d.message, qos: d.qos, packetId: d.packetId, dup: true, retain: d.retain, subscriptionIds: d.subscriptionIds };
      s.inflight.set(d.packetId, { delivery, released: d.released === true });
      lastId = d.packetId;
    } else {
      s.queue.push({ message: d.message, qos: d.qos, retain: d.retain, subscriptionIds: d.subscriptionIds });
    }
  }
  s.resumePacketIds(lastId);
  return s;
}
