/**
 * MQTT packet boundaries in a byte stream, without decoding: the fixed header's first byte and
 * Remaining Length (MQTT 5.0 §2.1.4) are enough. Multi-stream QUIC merges several streams into
 * one engine input, which must receive whole packets only; outbound, it routes packet by packet.
 */

/** MQTT control packet types (§2.1.2). */
export const PT = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBSCRIBE: 8,
  SUBACK: 9,
  UNSUBSCRIBE: 10,
  UNSUBACK: 11,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

/** Where one packet sits in a buffer. */
export interface PacketSpan {
  /** Packet type (high nibble of the first byte). */
  readonly type: number;
  /** First byte of the packet. */
  readonly start: number;
  /** First byte of the variable header. */
  readonly body: number;
  /** One past the last byte. */
  readonly end: number;
}

/**
 * Header of the packet at `offset`: its span, `undefined` when the header is not complete yet,
 * or `null` when the Remaining Length is malformed (more than four bytes).
 */
export function readHeader(buf: Buffer, offset: number): { type: number; body: number; length: number } | undefined | null {
  if (offset >= buf.length) return undefined;
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    const at = offset + i;
    if (at >= buf.length) return undefined;
    const b = buf[at]!;
    length += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return { type: buf[offset]! >> 4, body: at + 1, length };
    multiplier *= 128;
  }
  return null;
}

/** What {@link PacketFramer.push} found. */
export interface Framed {
  /** Complete packets, contiguous (a slice of the input when possible). */
  readonly bytes: Buffer;
  readonly packets: readonly PacketSpan[];
  /**
   * The stream broke framing (malformed Remaining Length, or a packet larger than the limit):
   * `bytes` then also holds the offending bytes, so the engine reports the error as it would on
   * TCP, and the framer passes nothing more.
   */
  readonly broken: boolean;
}

/**
 * Splits one byte stream into whole MQTT packets. The bytes of an unfinished packet are kept as
 * chunks and joined once, when the packet is complete: a large PUBLISH arriving in many small
 * QUIC reads is copied once, not once per read.
 */
export class PacketFramer {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total size of the unfinished packet, once its header is known. */
  private need: number | undefined;
  private broken = false;

  /** @param maxPacketSize a packet announced larger than this breaks framing at once. */
  constructor(private readonly maxPacketSize = Number.MAX_SAFE_INTEGER) {}

  get isBroken(): boolean {
    return this.broken;
  }

  push(chunk: Buffer): Framed {
    if (this.broken) return { bytes: EMPTY, packets: [], broken: true };
    let buf = chunk;
    if (this.pendingBytes > 0) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.need === undefined) {
        const first = this.pending[0]!;
        const h = readHeader(first.length >= 5 ? first : Buffer.concat(this.pending, this.pendingBytes), 0);
        if (h === null || (h !== undefined && h.body + h.length > this.maxPacketSize)) return this.breakOn(Buffer.concat(this.pending, this.pendingBytes), []);
        if (h !== undefined) this.need = h.body + h.length;
      }
      if (this.need === undefined || this.pendingBytes < this.need) return { bytes: EMPTY, packets: [], broken: false };
      buf = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      this.need = undefined;
    }
    const packets: PacketSpan[] = [];
    let offset = 0;
    for (;;) {
      const h = readHeader(buf, offset);
      if (h === undefined) break;
      if (h === null || h.body - offset + h.length > this.maxPacketSize) return this.breakOn(buf, packets);
      const end = h.body + h.length;
      if (end > buf.length) {
        this.need = end - offset;
        break;
      }
      packets.push({ type: h.type, start: offset, body: h.body, end });
      offset = end;
    }
    if (offset < buf.length) {
      this.pending = [Buffer.from(buf.subarray(offset))];
      this.pendingBytes = buf.length - offset;
    }
    return { bytes: offset === buf.length ? buf : buf.subarray(0, offset), packets, broken: false };
  }

  private breakOn(bytes: Buffer, packets: PacketSpan[]): Framed {
    this.broken = true;
    this.pending = [];
    this.pendingBytes = 0;
    return { bytes, packets, broken: true };
  }
}

const EMPTY = Buffer.alloc(0);

