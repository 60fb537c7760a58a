import { JunctionError, type MessageProperties, type PublishOptions, type PublishOutcome, type PublishRequest } from '@junction/broker-core';
import type { IPubackPacket, IPubcompPacket, IPublishPacket, IPubrecPacket, IPubrelPacket, Packet } from 'mqtt-packet';
import { RC, reasonCodeFor } from '../../reason-codes.js';
import { AckOrder } from '../ack-order.js';
import type { MqttConnection } from '../connection.js';

/** PUBLISH from the client (§3.3): QoS 0 stays synchronous unless authorization is async. */
export function handlePublish(c: MqttConnection, p: IPublishPacket): void | Promise<void> {
  const h = c.handle!;
  const props = p.properties;
  let topic = p.topic;
  if (c.version === 5) {
    if (props?.subscriptionIdentifier !== undefined) {
      // [MQTT-3.3.4-6] a client must not send a Subscription Identifier.
      return c.protocolError('subscription identifier in PUBLISH');
    }
    const resolved = c.inAliases ? c.inAliases.resolve(topic, props?.topicAlias) : props?.topicAlias !== undefined ? RC.TOPIC_ALIAS_INVALID : topic;
    if (typeof resolved === 'number') return c.protocolError('topic alias misuse', resolved);
    topic = resolved;
  }
  if (p.qos > c.ctx.options.max_qos_allowed) return c.protocolError('QoS not supported', RC.QOS_NOT_SUPPORTED);
  if (p.retain && !c.ctx.broker.features.retainAvailable) return c.protocolError('retain not supported', RC.RETAIN_NOT_SUPPORTED);
  const req: PublishRequest = {
    topic: c.ctx.topics.mount(topic, c),
    payload: typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload,
    qos: p.qos,
    retain: p.retain,
    properties: c.version === 5 && props ? toMessageProperties(props) : undefined,
    packetId: p.qos === 2 ? p.messageId : undefined,
  };
  let r: PublishOutcome | Promise<PublishOutcome>;
  try {
    r = h.publish(req, PIPELINE);
  } catch (err) {
    return rejected(c, p, err);
  }
  if (r instanceof Promise) return r.then((o) => acknowledge(c, p, o), (err) => rejected(c, p, err));
  acknowledge(c, p, r);
}

/** Routed, then acknowledged once durable: the connection reads on meanwhile. */
const PIPELINE: PublishOptions = { pipeline: true };

function acknowledge(c: MqttConnection, p: IPublishPacket, o: PublishOutcome): void {
  if (p.qos === 0) return;
  // EMQX answers 0x10 when nobody subscribed; a repeated QoS 2 PUBLISH gets its PUBREC again.
  const reasonCode = c.version === 5 && o.matched === 0 && !o.duplicate ? RC.NO_MATCHING_SUBSCRIBERS : RC.SUCCESS;
  sendAck(c, { cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId, reasonCode } as Packet, o.durable);
}

/** An acknowledgement, in order behind any that wait for the store. */
function sendAck(c: MqttConnection, packet: Packet, durable?: Promise<void>): void {
  if (durable === undefined && c.acks === undefined) {
    c.send(packet);
    return;
  }
  (c.acks ??= new AckOrder()).add((failure) => (failure === undefined ? void c.send(packet) : notSafe(c, packet as IPubackPacket | IPubrecPacket, failure)), durable);
}

/**
 * The message was routed but could not be made safe (the cluster could neither reach the node of
 * a persistent session it is for nor park it for that session): MQTT 5 answers 0x80, MQTT 3.1.1
 * has no negative acknowledgement, so the connection closes and the client sends it again. A
 * QoS 2 packet id is released first, so that the new attempt is not taken for a repeat.
 */
