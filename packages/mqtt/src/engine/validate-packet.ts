import type { Packet } from 'mqtt-packet';
import { RC } from '../reason-codes.js';

/**
 * Checks mqtt-packet leaves to the receiver: which properties each packet may carry (§2.2.2.2),
 * properties given twice, packet identifier 0, flags the parser accepts. Returns the reason code
 * of the violation, or 0 when the packet is acceptable.
 */

const props = (...names: string[]) => new Set(names);
const WILL = props('willDelayInterval', 'payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'userProperties');
const ALLOWED: Partial<Record<Packet['cmd'], Set<string>>> = {
  connect: props('sessionExpiryInterval', 'receiveMaximum', 'maximumPacketSize', 'topicAliasMaximum', 'requestResponseInformation', 'requestProblemInformation', 'userProperties', 'authenticationMethod', 'authenticationData'),
  // A client must not send a Subscription Identifier [MQTT-3.3.4-6]: protocol error, checked below.
  publish: props('payloadFormatIndicator', 'messageExpiryInterval', 'topicAlias', 'responseTopic', 'correlationData', 'userProperties', 'contentType', 'subscriptionIdentifier'),
  puback: props('reasonString', 'userProperties'),
  pubrec: props('reasonString', 'userProperties'),
  pubrel: props('reasonString', 'userProperties'),
  pubcomp: props('reasonString', 'userProperties'),
  subscribe: props('subscriptionIdentifier', 'userProperties'),
  unsubscribe: props('userProperties'),
  disconnect: props('sessionExpiryInterval', 'reasonString', 'userProperties', 'serverReference'),
  auth: props('authenticationMethod', 'authenticationData', 'reasonString', 'userProperties'),
};

function checkProps(p: Record<string, unknown> | undefined, allowed: Set<string>): number {
  if (!p) return 0;
  for (const key of Object.keys(p)) {
    if (!allowed.has(key)) return RC.MALFORMED_PACKET;
    // mqtt-packet yields null for a string or binary property cut short by its block.
    const v = p[key];
    if (v === null || (key === 'userProperties' && Object.values(v as object).some((x) => x === null))) return RC.MALFORMED_PACKET;
    // Only User Property may repeat (§2.2.2.2); mqtt-packet turns a repeated one into an array.
    if (key !== 'userProperties' && Array.isArray(p[key])) return RC.PROTOCOL_ERROR;
  }
  return 0;
}

/** True when a string decoded from the wire held ill-formed UTF-8 (decoded as U+FFFD). */
export function hadInvalidUtf8(s: string): boolean {
  return s.includes('\uFFFD');
}

export function validatePacket(p: Packet, version: number): number {
  if (version === 5) {
    const allowed = ALLOWED[p.cmd];
    const bad = allowed ? checkProps((p as { properties?: Record<string, unknown> }).properties, allowed) : 0;
    if (bad) return bad;
  }
  switch (p.cmd) {
    case 'connect':
      if (version === 5 && p.will?.properties && checkProps(p.will.properties as Record<string, unknown>, WILL)) return RC.MALFORMED_PACKET;
      return 0;
    case 'publish':
      // [MQTT-3.3.1-2] DUP must be 0 for QoS 0; [MQTT-2.2.1-3] QoS > 0 needs a non-zero packet id.
      if (p.qos === 0 && p.dup) return RC.MALFORMED_PACKET;
      if (p.qos > 0 && !p.messageId) return RC.MALFORMED_PACKET;
      // [MQTT-1.5.4-1] ill-formed UTF-8 in the topic name.
      if (hadInvalidUtf8(p.topic)) return RC.MALFORMED_PACKET;
      // [MQTT-3.3.2-14] a Response Topic is a topic name: no wildcards.
      if (p.properties?.responseTopic !== undefined && /[+#]/.test(p.properties.responseTopic)) return RC.PROTOCOL_ERROR;
      return 0;
    case 'subscribe':
      if (!p.messageId) return RC.MALFORMED_PACKET;
      // [MQTT-3.8.3-2] at least one topic filter.
      if (p.subscriptions.length === 0) return RC.PROTOCOL_ERROR;
      if (p.subscriptions.some((s) => hadInvalidUtf8(s.topic))) return RC.MALFORMED_PACKET;
      return 0;
    case 'unsubscribe':
      if (!p.messageId) return RC.MALFORMED_PACKET;
      // [MQTT-3.10.3-2] at least one topic filter.
      if (p.unsubscriptions.length === 0) return RC.PROTOCOL_ERROR;
      return 0;
    case 'disconnect':
      // §3.14.2.2.5 Server Reference is sent only by the server.
      if (p.properties?.serverReference !== undefined) return RC.PROTOCOL_ERROR;
      return 0;
    default:
      return 0;
  }
}
