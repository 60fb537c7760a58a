import { JunctionError, type PublishOutcome, type PublishRequest } from '@junction/broker-core';
import { RETURN_CODE, type Puback, type Pubcomp, type Publish, type Pubrec, type Pubrel } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';
import { returnCodeFor } from '../return-codes.js';
import { isWildcard } from '../topic-registry.js';

/**
 * PUBLISH from the client (MQTT-SN 1.2 §6.6, §6.7, §6.8): the topic is a registered id, a
 * pre-defined id or a short name. QoS 1 is answered with PUBACK and QoS 2 with PUBREC once the
 * bus accepted the message; a repeated QoS 2 PUBLISH is acknowledged again but routed once (the
 * core tracks the MsgId until PUBREL). QoS -1 from a connected client is published at QoS 0.
 * Refusals are a PUBACK with the reason as ReturnCode, whatever the QoS (§5.4.13).
 */
export function handlePublish(ch: MqttSnChannel, m: Publish): void | Promise<void> {
  const topicId = wireTopicId(m.topic);
  const refuse = (returnCode: number) => ch.send({ type: 'puback', topicId, msgId: m.msgId, returnCode });
  if (m.qos === -1 && !ch.host.options.enableQos3) return refuse(RETURN_CODE.NOT_SUPPORTED);
  const name = topicName(ch, m.topic);
  if (typeof name === 'number') return refuse(name);
  const qos = m.qos === -1 ? 0 : m.qos;
  const req: PublishRequest = { topic: ch.mount(name), payload: m.payload, qos, retain: m.retain, packetId: qos === 2 ? m.msgId : undefined };
  let r: PublishOutcome | Promise<PublishOutcome>;
  try {
    r = ch.handle!.publish(req);
  } catch (err) {
    return rejected(ch, m, topicId, err);
  }
  if (r instanceof Promise) return r.then(() => acknowledge(ch, m, topicId), (err: unknown) => rejected(ch, m, topicId, err));
  acknowledge(ch, m, topicId);
}

/** The topic name a PUBLISH refers to, or the ReturnCode refusing it. */
function topicName(ch: MqttSnChannel, t: Publish['topic']): string | number {
  switch (t.kind) {
    case 'id':
      // Normal ids never collide with pre-defined ones; a client told a pre-defined id in REGACK
      // (it registered a pre-defined name) may publish on it as a normal id.
      return ch.registry.topic(t.id) ?? ch.host.predefined.topic(t.id) ?? RETURN_CODE.INVALID_TOPIC_ID;
    case 'predefined':
      return ch.host.predefined.topic(t.id) ?? RETURN_CODE.INVALID_TOPIC_ID;
    case 'short':
      return isWildcard(t.name) ? RETURN_CODE.NOT_SUPPORTED : t.name;
  }
}

/** The TopicId field of a PUBACK answering `t` (a short name's two octets as an integer). */
export function wireTopicId(t: Publish['topic']): number {
  if (t.kind !== 'short') return t.id;
  const b = Buffer.from(t.name, 'utf8');
  return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
}

function acknowledge(ch: MqttSnChannel, m: Publish, topicId: number): void {
  if (m.qos === 1) ch.send({ type: 'puback', topicId, msgId: m.msgId, returnCode: RETURN_CODE.ACCEPTED });
  else if (m.qos === 2) ch.send({ type: 'pubrec', msgId: m.msgId });
}

function rejected(ch: MqttSnChannel, m: Publish, topicId: number, err: unknown): void {
  if (!(err instanceof JunctionError)) throw err;
  if (err.code === 'session_closed') return;
  ch.log.debug({ clientId: ch.clientId, topicId, code: err.code }, 'publish_rejected');
  ch.send({ type: 'puback', topicId, msgId: m.msgId, returnCode: returnCodeFor(err.code) });
}

/** PUBREL (§5.4.14): release the inbound QoS 2 MsgId and answer PUBCOMP, known or not. */
export function handlePubrel(ch: MqttSnChannel, m: Pubrel): void {
  ch.handle!.release(m.msgId);
  ch.send({ type: 'pubcomp', msgId: m.msgId });
}

export function handlePuback(ch: MqttSnChannel, m: Puback): void {
  ch.out.onPuback(m);
}

export function handlePubrec(ch: MqttSnChannel, m: Pubrec): void {
  ch.out.onPubrec(m);
}

export function handlePubcomp(ch: MqttSnChannel, m: Pubcomp): void {
  ch.out.onPubcomp(m);
}