function notSafe(c: MqttConnection, packet: IPubackPacket | IPubrecPacket, failure: unknown): void {
  const code = failure instanceof JunctionError ? failure.code : 'server_unavailable';
  c.log.warn({ clientId: c.clientId, packetId: packet.messageId, code }, 'publish_not_acknowledged');
  if (packet.cmd === 'pubrec') c.handle?.release(packet.messageId!);
  if (c.version === 5) {
    const properties = c.problemInfo && failure instanceof Error ? { reasonString: failure.message } : undefined;
    c.send({ ...packet, reasonCode: RC.UNSPECIFIED, ...(properties && { properties }) } as Packet);
  } else {
    c.destroy(code);
  }
}

function rejected(c: MqttConnection, p: IPublishPacket, err: unknown): void {
  if (!(err instanceof JunctionError)) throw err;
  const code = reasonCodeFor(err.code);
  switch (err.code) {
    case 'topic_name_invalid':
      // [MQTT-3.3.2-2] wildcards in a topic name: malformed packet.
      return c.protocolError(err.message, RC.TOPIC_NAME_INVALID);
    case 'receive_maximum_exceeded':
      return c.protocolError(err.message, RC.RECEIVE_MAXIMUM_EXCEEDED);
    case 'session_closed':
      return;
  }
  c.log.debug({ clientId: c.clientId, topic: p.topic, code: err.code }, 'publish_rejected');
  if (p.qos === 0) return;
  if (c.version === 5) {
    const properties = c.problemInfo ? { reasonString: err.message } : undefined;
    sendAck(c, { cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId, reasonCode: code, properties } as Packet);
  } else if (err.code === 'not_authorized') {
    // MQTT 3.1.1 has no negative acknowledgement: acknowledge and drop, as EMQX does.
    sendAck(c, { cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: p.messageId } as Packet);
  } else {
    c.destroy(err.code);
  }
}

function toMessageProperties(p: NonNullable<IPublishPacket['properties']>): MessageProperties | undefined {
  const m: MessageProperties = {};
  let any = false;
  if (p.payloadFormatIndicator !== undefined) (m.payloadFormatIndicator = p.payloadFormatIndicator), (any = true);
  if (p.messageExpiryInterval !== undefined) (m.messageExpiryInterval = p.messageExpiryInterval), (any = true);
  if (p.contentType !== undefined) (m.contentType = p.contentType), (any = true);
  if (p.responseTopic !== undefined) (m.responseTopic = p.responseTopic), (any = true);
  if (p.correlationData !== undefined) (m.correlationData = p.correlationData), (any = true);
  if (p.userProperties !== undefined) (m.userProperties = p.userProperties), (any = true);
  return any ? m : undefined;
}

/** PUBACK (§3.4): QoS 1 delivery acknowledged. */
export function handlePuback(c: MqttConnection, p: IPubackPacket): void {
  c.handle!.ack(p.messageId!, 'puback');
}

/** PUBREC (§3.5): answer PUBREL; 0x92 when the packet id is unknown [MQTT-4.3.3-?]. */
export function handlePubrec(c: MqttConnection, p: IPubrecPacket): void {
  const known = c.handle!.ack(p.messageId!, 'pubrec');
  if (c.version === 5 && (p.reasonCode ?? 0) >= 0x80) {
    // The client refused the message: the exchange ends here.
    c.handle!.ack(p.messageId!, 'pubcomp');
    return;
  }
  c.send({ cmd: 'pubrel', messageId: p.messageId, reasonCode: known ? RC.SUCCESS : RC.PACKET_ID_NOT_FOUND } as Packet);
}

/** PUBREL (§3.6): release the inbound QoS 2 packet id and answer PUBCOMP. */
export function handlePubrel(c: MqttConnection, p: IPubrelPacket): void {
  const known = c.handle!.release(p.messageId!);
  c.send({ cmd: 'pubcomp', messageId: p.messageId, reasonCode: known ? RC.SUCCESS : RC.PACKET_ID_NOT_FOUND } as Packet);
}

/** PUBCOMP (§3.7): QoS 2 delivery complete. */
export function handlePubcomp(c: MqttConnection, p: IPubcompPacket): void {
  c.handle!.ack(p.messageId!, 'pubcomp');
}
