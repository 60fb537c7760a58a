import type { IConnectPacket, Packet } from 'mqtt-packet';

/**
 * The common CONNECT read without mqtt-packet's parser, for a connection's first chunk: MQTT 3.1,
 * 3.1.1 or 5 without a will, without MQTT 5 properties, with or without user name and password,
 * whole in `buf` from its first byte. The packet is the one mqtt-packet's parser emits for the
 * same bytes (same fields, same order, strings decoded the same way, the password a view of
 * `buf` as the parser's is a view of its chunk). Anything else — a will, properties, bridge mode,
 * a packet cut short or a field running past its end, any flag mqtt-packet refuses — returns
 * undefined, and the caller hands the bytes to mqtt-packet, which parses, or refuses, as always.
 *
 * The packet's size on the wire is {@link leanConnectSize}.
 */
export function leanConnect(buf: Buffer): IConnectPacket | undefined {
  const n = buf.length;
  // Fixed header: CONNECT with flags 0, Remaining Length in one or two bytes.
  if (n < 2 || buf[0] !== 0x10) return undefined;
  let len = buf[1]!;
  let q = 2;
  if (len >= 0x80) {
    if (n < 3 || buf[2]! >= 0x80) return undefined;
    len = (len & 0x7f) + buf[2]! * 0x80;
    q = 3;
  }
  const end = q + len;
  if (end > n) return undefined;
  // Protocol name: exactly "MQTT" or "MQIsdp".
  if (q + 2 > end) return undefined;
  const nameLen = (buf[q]! << 8) | buf[q + 1]!;
  let protocolId: string;
  if (nameLen === 4 && q + 6 <= end && buf[q + 2] === 0x4d && buf[q + 3] === 0x51 && buf[q + 4] === 0x54 && buf[q + 5] === 0x54) {
    protocolId = 'MQTT';
  } else if (
    nameLen === 6 &&
    q + 8 <= end &&
    buf[q + 2] === 0x4d &&
    buf[q + 3] === 0x51 &&
    buf[q + 4] === 0x49 &&
    buf[q + 5] === 0x73 &&
    buf[q + 6] === 0x64 &&
    buf[q + 7] === 0x70
  ) {
    protocolId = 'MQIsdp';
  } else {
    return undefined;
  }
  let pos = q + 2 + nameLen;
  // Protocol level (no bridge mode), connect flags, keep alive.
  if (pos + 4 > end) return undefined;
  const protocolVersion = buf[pos]!;
  if (protocolVersion !== 3 && protocolVersion !== 4 && protocolVersion !== 5) return undefined;
  const flags = buf[pos + 1]!;
  // Reserved bit, will flag, will QoS, will retain: left to mqtt-packet.
  if ((flags & 0x3d) !== 0) return undefined;
  const keepalive = (buf[pos + 2]! << 8) | buf[pos + 3]!;
  pos += 4;
  if (protocolVersion === 5) {
    // Property Length 0 only.
    if (pos >= end || buf[pos] !== 0) return undefined;
    pos++;
  }
  // Client identifier.
  if (pos + 2 > end) return undefined;
  let fieldLen = (buf[pos]! << 8) | buf[pos + 1]!;
  pos += 2;
  if (pos + fieldLen > end) return undefined;
  const clientId = buf.toString('utf8', pos, pos + fieldLen);
  pos += fieldLen;
  const packet = {
    cmd: 'connect',
    retain: false,
    qos: 0,
    dup: false,
    length: len,
    topic: null,
    payload: null,
    protocolId,
    protocolVersion,
    clean: (flags & 0x02) !== 0,
    keepalive,
    clientId,
  } as unknown as IConnectPacket;
  if ((flags & 0x80) !== 0) {
    if (pos + 2 > end) return undefined;
    fieldLen = (buf[pos]! << 8) | buf[pos + 1]!;
    pos += 2;
    if (pos + fieldLen > end) return undefined;
    packet.username = buf.toString('utf8', pos, pos + fieldLen);
    pos += fieldLen;
  }
  if ((flags & 0x40) !== 0) {
    if (pos + 2 > end) return undefined;
    fieldLen = (buf[pos]! << 8) | buf[pos + 1]!;
    pos += 2;
    if (pos + fieldLen > end) return undefined;
    // As mqtt-packet's list: a view of the chunk, a new empty Buffer for an empty password.
    packet.password = fieldLen === 0 ? Buffer.alloc(0) : buf.subarray(pos, pos + fieldLen);
  }
  // Bytes left over inside the packet are skipped, as mqtt-packet skips them.
  return packet;
}

/** Bytes a CONNECT {@link leanConnect} returned takes in the buffer: fixed header and the rest. */
export function leanConnectSize(buf: Buffer, packet: IConnectPacket): number {
  return (buf[1]! >= 0x80 ? 3 : 2) + packet.length!;
}

/**
 * A chunk that is exactly a PINGREQ or a DISCONNECT without reason code (two bytes), read after
 * `connect` (a CONNECT {@link leanConnect} read) and before anything went to mqtt-packet: the
 * packet mqtt-packet's parser would emit, with `connect` as its settings. Otherwise undefined.
 */
export function leanBare(chunk: Buffer, connect: IConnectPacket): Packet | undefined {
  if (chunk.length !== 2 || chunk[1] !== 0) return undefined;
  if (chunk[0] === 0xc0) return { cmd: 'pingreq', retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null } as unknown as Packet;
  if (chunk[0] !== 0xe0) return undefined;
  // MQTT 5: a DISCONNECT without reason code has reason code 0 (§3.14.2.1).
  if (connect.protocolVersion === 5) return { cmd: 'disconnect', retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null, reasonCode: 0 } as unknown as Packet;
  return { cmd: 'disconnect', retain: false, qos: 0, dup: false, length: 0, topic: null, payload: null } as unknown as Packet;
}
