/**
 * Binary encoding of what the store keeps: messages, deliveries and session records.
 *
 * Every stored value ends with a CRC-32 of the bytes before it, checked whenever the value is
 * read (and for every value when the store opens), so that a damaged page is reported instead of
 * being handed to the broker as a message.
 *
 * Messages and deliveries (the hot path) use a fixed layout without field names:
 *
 * ```text
 * message:  u8 version=1 | u8 flags | f64 timestamp | [f64 expiresAt] | str topic
 *           | str from.clientId | str from.protocol | str from.node | [str username] | [str peer]
 *           | [properties] | bytes payload
 *   flags:  bits 0-1 qos, 2 retain, 3 expiresAt, 4 properties, 5 username, 6 peer
 * properties: u8 mask | [f64 messageExpiryInterval] | [str contentType] | [str responseTopic]
 *           | [bytes correlationData] | [uvar n, n × (str key, u8 kind, str | uvar m, m × str)]
 *   mask:   bit 0 payloadFormatIndicator present, 1 its value, 2 messageExpiryInterval,
 *           3 contentType, 4 responseTopic, 5 correlationData, 6 userProperties
 * delivery: u8 version=2 | u8 flags (bits 0-1 qos, 2 retain, 3 subscriptionIds, 4 released)
 *           | u16 packetId (big-endian; 0 while queued) | [uvar n, n × uvar id] | message
 *           version 1 (still read): no released bit and no packet id field, the binding was kept
 *           in a separate inflight table
 * run:      u8 version=3 | uvar n | n × (uvar seq - key seq | u32 length | delivery body)
 *           the deliveries of one session written in one transaction, under the sequence number
 *           of the first; a delivery body is a version 2 delivery without its checksum
 * ```
 *
 * `str` and `bytes` are a LEB128 length then the bytes (UTF-8 for strings). Session records
 * (rarely written, shaped by several interfaces) use a small self-describing encoding of plain
 * values instead (see {@link encodeValue}), so a field added to `Subscription` or `Will` later is
 * kept without a change here.
 */
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { Message, MessageProperties, Publisher, QoS, StoredDelivery, StoredSession, UserProperties } from '@junction/broker-core';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A stored value failed its checksum or does not parse. */
export class CorruptValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptValueError';
  }
}

/**
 * CRC-32 (IEEE, as zlib) lookup tables for slicing by 4: table k (at 256 * k) advances a byte
 * followed by k zero bytes.
 */
const CRC_TABLES = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) {
      const prev = t[256 * (k - 1) + n]!;
      t[256 * k + n] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
})();

/** From this length on, zlib's CRC (after its call and argument checks) beats the JS loop. */
const LARGE_CRC = 1024;