/** Packet identifier of an ack, PUBREL, SUBSCRIBE, SUBACK, UNSUBSCRIBE or UNSUBACK. */
export function packetId(buf: Buffer, p: PacketSpan): number | undefined {
  return p.body + 2 <= p.end ? buf.readUInt16BE(p.body) : undefined;
}

/** Packet identifier of a PUBLISH with QoS > 0: it follows the topic name. */
export function publishId(buf: Buffer, p: PacketSpan): number | undefined {
  if (p.body + 2 > p.end) return undefined;
  const at = p.body + 2 + buf.readUInt16BE(p.body);
  return at + 2 <= p.end ? buf.readUInt16BE(at) : undefined;
}

/** QoS of a PUBLISH. */
export function publishQos(buf: Buffer, p: PacketSpan): number {
  return (buf[p.start]! >> 1) & 3;
}

/** The topic of a PUBLISH, its packet id (QoS > 0) and, MQTT 5, its Topic Alias. */
export function readPublish(buf: Buffer, p: PacketSpan, v5: boolean): { topic: string; id: number | undefined; alias: number | undefined } | undefined {
  let at = p.body;
  if (at + 2 > p.end) return undefined;
  const len = buf.readUInt16BE(at);
  at += 2;
  if (at + len > p.end) return undefined;
  const topic = buf.toString('utf8', at, at + len);
  at += len;
  let id: number | undefined;
  if (publishQos(buf, p) > 0) {
    if (at + 2 > p.end) return undefined;
    id = buf.readUInt16BE(at);
    at += 2;
  }
  return { topic, id, alias: v5 ? topicAliasOf(buf, at, p.end) : undefined };
}

/** Walk a PUBLISH property block (§3.3.2.3) for the Topic Alias (0x23). */
function topicAliasOf(buf: Buffer, at: number, end: number): number | undefined {
  const v = readVarint(buf, at, end);
  if (!v) return undefined;
  let i = v.next;
  const stop = Math.min(end, i + v.value);
  while (i < stop) {
    const id = buf[i++]!;
    switch (id) {
      case 0x01: // payload format indicator
        i += 1;
        break;
      case 0x02: // message expiry interval
        i += 4;
        break;
      case 0x23: // topic alias
        return i + 2 <= stop ? buf.readUInt16BE(i) : undefined;
      case 0x03: // content type
      case 0x08: // response topic
      case 0x09: // correlation data
        if (i + 2 > stop) return undefined;
        i += 2 + buf.readUInt16BE(i);
        break;
      case 0x0b: {
        // subscription identifier
        const s = readVarint(buf, i, stop);
        if (!s) return undefined;
        i = s.next;
        break;
      }
      case 0x26: // user property: two strings
        if (i + 2 > stop) return undefined;
        i += 2 + buf.readUInt16BE(i);
        if (i + 2 > stop) return undefined;
        i += 2 + buf.readUInt16BE(i);
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/** The topic filters of a SUBSCRIBE or UNSUBSCRIBE (§3.8.3, §3.10.3). */
export function readFilters(buf: Buffer, p: PacketSpan, v5: boolean): string[] {
  let at = p.body + 2;
  if (v5) {
    const v = readVarint(buf, at, p.end);
    if (!v) return [];
    at = v.next + v.value;
  }
  const filters: string[] = [];
  const options = p.type === PT.SUBSCRIBE ? 1 : 0;
  while (at + 2 <= p.end) {
    const len = buf.readUInt16BE(at);
    at += 2;
    if (at + len > p.end) break;
    filters.push(buf.toString('utf8', at, at + len));
    at += len + options;
  }
  return filters;
}

/** Protocol level of a CONNECT (3, 4 or 5), from its protocol name and level bytes. */
export function connectVersion(buf: Buffer, p: PacketSpan): number | undefined {
  if (p.body + 2 > p.end) return undefined;
  const at = p.body + 2 + buf.readUInt16BE(p.body);
  return at < p.end ? buf[at] : undefined;
}

function readVarint(buf: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= end) return undefined;
    const b = buf[at + i]!;
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return { value, next: at + i + 1 };
    multiplier *= 128;
  }
  return undefined;
}
