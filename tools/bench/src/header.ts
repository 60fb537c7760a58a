/**
 * The 16-byte header at the start of every benchmark payload, as the shared C load generator
 * (`mqttload.c`) writes it, so the two tools can read each other's messages:
 *
 *   bytes 0..3   publisher id          u32 little-endian
 *   bytes 4..7   sequence number       u32 little-endian, 0, 1, 2, ... per publisher
 *   bytes 8..15  send time            u64 little-endian, CLOCK_MONOTONIC nanoseconds
 *
 * The rest of the payload is filler. The accessors work on plain byte offsets and allocate
 * nothing: they run once per message on the hot path.
 */
export const HEADER_BYTES = 16;
const TWO32 = 4294967296;

export interface PayloadHeader {
  pub: number;
  seq: number;
  timeNs: number;
}

function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

function getU32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16)) + buf[off + 3]! * 0x1000000;
}

/** Writes the header at `off`. `seq` is taken modulo 2^32; `timeNs` must be a non-negative integer below 2^53. */
export function writeHeader(buf: Uint8Array, off: number, pub: number, seq: number, timeNs: number): void {
  putU32(buf, off, pub >>> 0);
  putU32(buf, off + 4, seq >>> 0);
  putU32(buf, off + 8, timeNs >>> 0);
  putU32(buf, off + 12, Math.floor(timeNs / TWO32) >>> 0);
}

export function readPub(buf: Uint8Array, off: number): number {
  return getU32(buf, off);
}

export function readSeq(buf: Uint8Array, off: number): number {
  return getU32(buf, off + 4);
}

export function readTimeNs(buf: Uint8Array, off: number): number {
  return getU32(buf, off + 12) * TWO32 + getU32(buf, off + 8);
}

export function encodeHeader(h: PayloadHeader, size = HEADER_BYTES): Buffer {
  if (size < HEADER_BYTES) throw new RangeError(`payload size must be at least ${HEADER_BYTES} bytes`);
  const buf = Buffer.alloc(size, 0x78); // 'x', as mqttload fills
  writeHeader(buf, 0, h.pub, h.seq, h.timeNs);
  return buf;
}

export function decodeHeader(buf: Uint8Array, off = 0): PayloadHeader {
  if (buf.length - off < HEADER_BYTES) throw new RangeError('payload shorter than the benchmark header');
  return { pub: readPub(buf, off), seq: readSeq(buf, off), timeNs: readTimeNs(buf, off) };
}
