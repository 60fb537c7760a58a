import { validateTopicName } from '@junction/broker-core';
import { RETURN_CODE, type WillMsgUpd, type WillTopicUpd } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';

/**
 * WILLTOPICUPD (MQTT-SN 1.2 §6.4): change the will topic, QoS and retain flag, keeping the
 * message; an empty one deletes the will. Answered with WILLTOPICRESP.
 */
export function handleWillTopicUpd(ch: MqttSnChannel, m: WillTopicUpd): void {
  if (!m.will) {
    ch.memory.will = undefined;
  } else {
    try {
      validateTopicName(m.will.topic);
    } catch {
      return ch.send({ type: 'willtopicresp', returnCode: RETURN_CODE.NOT_SUPPORTED });
    }
    ch.memory.will = { topic: m.will.topic, qos: m.will.qos, retain: m.will.retain, payload: ch.memory.will?.payload ?? Buffer.alloc(0) };
  }
  ch.send({ type: 'willtopicresp', returnCode: RETURN_CODE.ACCEPTED });
}

/** WILLMSGUPD (§6.4): change the will message. Without a will topic it waits for one. */
export function handleWillMsgUpd(ch: MqttSnChannel, m: WillMsgUpd): void {
  const w = ch.memory.will;
  ch.memory.will = w ? { ...w, payload: m.payload } : { qos: 0, retain: false, payload: m.payload };
  ch.send({ type: 'willmsgresp', returnCode: RETURN_CODE.ACCEPTED });
}
