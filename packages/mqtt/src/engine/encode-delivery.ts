import { remainingExpiry, type Delivery } from '@junction/broker-core';
import mqtt from 'mqtt-packet';
import type { MqttConnection } from './connection.js';
import { encodePlainPublish } from './publish-encoder.js';

type PublishProps = NonNullable<mqtt.IPublishPacket['properties']>;

/**
 * Encode one delivery as a PUBLISH for this client. Returns undefined when the packet exceeds the
 * client's Maximum Packet Size: it is then dropped as if sent [MQTT-3.1.2-25] and acknowledged
 * on the client's behalf so the inflight window moves on.
 */
export function encodeDelivery(c: MqttConnection, d: Delivery): Buffer | undefined {
  const m = d.message;
  const fullTopic = c.ctx.topics.unmount(m.topic, c);
  let topic = fullTopic;
  let newAlias = 0;
  let properties: PublishProps | undefined;
  if (c.version === 5) {
    const p = m.properties;
    if (p !== undefined || d.subscriptionIds !== undefined || c.outAliases !== undefined) {
      properties = {};
      if (p) {
        if (p.payloadFormatIndicator !== undefined) properties.payloadFormatIndicator = p.payloadFormatIndicator;
        if (p.contentType !== undefined) properties.contentType = p.contentType;
        if (p.responseTopic !== undefined) properties.responseTopic = p.responseTopic;
        if (p.correlationData !== undefined) properties.correlationData = p.correlationData;
        if (p.userProperties !== undefined) properties.userProperties = p.userProperties;
      }
      // [MQTT-3.3.2-6] forward the remaining lifetime, not the original interval.
      const left = remainingExpiry(m, Date.now());
      if (left !== undefined) properties.messageExpiryInterval = left;
      if (d.subscriptionIds !== undefined) {
        properties.subscriptionIdentifier = d.subscriptionIds.length === 1 ? d.subscriptionIds[0]! : [...d.subscriptionIds];
      }
      if (c.outAliases !== undefined) {
        const [alias, known] = c.outAliases.lookup(topic);
        if (alias > 0) {
          properties.topicAlias = alias;
          if (known) topic = '';
          else newAlias = alias;
        }
      }
    }
  }
  let buf: Buffer | undefined;
  if (properties === undefined && Buffer.isBuffer(m.payload)) {
    // The common case, without mqtt-packet's generic writer (see publish-encoder.ts).
    buf =
      d.qos === 0
        ? plainQos0(m, topic, d.retain, c.version === 5)
        : encodePlainPublish(topic, m.payload, d.qos, d.dup, d.retain, d.packetId, c.version === 5);
  }
  if (buf === undefined) {
    try {
      buf = mqtt.generate(
        {
          cmd: 'publish',
          topic,
          payload: m.payload,
          qos: d.qos,
          retain: d.retain,
          dup: d.dup,
          messageId: d.qos > 0 ? d.packetId : undefined,
          properties,
        },
        c.version === 5 ? V5 : V4,
      );
    } catch (err) {
      // A message this client cannot be sent never stalls it: drop it as if delivered.
      c.log.warn({ clientId: c.clientId, topic: m.topic, err: (err as Error).message }, 'delivery_encode_failed');
      return dropped(c, d);
    }
  }
  if (c.maxOutgoingPacket > 0 && buf.length > c.maxOutgoingPacket) return dropped(c, d);
  // §3.3.2.3.4 an alias is established only by a PUBLISH that is actually sent.
  if (newAlias > 0) c.outAliases!.commit(fullTopic, newAlias);
  return buf;
}

/**
 * The last plain QoS 0 PUBLISH encoded, and what it was made from: a message routed to many
 * subscribers is encoded once for all that receive the same bytes (same topic as sent, RETAIN
 * flag and MQTT 5 or not), in a row as the router hands it out. Sockets only read the Buffer.
 */
let lastMessage: Delivery['message'] | undefined;
let lastTopic = '';
let lastFlags = 0;
let lastBytes: Buffer | undefined;

function plainQos0(m: Delivery['message'], topic: string, retain: boolean, v5: boolean): Buffer | undefined {
  const flags = (retain ? 1 : 0) | (v5 ? 2 : 0);
  if (m === lastMessage && topic === lastTopic && flags === lastFlags) return lastBytes;
  const bytes = encodePlainPublish(topic, m.payload, 0, false, retain, undefined, v5);
  lastMessage = m;
  lastTopic = topic;
  lastFlags = flags;
  lastBytes = bytes;
  return bytes;
}

function dropped(c: MqttConnection, d: Delivery): undefined {
  c.ctx.metrics.counters['messages.dropped']++;
  c.ctx.metrics.counters['messages.dropped.too_large']++;
  if (d.qos > 0) queueMicrotask(() => settle(c, d));
  return undefined;
}

function settle(c: MqttConnection, d: Delivery): void {
  const h = c.handle;
  if (!h) return;
  if (d.qos === 1) h.ack(d.packetId, 'puback');
  else if (h.ack(d.packetId, 'pubrec')) h.ack(d.packetId, 'pubcomp');
}

const V4 = { protocolVersion: 4 };
const V5 = { protocolVersion: 5 };