/** CRC-32 of `buf[0, end)`, the same value as zlib's. */
export function crc32(buf: Buffer, end: number): number {
  if (end >= LARGE_CRC) return zlibCrc32(buf.subarray(0, end));
  const t = CRC_TABLES;
  let c = -1;
  let i = 0;
  for (const last = end - 3; i < last; i += 4) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const MESSAGE_V1 = 1;
const DELIVERY_V1 = 1;
const DELIVERY_V2 = 2;
const RUN_V3 = 3;
const SESSION_V1 = 1;

/** Appends to a growable scratch buffer; `finish` copies the bytes out with the checksum. */
class Writer {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;

  reset(): this {
    this.pos = 0;
    return this;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  uvar(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`expected a non-negative integer, got ${String(v)}`);
    this.ensure(8);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  str(s: string): void {
    if (typeof s !== 'string') throw new TypeError(`expected a string, got ${typeof s}`);
    const len = s.length;
    if (len < 0x80) {
      // Short ASCII (topics, client ids): copied by hand, cheaper than a call into the encoder.
      this.ensure(len + 1);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 1 + i] = c;
      }
      if (i === len) {
        buf[start] = len;
        this.pos = start + 1 + len;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.uvar(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Appends bytes as they are (no length). */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  bytes(b: Uint8Array): void {
    if (!(b instanceof Uint8Array)) throw new TypeError(`expected a Buffer, got ${typeof b}`);
    this.uvar(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A copy of the written bytes followed by their CRC-32 (big-endian). */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos + 4);
    this.buf.copy(out, 0, 0, this.pos);
    out.writeUInt32BE(crc32(out, this.pos), this.pos);
    return out;
  }
}

/** Reads a value whose checksum has been verified; every read is bounds-checked. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    readonly end: number,
    start = 0,
  ) {
    this.pos = start;
  }

  #need(n: number): void {
    if (this.pos + n > this.end) throw new CorruptValueError(`value truncated at byte ${this.pos}`);
  }

  u8(): number {
    this.#need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.#need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  skip(n: number): void {
    this.#need(n);
    this.pos += n;
  }

  f64(): number {
    this.#need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  uvar(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
    throw new CorruptValueError('variable-length integer too long');
  }

  str(): string {
    const n = this.uvar();
    this.#need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** A copy: what the store hands out never shares memory with its buffers. */
  bytes(): Buffer {
    const n = this.uvar();
    this.#need(n);
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  done(): void {
    if (this.pos !== this.end) throw new CorruptValueError(`${this.end - this.pos} unexpected trailing bytes`);
  }
}

const writer = new Writer();

/** Checks the trailing CRC-32 and returns a reader over the content. */
function open(buf: Buffer): Reader {
  if (buf.length < 5) throw new CorruptValueError(`value of ${buf.length} bytes is too short`);
  const end = buf.length - 4;
  const expected = buf.readUInt32BE(end);
  const actual = crc32(buf, end);
  if (expected !== actual) throw new CorruptValueError(`checksum mismatch (stored ${hex(expected)}, computed ${hex(actual)})`);
  return new Reader(buf, end);
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

// --- Messages ----------------------------------------------------------------------------------

function writeProperties(w: Writer, p: MessageProperties): void {
  let mask = 0;
  if (p.payloadFormatIndicator !== undefined) mask |= 1 | (p.payloadFormatIndicator ? 2 : 0);
  if (p.messageExpiryInterval !== undefined) mask |= 4;
  if (p.contentType !== undefined) mask |= 8;
  if (p.responseTopic !== undefined) mask |= 16;
  if (p.correlationData !== undefined) mask |= 32;
  if (p.userProperties !== undefined) mask |= 64;
  w.u8(mask);
  if (p.messageExpiryInterval !== undefined) w.f64(p.messageExpiryInterval);
  if (p.contentType !== undefined) w.str(p.contentType);
  if (p.responseTopic !== undefined) w.str(p.responseTopic);
  if (p.correlationData !== undefined) w.bytes(p.correlationData);
  if (p.userProperties !== undefined) {
    const entries = Object.entries(p.userProperties);
    w.uvar(entries.length);
    for (const [key, value] of entries) {
      w.str(key);
      if (Array.isArray(value)) {
        w.u8(1);
        w.uvar(value.length);
        for (const v of value) w.str(v);
      } else {
        w.u8(0);
        w.str(value);
      }
    }
  }
}

function readProperties(r: Reader): MessageProperties {
  const mask = r.u8();
  if (mask > 127) throw new CorruptValueError(`bad properties mask ${mask}`);
  const p: MessageProperties = {};
  if (mask & 1) p.payloadFormatIndicator = (mask & 2) !== 0;
  if (mask & 4) p.messageExpiryInterval = r.f64();
  if (mask & 8) p.contentType = r.str();
  if (mask & 16) p.responseTopic = r.str();
  if (mask & 32) p.correlationData = r.bytes();
  if (mask & 64) {
    const n = r.uvar();
    const up: UserProperties = {};
    for (let i = 0; i < n; i++) {
      const key = r.str();
      const kind = r.u8();
      let value: string | string[];
      if (kind === 0) value = r.str();
      else if (kind === 1) {
        const m = r.uvar();
        value = [];
        for (let j = 0; j < m; j++) value.push(r.str());
      } else throw new CorruptValueError(`bad user property kind ${kind}`);
      setOwn(up, key, value);
    }
    p.userProperties = up;
  }
  return p;
}

/** Assigns even a key named `__proto__` as an own property. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Encoded publisher fields, per publisher (one object per connection, immutable). */
const publisherBytes = new WeakMap<Publisher, Buffer>();
const publisherWriter = new Writer();

function encodedPublisher(from: Publisher): Buffer {
  let b = publisherBytes.get(from);
  if (b === undefined) {
    const w = publisherWriter.reset();
    w.str(from.clientId);
    w.str(from.protocol);
    w.str(from.node);
    if (from.username !== undefined) w.str(from.username);
    if (from.peer !== undefined) w.str(from.peer);
    b = Buffer.from(w.buf.subarray(0, w.pos));
    publisherBytes.set(from, b);
  }
  return b;
}

function writeMessage(w: Writer, m: Message): void {
  const from = m.from;
  let flags = (m.qos & 3) | (m.retain ? 4 : 0);
  if (m.expiresAt !== undefined) flags |= 8;
  if (m.properties !== undefined) flags |= 16;
  if (from.username !== undefined) flags |= 32;
  if (from.peer !== undefined) flags |= 64;
  w.u8(MESSAGE_V1);
  w.u8(flags);
  w.f64(m.timestamp);
  if (m.expiresAt !== undefined) w.f64(m.expiresAt);
  w.str(m.topic);
  // clientId, protocol, node, then username and peer when present.
  w.raw(encodedPublisher(from));
  if (m.properties !== undefined) writeProperties(w, m.properties);
  w.bytes(m.payload);
}

function readMessage(r: Reader): Message {
  const version = r.u8();
  if (version !== MESSAGE_V1) throw new CorruptValueError(`unknown message format ${version}`);
  const flags = r.u8();
  if (flags > 127 || (flags & 3) === 3) throw new CorruptValueError(`bad message flags ${flags}`);
  const timestamp = r.f64();
  const expiresAt = flags & 8 ? r.f64() : undefined;
  const topic = r.str();
  const from: Mutable<Publisher> = { clientId: r.str(), protocol: r.str(), node: r.str() };
  if (flags & 32) from.username = r.str();
  if (flags & 64) from.peer = r.str();
  const properties = flags & 16 ? readProperties(r) : undefined;
  const payload = r.bytes();
  const m: Mutable<Message> = { topic, payload, qos: (flags & 3) as QoS, retain: (flags & 4) !== 0, from, timestamp };
  if (properties !== undefined) m.properties = properties;
  if (expiresAt !== undefined) m.expiresAt = expiresAt;
  return m;
}

/** A retained message as stored under its topic. */
export function encodeMessage(m: Message): Buffer {
  const w = writer.reset();
  writeMessage(w, m);
  return w.finish();
}

export function decodeMessage(buf: Buffer): Message {
  const r = open(buf);
  const m = readMessage(r);
  r.done();
  return m;
}

/** Topic and expiry of an encoded message, checksum verified, without copying the payload. */
export function peekMessage(buf: Buffer): { topic: string; expiresAt: number | undefined } {
  return peekMessageAt(open(buf));
}

function peekMessageAt(r: Reader): { topic: string; expiresAt: number | undefined } {
  const version = r.u8();
  if (version !== MESSAGE_V1) throw new CorruptValueError(`unknown message format ${version}`);
  const flags = r.u8();
  r.f64();
  const expiresAt = flags & 8 ? r.f64() : undefined;
  return { topic: r.str(), expiresAt };
}

// --- Deliveries --------------------------------------------------------------------------------

/** What a delivery's value holds besides its packet id and release state. */
export type DeliveryBody = Pick<StoredDelivery, 'message' | 'qos' | 'retain' | 'subscriptionIds'>;

/** Byte offsets in a version 2 delivery (see the file comment). */
const D_FLAGS = 1;
const D_PACKET_ID = 2;
const D_RELEASED = 16;

/**
 * A version 2 delivery: the body, with the packet id it is in flight under (0 while queued) and
 * whether PUBREC was received. The packet id sits at a fixed offset: see {@link RunWriter.addEncoded}.
 */
export function encodeDelivery(d: DeliveryBody, packetId = 0, released = false): Buffer {
  const w = writer.reset();
  writeDeliveryBody(w, d.qos, d.retain, d.subscriptionIds, d.message, packetId, released);
  return w.finish();
}

function writeDeliveryBody(w: Writer, qos: QoS, retain: boolean, ids: readonly number[] | undefined, message: Message, packetId: number, released: boolean): void {
  w.u8(DELIVERY_V2);
  w.u8((qos & 3) | (retain ? 4 : 0) | (ids !== undefined ? 8 : 0) | (released ? D_RELEASED : 0));
  w.u16(packetId);
  if (ids !== undefined) {
    w.uvar(ids.length);
    for (const id of ids) w.uvar(id);
  }
  writeMessage(w, message);
}

interface DeliveryHead {
  qos: QoS;
  retain: boolean;
  subscriptionIds: number[] | undefined;
  /** 0 while queued (and always in a version 1 delivery: its binding is in the inflight table). */
  packetId: number;
  released: boolean;
}

function readDeliveryHead(r: Reader): DeliveryHead {
  const version = r.u8();
  if (version !== DELIVERY_V1 && version !== DELIVERY_V2) throw new CorruptValueError(`unknown delivery format ${version}`);
  const flags = r.u8();
  const max = version === DELIVERY_V1 ? 15 : 31;
  if (flags > max || (flags & 3) === 3) throw new CorruptValueError(`bad delivery flags ${flags}`);
  const packetId = version === DELIVERY_V2 ? r.u16() : 0;
  const released = (flags & D_RELEASED) !== 0;
  if (released && packetId === 0) throw new CorruptValueError('released delivery without a packet id');
  let subscriptionIds: number[] | undefined;
  if (flags & 8) {
    const n = r.uvar();
    subscriptionIds = [];
    for (let i = 0; i < n; i++) subscriptionIds.push(r.uvar());
  }
  return { qos: (flags & 3) as QoS, retain: (flags & 4) !== 0, subscriptionIds, packetId, released };
}

export function decodeDelivery(buf: Buffer): DeliveryBody {
  const r = open(buf);
  return readDeliveryRest(r, readDeliveryHead(r));
}

/** The message after a delivery's head, up to the reader's end. */
function readDeliveryRest(r: Reader, head: DeliveryHead): DeliveryBody {
  const message = readMessage(r);
  r.done();
  const d: Mutable<DeliveryBody> = { message, qos: head.qos, retain: head.retain };
  if (head.subscriptionIds !== undefined) d.subscriptionIds = head.subscriptionIds;
  return d;
}

// --- Runs: the deliveries of one session written together ----------------------------------------

/** Bytes of a delivery run member besides its body, at most: seq delta (uvar) and length (u32). */
export const RUN_MEMBER_OVERHEAD = 13;
/** Bytes of a run value besides its members, at most: version, count (uvar) and checksum. */
export const RUN_OVERHEAD = 10;

/**
 * Builds one run value (see the file comment) member by member, in sequence order. The offsets it
 * returns are where each body lies in the value `finish` returns.
 */
export class RunWriter {
  readonly #w = new Writer();
  #start = 0;
  /** Length of the body added last. */
  lastLength = 0;

  begin(count: number): void {
    const w = this.#w.reset();
    w.u8(RUN_V3);
    w.uvar(count);
  }

  /** Adds a delivery encoded from its fields; returns the offset of its body. */
  add(delta: number, qos: QoS, retain: boolean, ids: readonly number[] | undefined, message: Message, packetId: number, released: boolean): number {
    this.#head(delta);
    writeDeliveryBody(this.#w, qos, retain, ids, message, packetId, released);
    return this.#end();
  }

  /** Adds a body taken from an earlier value, with another packet id and release state. */
  addEncoded(delta: number, src: Buffer, off: number, len: number, packetId: number, released: boolean): number {
    this.#head(delta);
    const w = this.#w;
    const at = w.pos;
    w.raw(src.subarray(off, off + len));
    const buf = w.buf;
    buf[at + D_FLAGS] = released ? buf[at + D_FLAGS]! | D_RELEASED : buf[at + D_FLAGS]! & ~D_RELEASED;
    buf.writeUInt16BE(packetId, at + D_PACKET_ID);
    return this.#end();
  }

  /** The value: a copy of the bytes written, with their checksum. */
  finish(): Buffer {
    return this.#w.finish();
  }

  #head(delta: number): void {
    const w = this.#w;
    w.uvar(delta);
    w.ensure(4);
    w.pos += 4;
    this.#start = w.pos;
  }

  #end(): number {
    const w = this.#w;
    const start = this.#start;
    this.lastLength = w.pos - start;
    w.buf.writeUInt32BE(this.lastLength, start - 4);
    return start;
  }
}

/**
 * The members of a stored delivery value, checksum verified: `members` holds (seq delta, body
 * offset, body length) triples into `value`. A run gives its members; a single delivery of
 * version 2 (written by earlier versions) is a run of one at delta 0; one of version 1 is first
 * converted (so `value` is then a new buffer).
 */
export function readRun(buf: Buffer): { value: Buffer; members: number[] } {
  if (buf.length > 0 && buf[0] !== RUN_V3) {
    if (buf[0] !== DELIVERY_V2) buf = encodeDelivery(decodeDelivery(buf));
    else open(buf); // checks the checksum
    // A version 2 delivery is a body followed by its checksum.
    readDeliveryHead(new Reader(buf, buf.length - 4));
    return { value: buf, members: [0, 0, buf.length - 4] };
  }
  const r = open(buf);
  r.u8();
  const n = r.uvar();
  if (n === 0) throw new CorruptValueError('empty delivery run');
  const members: number[] = [];
  let last = -1;
  for (let i = 0; i < n; i++) {
    const delta = r.uvar();
    if (delta <= last) throw new CorruptValueError('delivery run out of sequence order');
    last = delta;
    const len = r.u32();
    r.skip(len);
    members.push(delta, r.pos - len, len);
  }
  r.done();
  return { value: buf, members };
}

/** What the store indexes of a delivery body (see {@link readRun}), without decoding the rest. */
export function peekBody(buf: Buffer, off: number, len: number): { expiresAt: number | undefined; packetId: number; released: boolean; qos: QoS } {
  const r = new Reader(buf, off + len, off);
  const head = readBodyHead(r);
  return { expiresAt: peekMessageAt(r).expiresAt, packetId: head.packetId, released: head.released, qos: head.qos };
}

/** A delivery body (see {@link readRun}) decoded; its packet id and release state are left out. */
export function decodeBody(buf: Buffer, off: number, len: number): DeliveryBody {
  const r = new Reader(buf, off + len, off);
  return readDeliveryRest(r, readBodyHead(r));
}

function readBodyHead(r: Reader): DeliveryHead {
  if (r.buf[r.pos] !== DELIVERY_V2) throw new CorruptValueError(`unknown delivery body format ${String(r.buf[r.pos])}`);
  return readDeliveryHead(r);
}

/**
 * Length of the body {@link RunWriter.add} writes for these fields, without encoding them. Throws
 * where the encoder would (so that a delivery it could not encode is refused when it is added, not
 * when its transaction is built).
 */
export function deliveryBodySize(ids: readonly number[] | undefined, m: Message): number {
  let n = 4; // version, flags, packet id
  if (ids !== undefined) {
    n += uvarSize(ids.length);
    for (const id of ids) {
      if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`expected a non-negative integer, got ${String(id)}`);
      n += uvarSize(id);
    }
  }
  if (typeof m.topic !== 'string') throw new TypeError(`expected a string, got ${typeof m.topic}`);
  if (!(m.payload instanceof Uint8Array)) throw new TypeError(`expected a Buffer, got ${typeof m.payload}`);
  n += 10 + (m.expiresAt !== undefined ? 8 : 0) + strSize(m.topic) + encodedPublisher(m.from).length;
  if (m.properties !== undefined) {
    const w = sizeWriter.reset();
    writeProperties(w, m.properties);
    n += w.pos;
  }
  return n + uvarSize(m.payload.length) + m.payload.length;
}

const sizeWriter = new Writer();

function uvarSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function strSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  return uvarSize(n) + n;
}

// --- Session records: self-describing plain values ----------------------------------------------

const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
const T_NUMBER = 4;
const T_STRING = 5;
const T_BYTES = 6;
const T_ARRAY = 7;
const T_OBJECT = 8;

/**
 * Plain values: null, booleans, numbers, strings, Buffers (any Uint8Array comes back as a
 * Buffer), arrays and plain objects. Object keys whose value is `undefined` are left out, as
 * `JSON.stringify` does; anything else (functions, bigints, symbols, class instances) is refused.
 */
function writeValue(w: Writer, v: unknown, depth: number): void {
  if (depth > 64) throw new TypeError('value nested too deeply to store');
  if (v === null) w.u8(T_NULL);
  else if (v === false) w.u8(T_FALSE);
  else if (v === true) w.u8(T_TRUE);
  else if (typeof v === 'number') {
    w.u8(T_NUMBER);
    w.f64(v);
  } else if (typeof v === 'string') {
    w.u8(T_STRING);
    w.str(v);
  } else if (v instanceof Uint8Array) {
    w.u8(T_BYTES);
    w.bytes(v);
  } else if (Array.isArray(v)) {
    w.u8(T_ARRAY);
    w.uvar(v.length);
    for (const item of v) writeValue(w, item === undefined ? null : item, depth + 1);
  } else if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    w.u8(T_OBJECT);
    w.uvar(entries.length);
    for (const [key, x] of entries) {
      w.str(key);
      writeValue(w, x, depth + 1);
    }
  } else {
    throw new TypeError(`cannot store a value of type ${typeof v}`);
  }
}

function readValue(r: Reader, depth: number): unknown {
  if (depth > 64) throw new CorruptValueError('value nested too deeply');
  const tag = r.u8();
  switch (tag) {
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_NUMBER:
      return r.f64();
    case T_STRING:
      return r.str();
    case T_BYTES:
      return r.bytes();
    case T_ARRAY: {
      const n = r.uvar();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1));
      return out;
    }
    case T_OBJECT: {
      const n = r.uvar();
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = r.str();
        setOwn(out, key, readValue(r, depth + 1));
      }
      return out;
    }
    default:
      throw new CorruptValueError(`unknown value tag ${tag}`);
  }
}

