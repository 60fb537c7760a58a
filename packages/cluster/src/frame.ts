/**
 * The binary frame a message crosses the cluster in (and is kept in as a retained value): a
 * compact header, then the payload as is. No JSON per message.
 *
 *   u8  version (1)
 *   u8  flags: bits 0-1 QoS, 2 retain, 3 properties, 4 expiresAt, 5 username, 6 peer
 *   8B  origin: the publishing node's incarnation id
 *   f64 seq: per origin, increasing (a receiver drops a copy it already had)
 *   f64 timestamp (ms since the epoch)         [f64 expiresAt when flag 4]
 *   s16 topic, s16 clientId, s16 protocol, s16 node   [s16 username] [s16 peer]
 *   [properties: (u8 id, value)* then u8 0]
 *   payload: the rest
 *
 * s16 is a u16 byte length then UTF-8 (MQTT strings are at most 65535 bytes [MQTT-1.5.4]).
 */
import type { Message, MessageProperties, Publisher, QoS, UserProperties } from '@junction/broker-core';

const VERSION = 1;
const F_RETAIN = 4;
const F_PROPS = 8;
const F_EXPIRES = 16;
const F_USER = 32;
const F_PEER = 64;

const P_FORMAT = 1;
const P_EXPIRY = 2;
const P_CONTENT_TYPE = 3;
const P_RESPONSE_TOPIC = 4;
const P_CORRELATION = 5;
const P_USER = 6;

export const ORIGIN_BYTES = 8;

/** A frame that is not one: wrong version, truncated, bad field. */
export class FrameError extends Error {
  constructor(why: string) {
    super(`bad cluster frame: ${why}`);
    this.name = 'FrameError';
  }
}

/** A decoded frame: the message and where it came from. */
export interface Frame {
  readonly message: Message;
  /** The origin incarnation id as a number (its first 48 bits), a cheap map key. */
  readonly origin: number;
  readonly seq: number;
}

/** Short ASCII strings (most topics, client ids, node names) are copied byte by byte in JS:
 * cheaper than a call into Buffer's native UTF-8 code for each field. */
const SHORT = 48;

function asciiLength(s: string): number {
  if (s.length > SHORT) return -1;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return -1;
  return s.length;
}

const strLen = (s: string) => {
  const n = asciiLength(s);
  return 2 + (n >= 0 ? n : Buffer.byteLength(s, 'utf8'));
};

function propsLen(p: MessageProperties): number {
  let n = 1;
  if (p.payloadFormatIndicator !== undefined) n += 2;
  if (p.messageExpiryInterval !== undefined) n += 5;
  if (p.contentType !== undefined) n += 1 + strLen(p.contentType);
  if (p.responseTopic !== undefined) n += 1 + strLen(p.responseTopic);
  if (p.correlationData !== undefined) n += 3 + p.correlationData.length;
  if (p.userProperties) {
    for (const [k, v] of Object.entries(p.userProperties)) {
      for (const one of Array.isArray(v) ? v : [v]) n += 1 + strLen(k) + strLen(one);
    }
  }
  return n;
}

class Writer {
  o = 0;
  constructor(readonly b: Buffer) {}
  u8(v: number): void {
    this.b[this.o++] = v;
  }
  str(s: string): void {
    if (asciiLength(s) >= 0) {
      const b = this.b;
      const o = this.o + 2;
      for (let i = 0; i < s.length; i++) b[o + i] = s.charCodeAt(i);
      b.writeUInt16BE(s.length, this.o);
      this.o = o + s.length;
      return;
    }
    const n = this.b.write(s, this.o + 2, 'utf8');
    if (n > 0xffff) throw new FrameError('string longer than 65535 bytes');
    this.b.writeUInt16BE(n, this.o);
    this.o += 2 + n;
  }
  bytes(v: Buffer): void {
    if (v.length > 0xffff) throw new FrameError('binary property longer than 65535 bytes');
    this.b.writeUInt16BE(v.length, this.o);
    v.copy(this.b, this.o + 2);
    this.o += 2 + v.length;
  }
  f64(v: number): void {
    this.b.writeDoubleBE(v, this.o);
    this.o += 8;
  }
}

/** Encode a message with its origin incarnation (8 bytes) and sequence number. */
export function encodeFrame(msg: Message, origin: Buffer, seq: number): Buffer {
  const f = msg.from;
  const props = msg.properties;
  const hasProps = props !== undefined && hasAny(props);
  let size = 2 + ORIGIN_BYTES + 16 + strLen(msg.topic) + strLen(f.clientId) + strLen(f.protocol) + strLen(f.node);
  if (msg.expiresAt !== undefined) size += 8;
  if (f.username !== undefined) size += strLen(f.username);
  if (f.peer !== undefined) size += strLen(f.peer);
  if (hasProps) size += propsLen(props);
  const w = new Writer(Buffer.allocUnsafe(size + msg.payload.length));
  let flags = msg.qos;
  if (msg.retain) flags |= F_RETAIN;
  if (hasProps) flags |= F_PROPS;
  if (msg.expiresAt !== undefined) flags |= F_EXPIRES;
  if (f.username !== undefined) flags |= F_USER;
  if (f.peer !== undefined) flags |= F_PEER;
  w.u8(VERSION);
  w.u8(flags);
  for (let i = 0; i < ORIGIN_BYTES; i++) w.b[w.o + i] = origin[i]!;
  w.o += ORIGIN_BYTES;
  w.f64(seq);
  w.f64(msg.timestamp);
  if (msg.expiresAt !== undefined) w.f64(msg.expiresAt);
  w.str(msg.topic);
  w.str(f.clientId);
  w.str(f.protocol);
  w.str(f.node);
  if (f.username !== undefined) w.str(f.username);
  if (f.peer !== undefined) w.str(f.peer);
  if (hasProps) writeProps(w, props);
  msg.payload.copy(w.b, w.o);
  w.o += msg.payload.length;
  return w.o === w.b.length ? w.b : w.b.subarray(0, w.o);
}

