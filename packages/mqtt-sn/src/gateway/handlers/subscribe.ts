import { RETURN_CODE, type Subscribe, type Unsubscribe } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';
import { returnCodeFor } from '../return-codes.js';
import { isWildcard } from '../topic-registry.js';

/**
 * SUBSCRIBE (MQTT-SN 1.2 §6.9) by topic name (wildcards allowed), pre-defined id or short name.
 * A name without wildcards gets a topic id in SUBACK, used by the gateway's PUBLISHes; for a
 * wildcard name or a short name the TopicId is 0, and the gateway registers each matching topic
 * before its first PUBLISH (§6.10). Authorization is the core's, per filter.
 */
export async function handleSubscribe(ch: MqttSnChannel, m: Subscribe): Promise<void> {
  const refuse = (returnCode: number, topicId = 0) => ch.send({ type: 'suback', qos: 0, topicId, msgId: m.msgId, returnCode });
  if (m.qos === -1) return refuse(RETURN_CODE.NOT_SUPPORTED);
  let name: string;
  let topicId = 0;
  switch (m.topic.kind) {
    case 'name': {
      name = m.topic.name;
      if (name === '') return refuse(RETURN_CODE.NOT_SUPPORTED);
      if (!isWildcard(name)) {
        const id = ch.host.predefined.id(name) ?? ch.registry.register(name);
        if (id === undefined) return refuse(RETURN_CODE.EXCEED_LIMITATION);
        topicId = id;
      }
      break;
    }
    case 'predefined': {
      const known = ch.host.predefined.topic(m.topic.id);
      if (known === undefined) return refuse(RETURN_CODE.INVALID_TOPIC_ID, m.topic.id);
      name = known;
      topicId = m.topic.id;
      break;
    }
    case 'short':
      name = m.topic.name;
      break;
  }
  let result;
  try {
    [result] = await ch.handle!.subscribe([{ filter: ch.mount(name), qos: m.qos }]);
  } catch {
    return; // the session closed meanwhile
  }
  if (!result || ch.state === 'closed') return;
  if (!result.ok) {
    ch.log.debug({ clientId: ch.clientId, filter: name, code: result.error.code }, 'subscribe_refused');
    return refuse(returnCodeFor(result.error.code));
  }
  ch.memory.subscriptions.set(name, result.qos);
  ch.send({ type: 'suback', qos: result.qos, topicId, msgId: m.msgId, returnCode: RETURN_CODE.ACCEPTED });
}

/** UNSUBSCRIBE (§6.9): answered with UNSUBACK whether or not the subscription existed (as EMQX). */
export async function handleUnsubscribe(ch: MqttSnChannel, m: Unsubscribe): Promise<void> {
  let name: string | undefined;
  switch (m.topic.kind) {
    case 'name':
    case 'short':
      name = m.topic.name;
      break;
    case 'predefined':
      name = ch.host.predefined.topic(m.topic.id);
      break;
  }
  if (name !== undefined && name !== '') {
    try {
      await ch.handle!.unsubscribe([ch.mount(name)]);
    } catch {
      return;
    }
    ch.memory.subscriptions.delete(name);
  }
  if (ch.state !== 'closed') ch.send({ type: 'unsuback', msgId: m.msgId });
}