export function encodeSession(s: StoredSession): Buffer {
  const w = writer.reset();
  w.u8(SESSION_V1);
  writeValue(w, s, 0);
  return w.finish();
}

export function decodeSession(buf: Buffer): StoredSession {
  const r = open(buf);
  const version = r.u8();
  if (version !== SESSION_V1) throw new CorruptValueError(`unknown session format ${version}`);
  const v = readValue(r, 0) as StoredSession;
  r.done();
  if (typeof v !== 'object' || v === null || typeof v.clientId !== 'string' || !Array.isArray(v.subscriptions)) {
    throw new CorruptValueError('not a session record');
  }
  return v;
}

// --- Small fixed values ------------------------------------------------------------------------

/** Inflight table value (format 1, read once to move it): the delivery's sequence number and whether PUBREC was received. */
export function decodeInflight(buf: Buffer): { seq: number; released: boolean } {
  if (buf.length !== 9 || buf[8]! > 1) throw new CorruptValueError(`bad inflight entry of ${buf.length} bytes`);
  return { seq: readU64(buf, 0), released: buf[8] === 1 };
}

/** Awaiting-rel value: the time the QoS 2 PUBLISH was received. */
export function encodeTime(at: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeDoubleBE(at, 0);
  return out;
}

export function decodeTime(buf: Buffer): number {
  if (buf.length !== 8) throw new CorruptValueError(`bad time entry of ${buf.length} bytes`);
  return buf.readDoubleBE(0);
}

/** Big-endian unsigned 64-bit of a safe integer: byte order is numeric order. */
export function writeU64(buf: Buffer, offset: number, v: number): void {
  buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000), offset);
  buf.writeUInt32BE(v >>> 0, offset + 4);
}

export function readU64(buf: Buffer, offset: number): number {
  const v = buf.readUInt32BE(offset) * 0x1_0000_0000 + buf.readUInt32BE(offset + 4);
  if (!Number.isSafeInteger(v)) throw new CorruptValueError('sequence number out of range');
  return v;
}
