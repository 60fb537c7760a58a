/**
 * QUIC variable-length integers (RFC 9000 §16): the two top bits of the first byte give the
 * length (1, 2, 4 or 8 bytes), the rest is the value, big-endian. Values above 2^53 - 1 cannot
 * be JavaScript numbers; none of the fields read here may be that large, so they are refused.
 */
import { H3, H3Error } from './errors.js';

export const MAX_VARINT = 2 ** 62 - 1;

/** The value and the bytes it took, or undefined when `buf` ends first. */
export function readVarint(buf: Uint8Array, offset = 0): { value: number; size: number } | undefined {
  if (offset >= buf.length) return undefined;
  const first = buf[offset]!;
  const size = 1 << (first >> 6);
  if (offset + size > buf.length) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + buf[offset + i]!;
  if (!Number.isSafeInteger(value)) throw new H3Error(H3.FRAME_ERROR, 'variable-length integer too large');
  return { value, size };
}

const LENGTH_BITS = { 1: 0x00, 2: 0x40, 4: 0x80, 8: 0xc0 } as const;

/** Bytes needed for `value`. */
export function varintSize(value: number): 1 | 2 | 4 | 8 {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Encode `value` (0 ≤ value ≤ 2^53 - 1) in the fewest bytes. */
export function encodeVarint(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a varint: ${value}`);
  const size = varintSize(value);
  const out = Buffer.alloc(size);
  let v = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0]! |= LENGTH_BITS[size];
  return out;
}