function hasAny(p: MessageProperties): boolean {
  for (const k in p) if ((p as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}

function writeProps(w: Writer, p: MessageProperties): void {
  if (p.payloadFormatIndicator !== undefined) {
    w.u8(P_FORMAT);
    w.u8(p.payloadFormatIndicator ? 1 : 0);
  }
  if (p.messageExpiryInterval !== undefined) {
    w.u8(P_EXPIRY);
    w.b.writeUInt32BE(p.messageExpiryInterval >>> 0, w.o);
    w.o += 4;
  }
  if (p.contentType !== undefined) {
    w.u8(P_CONTENT_TYPE);
    w.str(p.contentType);
  }
  if (p.responseTopic !== undefined) {
    w.u8(P_RESPONSE_TOPIC);
    w.str(p.responseTopic);
  }
  if (p.correlationData !== undefined) {
    w.u8(P_CORRELATION);
    w.bytes(p.correlationData);
  }
  if (p.userProperties) {
    for (const [k, v] of Object.entries(p.userProperties)) {
      for (const one of Array.isArray(v) ? v : [v]) {
        w.u8(P_USER);
        w.str(k);
        w.str(one);
      }
    }
  }
  w.u8(0);
}

class Reader {
  o = 0;
  constructor(readonly b: Uint8Array & Buffer) {}
  need(n: number): void {
    if (this.o + n > this.b.length) throw new FrameError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.o++]!;
  }
  f64(): number {
    this.need(8);
    const v = this.b.readDoubleBE(this.o);
    this.o += 8;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.o);
    this.o += 4;
    return v;
  }
  bytes(): Buffer {
    this.need(2);
    const n = this.b.readUInt16BE(this.o);
    this.need(2 + n);
    const v = Buffer.from(this.b.subarray(this.o + 2, this.o + 2 + n));
    this.o += 2 + n;
    return v;
  }
  str(): string {
    this.need(2);
    const b = this.b;
    const n = (b[this.o]! << 8) | b[this.o + 1]!;
    const start = this.o + 2;
    const end = start + n;
    this.need(2 + n);
    this.o = end;
    if (n <= SHORT) {
      let v = '';
      for (let i = start; i < end; i++) {
        const c = b[i]!;
        if (c >= 0x80) return b.toString('utf8', start, end);
        v += String.fromCharCode(c);
      }
      return v;
    }
    return b.toString('utf8', start, end);
  }
}

/** Decode a frame; throws {@link FrameError} (and nothing else) on bad input. */
export function decodeFrame(data: Uint8Array): Frame {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const r = new Reader(buf);
  if (r.u8() !== VERSION) throw new FrameError('unknown version');
  const flags = r.u8();
  const qos = flags & 3;
  if (qos === 3) throw new FrameError('QoS 3');
  r.need(ORIGIN_BYTES);
  const origin = buf.readUIntBE(r.o, 6);
  r.o += ORIGIN_BYTES;
  const seq = r.f64();
  const timestamp = r.f64();
  const expiresAt = flags & F_EXPIRES ? r.f64() : undefined;
  const topic = r.str();
  const clientId = r.str();
  const protocol = r.str();
  const node = r.str();
  const username = flags & F_USER ? r.str() : undefined;
  const peer = flags & F_PEER ? r.str() : undefined;
  const properties = flags & F_PROPS ? readProps(r) : undefined;
  const from: { -readonly [K in keyof Publisher]: Publisher[K] } = { clientId, protocol, node };
  if (username !== undefined) from.username = username;
  if (peer !== undefined) from.peer = peer;
  // A copy: a queued message must not pin the transport's read buffer.
  const payload = Buffer.allocUnsafe(buf.length - r.o);
  buf.copy(payload, 0, r.o);
  const message: { -readonly [K in keyof Message]: Message[K] } = { topic, payload, qos: qos as QoS, retain: (flags & F_RETAIN) !== 0, from, timestamp };
  if (properties !== undefined) message.properties = properties;
  if (expiresAt !== undefined) message.expiresAt = expiresAt;
  return { message, origin, seq };
}

function readProps(r: Reader): MessageProperties {
  const p: { -readonly [K in keyof MessageProperties]: MessageProperties[K] } = {};
  for (;;) {
    const id = r.u8();
    switch (id) {
      case 0:
        return p;
      case P_FORMAT:
        p.payloadFormatIndicator = r.u8() === 1;
        break;
      case P_EXPIRY:
        p.messageExpiryInterval = r.u32();
        break;
      case P_CONTENT_TYPE:
        p.contentType = r.str();
        break;
      case P_RESPONSE_TOPIC:
        p.responseTopic = r.str();
        break;
      case P_CORRELATION:
        p.correlationData = r.bytes();
        break;
      case P_USER: {
        const k = r.str();
        const v = r.str();
        const up: UserProperties = (p.userProperties ??= {});
        const had = Object.hasOwn(up, k) ? up[k] : undefined;
        // defineProperty: a key such as `__proto__` is data, not the prototype.
        Object.defineProperty(up, k, { value: had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v], enumerable: true, writable: true, configurable: true });
        break;
      }
      default:
        throw new FrameError(`unknown property ${id}`);
    }
  }
}
