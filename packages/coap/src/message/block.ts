/**
 * Block1 and Block2 option values (RFC 7959 §2.2): NUM (4, 12 or 20 bits), M (1 bit) and SZX
 * (3 bits, block size 2^(SZX+4), 16..1024; SZX 7 is reserved).
 */
export interface Block {
  readonly num: number;
  readonly more: boolean;
  /** Bytes: 16, 32, ..., 1024. */
  readonly size: number;
}

export const BLOCK_SIZES = [16, 32, 64, 128, 256, 512, 1024] as const;
export type BlockSize = (typeof BLOCK_SIZES)[number];

/** Undefined for a value longer than 3 bytes or with the reserved SZX 7 (RFC 7959 §2.2). */
export function decodeBlock(value: Buffer): Block | undefined {
  if (value.length > 3) return undefined;
  let n = 0;
  for (const byte of value) n = (n << 8) | byte;
  const szx = n & 7;
  if (szx === 7) return undefined;
  return { num: n >>> 4, more: (n & 8) !== 0, size: 1 << (szx + 4) };
}

export function encodeBlock(b: Block): Buffer {
  const szx = Math.log2(b.size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new RangeError(`bad block size ${b.size}`);
  if (!Number.isInteger(b.num) || b.num < 0 || b.num > 0xfffff) throw new RangeError(`bad block number ${b.num}`);
  const n = (b.num << 4) | (b.more ? 8 : 0) | szx;
  // RFC 7959 §2.2 allows 0 bytes for NUM 0, M 0, SZX 0; one zero byte is sent instead, which
  // node-coap (whose block parser refuses an empty value) and everyone else read alike.
  if (n <= 0xff) return Buffer.of(n);
  if (n <= 0xffff) return Buffer.of(n >>> 8, n & 0xff);
  return Buffer.of(n >>> 16, (n >>> 8) & 0xff, n & 0xff);
}

export function isBlockSize(n: number): n is BlockSize {
  return (BLOCK_SIZES as readonly number[]).includes(n);
}
