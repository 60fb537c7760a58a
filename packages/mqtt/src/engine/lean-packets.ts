import type { Packet } from 'mqtt-packet';

/**
 * The packets of the publish path read without mqtt-packet's parser: PUBLISH, PUBACK, PUBREC,
 * PUBREL, PUBCOMP and PINGREQ, whole in one chunk, in the plain forms clients send nearly always
 * (MQTT 5: no properties, acknowledgements without a reason code). The parser allocates and
 * logs (its `debug` calls build argument arrays) per state; this reads the fixed header, the
 * topic and the packet identifier straight from the socket's chunk, the payload stays a view
 * of it (as the parser's is).
 *
 * Anything else, incomplete, or that the parser would refuse, gives undefined: the parser
 * takes the bytes from there on, with exactly its own results and errors. What this reads is
 * what the parser would have produced, field for field.
 */
export function leanPacket(buf: Buffer, pos: number, version: number): Packet | undefined {
  const end = buf.length;
  if (end - pos < 2) return undefined;
  const first = buf[pos]!;
  const type = first >> 4;
  // Remaining Length: one or two bytes here (up to 16,383), else the parser.
  let len = buf[pos + 1]!;
  let at = pos + 2;
  if (len > 127) {
    if (at >= end) return undefined;
    const second = buf[at]!;
    if (second > 127) return undefined;
    len = (len & 127) | (second << 7);
    at++;
  }
  if (at + len > end) return undefined;
  switch (type) {
    case 3:
      return leanPublish(buf, first, at, len, version);
    case 4:
    case 5:
    case 7:
      return first & 15 || len !== 2 ? undefined : ack(ACK_CMDS[type]!, 0, buf.readUInt16BE(at), version);
    case 6:
      // PUBREL's reserved flags are 0b0010: the parser reads them as QoS 1.
      return first !== 0x62 || len !== 2 ? undefined : ack('pubrel', 1, buf.readUInt16BE(at), version);
    case 12:
      return first !== 0xc0 || len !== 0 ? undefined : { cmd: 'pingreq', retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null } as unknown as Packet;
    default:
      return undefined;
  }
}

const ACK_CMDS: Record<number, 'puback' | 'pubrec' | 'pubcomp'> = { 4: 'puback', 5: 'pubrec', 7: 'pubcomp' };

function ack(cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', qos: number, messageId: number, version: number): Packet {
  // MQTT 5: a Remaining Length of 2 means reason code 0 (§3.4.2.1), as the parser sets it.
  const p =
    version === 5
      ? { cmd, retain: false, qos, dup: false, length: 2, topic: null, payload: null, messageId, reasonCode: 0 }
      : { cmd, retain: false, qos, dup: false, length: 2, topic: null, payload: null, messageId };
  return p as unknown as Packet;
}

function leanPublish(buf: Buffer, first: number, start: number, len: number, version: number): Packet | undefined {
  const qos = (first >> 1) & 3;
  if (qos === 3 || len < 2) return undefined;
  const end = start + len;
  const topicEnd = start + 2 + buf.readUInt16BE(start);
  if (topicEnd > end) return undefined;
  let at = topicEnd;
  let messageId = 0;
  if (qos > 0) {
    if (at + 2 > end) return undefined;
    messageId = buf.readUInt16BE(at);
    at += 2;
  }
  if (version === 5) {
    // Properties: only an empty block here.
    if (at >= end || buf[at] !== 0) return undefined;
    at++;
  }
  const retain = (first & 1) !== 0;
  const dup = (first & 8) !== 0;
  const topic = buf.toString('utf8', start + 2, topicEnd);
  const payload = buf.subarray(at, end);
  // As the parser's packet: a QoS 0 PUBLISH has no messageId.
  const p = qos === 0 ? { cmd: 'publish', retain, qos, dup, length: len, topic, payload } : { cmd: 'publish', retain, qos, dup, length: len, topic, payload, messageId };
  return p as unknown as Packet;
}
