/**
 * PUBLISH without properties, encoded straight into one Buffer: the bytes mqtt-packet's
 * `generate` produces, without its per-packet writer object, chunk array and concatenation.
 * Most deliveries take this path (MQTT 3.1/3.1.1, and MQTT 5 messages without properties).
 */

/** Largest Remaining Length MQTT can express (§1.5.5). */
const MAX_REMAINING = 268_435_455;

/**
 * Returns undefined when the packet is not for this encoder (a topic longer than 65,535 bytes,
 * a Remaining Length over the limit, a QoS > 0 packet without a packet id): the caller then
 * uses mqtt-packet, which reports those cases.
 */
export function encodePlainPublish(
  topic: string,
  payload: Buffer,
  qos: 0 | 1 | 2,
  dup: boolean,
  retain: boolean,
  packetId: number | undefined,
  v5: boolean,
): Buffer | undefined {
  if (qos > 0 && (typeof packetId !== 'number' || packetId < 0 || packetId > 0xffff)) return undefined;
  const topicLen = Buffer.byteLength(topic);
  if (topicLen > 0xffff) return undefined;
  const remaining = 2 + topicLen + (qos > 0 ? 2 : 0) + (v5 ? 1 : 0) + payload.length;
  if (remaining > MAX_REMAINING) return undefined;
  const lenBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  const buf = Buffer.allocUnsafe(1 + lenBytes + remaining);
  buf[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0);
  let o = 1;
  let x = remaining;
  do {
    let b = x % 128;
    x = (x - b) / 128;
    if (x > 0) b |= 0x80;
    buf[o++] = b;
  } while (x > 0);
  buf[o++] = topicLen >> 8;
  buf[o++] = topicLen & 0xff;
  // Equal lengths: the topic is ASCII, which latin1 writes fastest.
  o += buf.write(topic, o, topicLen === topic.length ? 'latin1' : 'utf8');
  if (qos > 0) {
    buf[o++] = packetId! >> 8;
    buf[o++] = packetId! & 0xff;
  }
  if (v5) buf[o++] = 0; // Property Length 0
  payload.copy(buf, o);
  return buf;
}

const ACK_FIRST_BYTE: Record<string, number> = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 };

/**
 * PUBACK, PUBREC, PUBREL or PUBCOMP without properties, with reason code 0 or 0x10 (No matching
 * subscribers) or none: the bytes mqtt-packet's `generate` produces (MQTT 5: reason code 0 is
 * left out; another one is followed by an empty property block). Undefined for anything else:
 * the caller then uses mqtt-packet.
 */
export function encodePlainAck(packet: { cmd: string; messageId?: number; reasonCode?: number; properties?: object }, version: number): Buffer | undefined {
  const first = ACK_FIRST_BYTE[packet.cmd];
  const id = packet.messageId;
  if (first === undefined || packet.properties !== undefined || typeof id !== 'number' || !(id >= 0 && id <= 0xffff) || id % 1 !== 0) return undefined;
  const rc = packet.reasonCode;
  if (version !== 5 || rc === 0) return fill(Buffer.allocUnsafe(4), first, 2, id);
  if (rc !== undefined && rc !== 0x10) return undefined;
  const buf = fill(Buffer.allocUnsafe(6), first, 4, id);
  buf[4] = rc ?? 0;
  buf[5] = 0; // Property Length 0
  return buf;
}

function fill(buf: Buffer, first: number, remaining: number, id: number): Buffer {
  buf[0] = first;
  buf[1] = remaining;
  buf[2] = id >> 8;
  buf[3] = id & 0xff;
  return buf;
}
