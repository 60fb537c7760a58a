/**
 * The HTTP/3 codec of the WebTransport endpoint, byte-exact: QUIC varints (RFC 9000 §16 and
 * its Appendix A examples), the HPACK/QPACK Huffman code (RFC 7541 Appendix C.4 strings),
 * QPACK field sections with the static table (RFC 9204), HTTP/3 frames and SETTINGS
 * (RFC 9114 §7), and random input that may only ever fail with our H3Error.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { H3, H3Error } from '../src/webtransport/h3/errors.js';
import { decodeSettings, encodeFrame, encodeSettings, FRAME, FrameReader, isReservedType, MAX_FRAME_PAYLOAD, SETTING } from '../src/webtransport/h3/frames.js';
import { huffmanDecode, huffmanEncode } from '../src/webtransport/h3/huffman.js';
import { decodeFieldSection, encodeFieldSection, type HeaderList } from '../src/webtransport/h3/qpack.js';
import { encodeVarint, readVarint } from '../src/webtransport/h3/varint.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** Run `fn`; anything thrown must be an H3Error. */
function onlyH3Errors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof H3Error)) throw err;
  }
}

describe('QUIC variable-length integers (RFC 9000 §16, Appendix A.1)', () => {
  it.each([
    ['c2197c5eff14e88c', 151288809941952652n],
    ['9d7f3e7d', 494878333],
    ['7bbd', 15293],
    ['25', 37],
    ['4025', 37],
  ])('decodes %s', (bytes, value) => {
    const buf = hex(bytes);
    if (typeof value === 'bigint') {
      // Beyond 2^53: refused rather than rounded.
      expect(() => readVarint(buf)).toThrow(H3Error);
      return;
    }
    expect(readVarint(buf)).toEqual({ value, size: buf.length });
  });

  it('encodes in the fewest bytes and round-trips at every length boundary', () => {
    expect(encodeVarint(37)).toEqual(hex('25'));
    expect(encodeVarint(15293)).toEqual(hex('7bbd'));
    expect(encodeVarint(494878333)).toEqual(hex('9d7f3e7d'));
    for (const v of [0, 63, 64, 16383, 16384, 1073741823, 1073741824, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const enc = encodeVarint(v);
      expect(readVarint(enc)).toEqual({ value: v, size: enc.length });
    }
  });

  it('reports a truncated varint as incomplete, not as a value', () => {
    expect(readVarint(hex('9d7f3e'))).toBeUndefined();
    expect(readVarint(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('Huffman code (RFC 7541 Appendix B; C.4 examples)', () => {
  it.each([
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
  ])('%s', (text, code) => {
    expect(huffmanEncode(Buffer.from(text))).toEqual(hex(code));
    expect(huffmanDecode(hex(code)).toString()).toBe(text);
  });

  it('round-trips every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
  });

  it('refuses bad padding and the EOS symbol', () => {
    // "a" is 00011: padded with zeros instead of ones.
    expect(() => huffmanDecode(hex('18'))).toThrowError(expect.objectContaining({ code: H3.QPACK_DECOMPRESSION_FAILED }));
    // More than 7 bits of padding.
    expect(() => huffmanDecode(hex('1fff'))).toThrow(H3Error);
    // EOS (30 ones) inside the string.
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(H3Error);
  });
});

describe('QPACK field sections, static table only (RFC 9204)', () => {
  const connect: HeaderList = [
    [':method', 'CONNECT'],
    [':protocol', 'webtransport'],
    [':scheme', 'https'],
    [':authority', '127.0.0.1:14568'],
    [':path', '/mqtt'],
    ['origin', 'http://127.0.0.1:8080'],
    ['sec-webtransport-http3-draft02', '1'],
  ];

  it('encodes :status 200 as one static reference', () => {
    // Required Insert Count 0, Base 0, indexed field line T=1 index 25.
    expect(encodeFieldSection([[':status', '200']])).toEqual(hex('0000d9'));
    expect(encodeFieldSection([[':status', '404']])).toEqual(hex('0000db'));
  });

  it('round-trips an extended CONNECT with and without Huffman', () => {
    expect(decodeFieldSection(encodeFieldSection(connect))).toEqual(connect);
    expect(decodeFieldSection(encodeFieldSection(connect, { huffman: true }))).toEqual(connect);
  });

  it('decodes a literal with a static name reference and a literal name', () => {
    // 0x51 = literal with name reference, T=1, index 1 (:path); value "/mqtt".
    // 0x23 = literal name of 3 bytes "foo", value "bar".
    const block = Buffer.concat([hex('0000'), hex('51'), Buffer.from([5]), Buffer.from('/mqtt'), hex('23'), Buffer.from('foo'), Buffer.from([3]), Buffer.from('bar')]);
    expect(decodeFieldSection(block)).toEqual([
      [':path', '/mqtt'],
      ['foo', 'bar'],
    ]);
  });

  it.each([
    ['a Required Insert Count above 0', '0100d9'],
    ['an indexed dynamic entry', '000080'],
    ['a dynamic name reference', '000040 00'],
    ['a post-base index', '000010'],
    ['a static index beyond the table', '0000ff 30'],
    ['a truncated string', '000051 05 2f'],
  ])('refuses %s with QPACK_DECOMPRESSION_FAILED', (_what, bytes) => {
    expect(() => decodeFieldSection(hex(bytes))).toThrowError(expect.objectContaining({ code: H3.QPACK_DECOMPRESSION_FAILED }));
  });

  it('refuses an uppercase field name as a malformed message on that stream', () => {
    const block = Buffer.concat([hex('0000'), hex('23'), Buffer.from('Foo'), Buffer.from([1]), Buffer.from('x')]);
    expect(() => decodeFieldSection(block)).toThrowError(expect.objectContaining({ code: H3.MESSAGE_ERROR, scope: 'stream' }));
  });
});

describe('HTTP/3 frames and SETTINGS (RFC 9114 §7)', () => {
  it('writes SETTINGS byte-exact and reads them back', () => {
    const settings = new Map([
      [SETTING.ENABLE_CONNECT_PROTOCOL, 1],
      [SETTING.H3_DATAGRAM, 1],
      [SETTING.ENABLE_WEBTRANSPORT, 1],
    ]);
    const frame = encodeSettings(settings);
    // Type 4, length 9: 0x08=1, 0x33=1, 0x2b603742 (a 4-byte varint: 0xab603742)=1.
    expect(frame).toEqual(hex('04 09 0801 3301 ab603742 01'));
    const [f] = new FrameReader().push(frame);
    expect(f!.type).toBe(FRAME.SETTINGS);
    expect(decodeSettings(f!.payload)).toEqual(settings);
  });

  it('refuses duplicate and HTTP/2-only settings with H3_SETTINGS_ERROR', () => {
    expect(() => decodeSettings(hex('0801 0801'))).toThrowError(expect.objectContaining({ code: H3.SETTINGS_ERROR }));
    expect(() => decodeSettings(hex('0200'))).toThrowError(expect.objectContaining({ code: H3.SETTINGS_ERROR }));
    expect(() => decodeSettings(hex('08'))).toThrowError(expect.objectContaining({ code: H3.FRAME_ERROR }));
  });

  it('reassembles frames split at every byte, passing DATA payloads through unbuffered', () => {
    const stream = Buffer.concat([
      encodeFrame(FRAME.HEADERS, encodeFieldSection([[':status', '200']])),
      encodeFrame(FRAME.DATA, Buffer.from('capsule bytes')),
      encodeFrame(0x21, Buffer.from('reserved')),
      encodeFrame(FRAME.GOAWAY, encodeVarint(8)),
    ]);
    const data: Buffer[] = [];
    const reader = new FrameReader((c) => data.push(Buffer.from(c)));
    const types: number[] = [];
    for (const byte of stream) for (const f of reader.push(Buffer.from([byte]))) types.push(f.type);
    expect(types).toEqual([FRAME.HEADERS, FRAME.DATA, 0x21, FRAME.GOAWAY]);
    expect(Buffer.concat(data).toString()).toBe('capsule bytes');
    expect(reader.atBoundary).toBe(true);
    expect(isReservedType(0x21)).toBe(true);
    expect(isReservedType(0x21 + 0x1f * 3)).toBe(true);
    expect(isReservedType(0x22)).toBe(false);
  });

  it('refuses a frame larger than it buffers with H3_EXCESSIVE_LOAD, before the payload arrives', () => {
    const header = Buffer.concat([encodeVarint(FRAME.HEADERS), encodeVarint(MAX_FRAME_PAYLOAD + 1)]);
    expect(() => new FrameReader().push(header)).toThrowError(expect.objectContaining({ code: H3.EXCESSIVE_LOAD }));
  });
});

describe('random input never escapes as anything but H3Error', () => {
  it('field sections, Huffman strings, SETTINGS payloads and frame streams', () => {
    for (let i = 0; i < 3000; i++) {
      const junk = randomBytes(1 + (i % 64));
      onlyH3Errors(() => decodeFieldSection(junk));
      onlyH3Errors(() => decodeFieldSection(Buffer.concat([hex('0000'), junk])));
      onlyH3Errors(() => huffmanDecode(junk));
      onlyH3Errors(() => decodeSettings(junk));
      onlyH3Errors(() => new FrameReader().push(junk));
      onlyH3Errors(() => readVarint(junk));
    }
  });
});
