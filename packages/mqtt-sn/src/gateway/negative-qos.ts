import type { AuthzRequest, ClientInfo, Hooks, Metrics } from '@junction/broker-core';
import { RETURN_CODE, type Publish } from '../codec/index.js';
import type { Peer } from './context.js';
import type { MqttSnGateway } from './gateway.js';
import { isWildcard } from './topic-registry.js';

/** The publisher of QoS -1 messages, which have no client behind them (EMQX's name). */
export const NEG_QOS_CLIENT_ID = 'NegQoS-Client';

/**
 * PUBLISH at QoS -1 without a connection (MQTT-SN 1.2 §6.8): only a pre-defined topic id or a
 * short topic name can be used; the message is published at QoS 0 with `NegQoS-Client` as the
 * publisher, after the `client.authorize` hooks (with that client id and the peer address) allow
 * it. Nothing is sent back, except PUBACK "not supported" when `enable_qos3` is off (as EMQX).
 */
export function publishNegativeQos(gw: MqttSnGateway, peer: Peer, m: Publish): void {
  if (!gw.options.enableQos3) {
    const topicId = m.topic.kind === 'short' ? 0 : m.topic.id;
    return gw.send(peer, { type: 'puback', topicId, msgId: m.msgId, returnCode: RETURN_CODE.NOT_SUPPORTED });
  }
  let name: string | undefined;
  if (m.topic.kind === 'predefined') name = gw.predefined.topic(m.topic.id);
  else if (m.topic.kind === 'short' && !isWildcard(m.topic.name)) name = m.topic.name;
  if (name === undefined) {
    gw.log.debug({ peer: peer.key, topic: m.topic }, 'qos_neg1_unknown_topic');
    return gw.count('packets.dropped');
  }
  gw.count('messages.qos_neg1.received');
  const c = gw.metrics.counters;
  c['messages.received']++;
  c['messages.qos0.received']++;
  const client: ClientInfo = { clientId: NEG_QOS_CLIENT_ID, protocol: 'mqtt-sn', peer: peer.address, listener: gw.options.listener };
  const topic = gw.topics.mount(name, client);
  const go = (ok: boolean) => {
    if (!ok) {
      c['messages.dropped']++;
      c['messages.dropped.not_authorized']++;
      return;
    }
    try {
      const r = gw.broker.publish({ topic, payload: m.payload, qos: 0, retain: m.retain }, { clientId: NEG_QOS_CLIENT_ID, protocol: 'mqtt-sn', peer: peer.address });
      if (r instanceof Promise) r.catch((err: unknown) => gw.log.debug({ err, topic }, 'qos_neg1_publish_failed'));
    } catch (err) {
      gw.log.debug({ err, topic }, 'qos_neg1_publish_failed');
    }
  };
  const verdict = authorize(gw.hooks, gw.metrics, { client, action: 'publish', topic, qos: 0, retain: m.retain });
  if (verdict instanceof Promise) verdict.then(go, (err: unknown) => gw.log.warn({ err, topic }, 'qos_neg1_authorize_failed'));
  else go(verdict);
}

/**
 * The `client.authorize` chain for a publisher without a session: the first verdict that is not
 * `ignore` decides; when all ignore, allowed (the core's rule, which it does not export).
 */
function authorize(hooks: Hooks, metrics: Metrics, req: AuthzRequest): boolean | Promise<boolean> {
  const chain = hooks.chain('client.authorize');
  if (chain.length === 0) return true;
  const count = (ok: boolean) => {
    metrics.counters[ok ? 'authorization.allow' : 'authorization.deny']++;
    return ok;
  };
  const run = async (i: number, first: Promise<string>): Promise<boolean> => {
    let r = await first;
    while (r === 'ignore' && ++i < chain.length) r = await chain[i]!(req);
    return r === 'ignore' ? true : count(r === 'allow');
  };
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i]!(req);
    if (r instanceof Promise) return run(i, r);
    if (r !== 'ignore') return count(r === 'allow');
  }
  return true;
}
