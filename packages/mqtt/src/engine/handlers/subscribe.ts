import { JunctionError, parseSubscriptionFilter, type Subscription } from '@junction/broker-core';
import type { ISubscribePacket, IUnsubscribePacket, Packet } from 'mqtt-packet';
import { RC, reasonCodeFor } from '../../reason-codes.js';
import type { MqttConnection } from '../connection.js';

/** SUBSCRIBE (§3.8): authorization per filter in the core; SUBACK carries one code per filter. */
export async function handleSubscribe(c: MqttConnection, p: ISubscribePacket): Promise<void> {
  const v5 = c.version === 5;
  const subscriptionId = v5 ? p.properties?.subscriptionIdentifier : undefined;
  if (subscriptionId === 0) return c.protocolError('subscription identifier 0'); // §3.8.2.1.2
  const subs: Subscription[] = [];
  for (const s of p.subscriptions) {
    if (v5 && s.nl && parseSubscriptionFilter(s.topic).group !== undefined && s.topic.startsWith('$share/')) {
      // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
      return c.protocolError('no local on a shared subscription');
    }
    subs.push({
      filter: c.ctx.topics.mount(s.topic, c),
      qos: s.qos,
      noLocal: v5 ? s.nl === true : false,
      retainAsPublished: v5 ? s.rap === true : false,
      retainHandling: v5 ? ((s.rh ?? 0) as 0 | 1 | 2) : 0,
      subscriptionId,
    });
  }
  const results = await c.handle!.subscribe(subs);
  const granted = results.map((r) => {
    if (r.ok) return r.qos;
    c.log.debug({ clientId: c.clientId, code: r.error.code, reason: r.error.message }, 'subscribe_refused');
    return v5 ? reasonCodeFor(r.error.code) : 0x80;
  });
  c.send({ cmd: 'suback', messageId: p.messageId, granted } as Packet);
}

/** UNSUBSCRIBE (§3.10): UNSUBACK with 0x11 for filters that had no subscription (MQTT 5). */
export async function handleUnsubscribe(c: MqttConnection, p: IUnsubscribePacket): Promise<void> {
  const filters = p.unsubscriptions.map((f) => c.ctx.topics.mount(f, c));
  let existed: boolean[];
  try {
    existed = await c.handle!.unsubscribe(filters);
  } catch (err) {
    if (err instanceof JunctionError) return;
    throw err;
  }
  const granted = existed.map((e) => (e ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED));
  c.send({ cmd: 'unsuback', messageId: p.messageId, granted: c.version === 5 ? granted : [] } as Packet);
}
