/**
 * MQTT on the wire for the load generator. CONNECT and SUBSCRIBE are built, and CONNACK and SUBACK
 * read, by mqtt-packet; the per-message packets (PUBLISH and its acknowledgements) are encoded
 * from a prebuilt template and framed and decoded by hand here, allocation-free, because they
 * run hundreds of thousands of times a second.
 */
import mqttPacket from 'mqtt-packet';
import { writeHeader } from './header.js';

export type MqttVersion = 4 | 5;
export type QoS = 0 | 1 | 2;

export const PT = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBACK: 9,
  UNSUBACK: 11,
  PINGRESP: 13,
  DISCONNECT: 14,
  AUTH: 15,
} as const;

/** CONNECT; `persistent`: clean session 0 (MQTT 5: clean start 0 and a session expiry of one hour). */
export function encodeConnect(clientId: string, version: MqttVersion, keepalive: number, persistent = false): Buffer {
  const properties = persistent && version === 5 ? { sessionExpiryInterval: 3600 } : undefined;
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: !persistent, keepalive, properties }, { protocolVersion: version });
}

export function encodeSubscribe(messageId: number, filters: string[], qos: QoS, version: MqttVersion): Buffer {
  return mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos })) }, { protocolVersion: version });
}

export const PINGREQ = Buffer.from([0xc0, 0x00]);
/** DISCONNECT, normal (valid for 3.1.1 and for 5: remaining length 0 means reason 0). */
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** PUBACK (0x40), PUBREC (0x50), PUBREL (0x62) or PUBCOMP (0x70) for `id`, written at `off`. */
export function writeAck(buf: Uint8Array, off: number, first: number, id: number): void {
  buf[off] = first;
  buf[off + 1] = 2;
  buf[off + 2] = id >> 8;
  buf[off + 3] = id & 0xff;
}

function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

function writeVarint(buf: Uint8Array, off: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[off++] = b;
  } while (n > 0);
  return off;
}

/**
 * One publisher's PUBLISH, prebuilt: topic, QoS, version and payload size never change during a
 * run, so each message is a copy of `bytes` with the packet id and the payload header patched in.
 */
export class PublishTemplate {
  readonly bytes: Buffer;
  /** offset of the 2-byte packet id, -1 at QoS 0 */
  readonly idOffset: number;
  readonly payloadOffset: number;
  readonly length: number;

  constructor(topic: string, qos: QoS, size: number, version: MqttVersion) {
    const t = Buffer.from(topic, 'utf8');
    const rem = 2 + t.length + (qos ? 2 : 0) + (version === 5 ? 1 : 0) + size;
    const len = 1 + varintLength(rem) + rem;
    const b = Buffer.alloc(len, 0x78);
    let o = 0;
    b[o++] = 0x30 | (qos << 1);
    o = writeVarint(b, o, rem);
    b[o++] = t.length >> 8;
    b[o++] = t.length & 0xff;
    t.copy(b, o);
    o += t.length;
    this.idOffset = qos ? o : -1;
    if (qos) {
      b[o++] = 0;
      b[o++] = 1;
    }
    if (version === 5) b[o++] = 0; // no properties
    this.payloadOffset = o;
    this.bytes = b;
    this.length = len;
  }

  /** Writes one complete PUBLISH at `off`. */
  writeInto(buf: Buffer, off: number, id: number, pub: number, seq: number, timeNs: number): void {
    this.bytes.copy(buf, off);
    if (this.idOffset >= 0) {
      buf[off + this.idOffset] = id >> 8;
      buf[off + this.idOffset + 1] = id & 0xff;
    }
    writeHeader(buf, off + this.payloadOffset, pub, seq, timeNs);
  }
}

/** Results of the last `frame` / `parsePublish` call (module state: no allocation per packet). */
export const frameOut = { headerLength: 0, remaining: 0 };
export const publishOut = { id: 0, payloadOffset: 0 };

/**
 * Looks for one complete packet at buf[off..end). Returns its total length, 0 when more bytes are
 * needed, -1 when the remaining length is malformed. Sets `frameOut`.
 */
export function frame(buf: Uint8Array, off: number, end: number): number {
  let rem = 0;
  let mul = 1;
  let i = off + 1;
  for (let k = 0; k < 4; k++, i++) {
    if (i >= end) return 0;
    const b = buf[i]!;
    rem += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      const hl = i + 1 - off;
      frameOut.headerLength = hl;
      frameOut.remaining = rem;
      return end - off >= hl + rem ? hl + rem : 0;
    }
    mul *= 128;
  }
  return -1;
}

/** The number of bytes a complete packet at `off` will need, when `frame` returned 0 (0 if unknown yet). */
export function neededLength(buf: Uint8Array, off: number, end: number): number {
  let rem = 0;
  let mul = 1;
  for (let i = off + 1, k = 0; k < 4 && i < end; k++, i++) {
    rem += (buf[i]! & 0x7f) * mul;
    if ((buf[i]! & 0x80) === 0) return i + 1 - off + rem;
    mul *= 128;
  }
  return 0;
}

/**
 * Reads a PUBLISH body at buf[body..end): sets `publishOut.id` (0 at QoS 0) and
 * `publishOut.payloadOffset`. Returns false when the body is malformed.
 */
export function parsePublish(buf: Uint8Array, body: number, end: number, qos: number, version: MqttVersion): boolean {
  if (end - body < 2) return false;
  let p = body + 2 + ((buf[body]! << 8) | buf[body + 1]!);
  let id = 0;
  if (qos) {
    if (p + 2 > end) return false;
    id = (buf[p]! << 8) | buf[p + 1]!;
    p += 2;
  }
  if (version === 5) {
    let pl = 0;
    let mul = 1;
    let k = 0;
    for (;;) {
      if (p + k >= end || k >= 4) return false;
      const b = buf[p + k]!;
      pl += (b & 0x7f) * mul;
      mul *= 128;
      k++;
      if ((b & 0x80) === 0) break;
    }
    p += k + pl;
  }
  if (p > end) return false;
  publishOut.id = id;
  publishOut.payloadOffset = p;
  return true;
}

/**
 * Decodes one complete control packet with mqtt-packet (CONNACK, SUBACK, DISCONNECT: a few per
 * connection, never per message). Returns null when mqtt-packet rejects it.
 */
export class ControlDecoder {
  private parser: ReturnType<typeof mqttPacket.parser>;
  private last: mqttPacket.Packet | null = null;
  private failed = false;

  constructor(private readonly version: MqttVersion) {
    this.parser = this.make();
  }

  private make() {
    const p = mqttPacket.parser({ protocolVersion: this.version });
    p.on('packet', (pk: mqttPacket.Packet) => (this.last = pk));
    p.on('error', () => (this.failed = true));
    return p;
  }

  decode(bytes: Buffer): mqttPacket.Packet | null {
    this.last = null;
    this.failed = false;
    this.parser.parse(bytes);
    if (this.failed) {
      this.parser = this.make();
      return null;
    }
    return this.last;
  }
}
