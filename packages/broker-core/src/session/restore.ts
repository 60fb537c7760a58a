import type { Delivery } from '../contract.js';
import type { ClientInfo } from '../hooks.js';
import type { StoredDelivery, StoredSession } from '../store/session-store.js';
import { Session } from './session.js';

/**
 * Rebuild an offline session from the store after a restart: subscriptions (the caller indexes
 * them), deliveries in flight (resent with DUP when the client comes back), queued messages, and
 * inbound QoS 2 packet ids awaiting PUBREL.
 */
export function rebuildSession(stored: StoredSession, deliveries: StoredDelivery[], awaitingRel: Map<number, number>, node: string): Session {
  const client: ClientInfo = { clientId: stored.clientId, protocol: 'unknown', peer: '' };
  const s = new Session(stored.clientId, client);
  s.expiryInterval = stored.expiryInterval;
  s.stored = true;
  let lastId = 0;
  for (const d of deliveries) {
    if (d.packetId !== undefined) {
      const delivery: Delivery = { message: d.message, qos: d.qos, packetId: d.packetId, dup: true, retain: d.retain, subscriptionIds: d.subscriptionIds };
      s.inflight.set(d.packetId, { delivery, released: d.released === true });
      lastId = d.packetId;
    } else {
      s.queue.push({ message: d.message, qos: d.qos, retain: d.retain, subscriptionIds: d.subscriptionIds, ref: { seq: d.seq } });
    }
  }
  s.resumePacketIds(lastId);
  for (const [id, at] of awaitingRel) s.awaitingRel.set(id, at);
  void node;
  return s;
}
