import type { SessionSnapshot, StoredDelivery, StoredSession, Subscription } from '@junction/broker-core';
import { decodeFrame, encodeFrame, ORIGIN_BYTES } from './frame.js';

const NO_ORIGIN = Buffer.alloc(ORIGIN_BYTES);

/** One outgoing message of a session on its way between nodes: the message as a base64 frame. */
export interface WireDelivery {
  qos: 0 | 1 | 2;
  retain: boolean;
  subscriptionIds?: number[];
  packetId?: number;
  released?: boolean;
  frame: string;
}

/** A session on its way between nodes (a handover reply). Control plane: JSON, with each
 * message as a base64 frame. */
export interface WireSnapshot {
  session: { clientId: string; expiryInterval: number; subscriptions: Subscription[] };
  deliveries: WireDelivery[];
}

export function snapshotToWire(s: SessionSnapshot): WireSnapshot {
  return {
    session: { clientId: s.session.clientId, expiryInterval: s.session.expiryInterval, subscriptions: [...s.session.subscriptions] },
    deliveries: s.deliveries.map(deliveryToWire),
  };
}

/** Inverse of {@link snapshotToWire}; throws on malformed input. */
export function snapshotFromWire(w: WireSnapshot): SessionSnapshot {
  if (typeof w?.session?.clientId !== 'string' || !Array.isArray(w.session.subscriptions) || !Array.isArray(w.deliveries)) {
    throw new TypeError('malformed session snapshot');
  }
  const session: StoredSession = { clientId: w.session.clientId, expiryInterval: Number(w.session.expiryInterval) >>> 0, subscriptions: w.session.subscriptions };
  return { session, deliveries: deliveriesFromWire(w.deliveries) };
}

export function deliveryToWire(d: StoredDelivery): WireDelivery {
  return {
    qos: d.qos,
    retain: d.retain,
    ...(d.subscriptionIds && { subscriptionIds: [...d.subscriptionIds] }),
    ...(d.packetId !== undefined && { packetId: d.packetId }),
    ...(d.released && { released: true }),
    frame: encodeFrame(d.message, NO_ORIGIN, 0).toString('base64'),
  };
}

/** Inverse of {@link deliveryToWire} for a list, in order (`seq` from 1); throws on malformed input. */
export function deliveriesFromWire(ws: readonly WireDelivery[]): StoredDelivery[] {
  if (!Array.isArray(ws)) throw new TypeError('malformed deliveries');
  return ws.map((d, i) => {
    if (typeof d?.frame !== 'string' || (d.qos !== 0 && d.qos !== 1 && d.qos !== 2)) throw new TypeError('malformed delivery');
    return {
      seq: i + 1,
      message: decodeFrame(Buffer.from(d.frame, 'base64')).message,
      qos: d.qos,
      retain: d.retain === true,
      subscriptionIds: Array.isArray(d.subscriptionIds) ? d.subscriptionIds : undefined,
      packetId: d.packetId,
      released: d.released,
    };
  });
}
