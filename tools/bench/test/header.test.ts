import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader, HEADER_BYTES, readPub, readSeq, readTimeNs, writeHeader } from '../src/header.js';

describe('payload header codec', () => {
  it('lays out pub id, sequence and send time as mqttload does (u32 LE, u32 LE, u64 LE ns)', () => {
    const t = 1_234_567_890_123_456;
    const b = encodeHeader({ pub: 7, seq: 0x01020304, timeNs: t }, 32);
    expect(b.length).toBe(32);
    expect(b.readUInt32LE(0)).toBe(7);
    expect(b.readUInt32LE(4)).toBe(0x01020304);
    expect(b.readBigUInt64LE(8)).toBe(BigInt(t));
    // the rest is filler
    expect([...b.subarray(HEADER_BYTES)].every((x) => x === 0x78)).toBe(true);
  });

  it('round-trips edge values', () => {
    const cases = [
      { pub: 0, seq: 0, timeNs: 0 },
      { pub: 0xffffffff, seq: 0xffffffff, timeNs: Number.MAX_SAFE_INTEGER },
      { pub: 999, seq: 2 ** 31, timeNs: 2 ** 32 },
      { pub: 1, seq: 2 ** 32 - 2, timeNs: 2 ** 32 - 1 },
      { pub: 65536, seq: 123456, timeNs: 5_000_000_000_123 },
    ];
    for (const h of cases) expect(decodeHeader(encodeHeader(h))).toEqual(h);
  });

  it('reads a header written by another writer (BigInt reference) at any offset', () => {
    const b = Buffer.alloc(64);
    for (const off of [0, 3, 17, 48]) {
      b.fill(0);
      b.writeUInt32LE(42, off);
      b.writeUInt32LE(4_000_000_000, off + 4);
      b.writeBigUInt64LE(9_007_199_254_740_000n, off + 8);
      expect(readPub(b, off)).toBe(42);
      expect(readSeq(b, off)).toBe(4_000_000_000);
      expect(readTimeNs(b, off)).toBe(9_007_199_254_740_000);
    }
  });

  it('writes in place without touching neighbours, and wraps the sequence modulo 2^32', () => {
    const b = Buffer.alloc(20, 0xaa);
    writeHeader(b, 2, 5, 2 ** 32 + 9, 77);
    expect(b[0]).toBe(0xaa);
    expect(b[1]).toBe(0xaa);
    expect(b[18]).toBe(0xaa);
    expect(decodeHeader(b, 2)).toEqual({ pub: 5, seq: 9, timeNs: 77 });
  });

  it('rejects payloads too short for the header', () => {
    expect(() => encodeHeader({ pub: 1, seq: 1, timeNs: 1 }, 15)).toThrow(RangeError);
    expect(() => decodeHeader(Buffer.alloc(15))).toThrow(RangeError);
  });
});
