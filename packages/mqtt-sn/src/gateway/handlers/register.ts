import { RETURN_CODE, type Regack, type Register } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';
import { isWildcard } from '../topic-registry.js';

/**
 * REGISTER from the client (MQTT-SN 1.2 §6.5): the gateway assigns a topic id for a topic name
 * and answers REGACK. A pre-defined name gets its pre-defined id (as EMQX); wildcards are refused.
 */
export function handleRegister(ch: MqttSnChannel, m: Register): void {
  const refuse = () => ch.send({ type: 'regack', topicId: 0, msgId: m.msgId, returnCode: RETURN_CODE.NOT_SUPPORTED });
  if (m.topicName === '' || isWildcard(m.topicName)) return refuse();
  const topicId = ch.host.predefined.id(m.topicName) ?? ch.registry.register(m.topicName);
  if (topicId === undefined) return refuse();
  ch.send({ type: 'regack', topicId, msgId: m.msgId, returnCode: RETURN_CODE.ACCEPTED });
}

/** REGACK for a REGISTER the gateway sent before a delivery (§6.10). */
export function handleRegack(ch: MqttSnChannel, m: Regack): void {
  ch.out.onRegack(m);
}
