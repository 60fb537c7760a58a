/**
 * The message layer by itself: RFC 7252 §3 framing (byte-exact fixtures, round trips, malformed
 * input classified, random bytes never throwing), RFC 7959 block values, Content-Format mapping,
 * and EMQX's query names.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock } from '../src/message/block.js';
import { codeFromString, codeToString } from '../src/message/codes.js';
import { contentFormatFor, contentTypeFor } from '../src/message/content-format.js';
import { encode, parse, reset, type CoapMessage } from '../src/message/frame.js';
import { decodeUint, encodeUint, Option } from '../src/message/options.js';
import { parseQuery, route } from '../src/uri.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 7252 §3 message format', () => {
  it('encodes a confirmable GET with token, options and no payload byte-exactly', () => {
    const bytes = encode({
      type: 'CON',
      code: codeFromString('0.01'),
      messageId: 0x1234,
      token: Buffer.from('ab'),
      options: [
        { number: Option.URI_PATH, value: Buffer.from('ps') },
        { number: Option.OBSERVE, value: encodeUint(0) },
        { number: Option.URI_PATH, value: Buffer.from('t') },
      ],
    });
    // 0x42: ver 1, CON, TKL 2 | 0x01 GET | 0x1234 | 'ab' | Observe(6) len 0 | Uri-Path(11) delta 5 'ps' | delta 0 't'
    expect(bytes).toEqual(hex('42 01 1234 6162 60 52 7073 01 74'));
  });

  it('uses the extended delta and length forms (13, 14)', () => {
    const long = Buffer.alloc(300, 0x61);
    const bytes = encode({ type: 'NON', code: codeFromString('2.05'), messageId: 1, options: [{ number: Option.SIZE1, value: Buffer.alloc(13, 1) }, { number: Option.REQUEST_TAG, value: long }], payload: Buffer.from('x') });
    // Size1 = 60: delta 13 + 47; length 13 + 0. Request-Tag 292: delta 232 = 13 + 219; length 14: 300 - 269 = 31.
    expect(bytes.subarray(0, 4)).toEqual(hex('50 45 0001'));
    expect(bytes.subarray(4, 7)).toEqual(hex('dd 2f 00'));
    expect(bytes.subarray(20, 24)).toEqual(hex('de db 001f'));
    const r = parse(bytes);
    expect(r.ok && r.message.options.map((o) => [o.number, o.value.length])).toEqual([[60, 13], [292, 300]]);
  });

  it('round-trips every well-formed message', () => {
    const option = fc.record({ number: fc.integer({ min: 0, max: 2000 }), value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) });
    const message = fc.record({
      type: fc.constantFrom('CON', 'NON', 'ACK', 'RST' as const),
      code: fc.constantFrom(1, 2, 3, 4, 0x41, 0x44, 0x45, 0x80, 0x84, 0xa0),
      messageId: fc.integer({ min: 0, max: 0xffff }),
      token: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)),
      options: fc.array(option, { maxLength: 8 }).map((os) => [...os].sort((a, b) => a.number - b.number)),
      payload: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    });
    fc.assert(
      fc.property(message, (m) => {
        const r = parse(encode(m));
        expect(r.ok).toBe(true);
        expect(r.ok && r.message).toEqual(m satisfies CoapMessage);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['empty message with a token', '41 00 0001 aa', 'format_error'],
    ['empty message with a payload marker', '40 00 0001 ff', 'format_error'],
    ['token length 9', '49 01 0001 000000000000000000', 'format_error'],
    ['token shorter than TKL', '44 01 0001 0000', 'format_error'],
    ['reserved class 1', '40 21 0001', 'format_error'],
    ['reserved class 7', '40 e0 0001', 'format_error'],
    ['option delta 15', '40 01 0001 f1 00', 'format_error'],
    ['option length 15', '40 01 0001 1f', 'format_error'],
    ['truncated option value', '40 01 0001 b5 7073', 'format_error'],
    ['truncated extended delta', '40 01 0001 e0 00', 'format_error'],
    ['payload marker without payload', '40 01 0001 b2 7073 ff', 'format_error'],
    ['version 2', '80 01 0001', 'ignore'],
    ['three bytes', '40 01 00', 'ignore'],
  ])('classifies %s', (_what, bytes, kind) => {
    const r = parse(hex(bytes));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.kind).toBe(kind);
    if (!r.ok && r.kind === 'format_error') expect(r.messageId).toBe(1);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (a) => {
        const r = parse(Buffer.from(a));
        if (r.ok) expect(parse(encode(r.message))).toEqual(r);
      }),
      { numRuns: 5000 },
    );
  });

  it('builds a Reset echoing the Message ID (§4.2)', () => {
    expect(reset(0xbeef)).toEqual(hex('70 00 beef'));
  });

  it('writes codes as c.dd', () => {
    expect(codeToString(0x45)).toBe('2.05');
    expect(codeToString(0x8d)).toBe('4.13');
    expect(codeFromString('2.31')).toBe(0x5f);
  });

  it('encodes uint option values minimally (§3.2)', () => {
    expect(encodeUint(0)).toEqual(Buffer.alloc(0));
    expect(encodeUint(0x1234)).toEqual(hex('1234'));
    expect(decodeUint(hex('00 ff'))).toBe(255);
  });
});

describe('RFC 7959 §2.2 block values', () => {
  it('encodes NUM, M and SZX in 1 to 3 bytes, and reads 0 to 3', () => {
    expect(encodeBlock({ num: 0, more: false, size: 16 })).toEqual(hex('00'));
    expect(decodeBlock(Buffer.alloc(0))).toEqual({ num: 0, more: false, size: 16 });
    expect(encodeBlock({ num: 0, more: true, size: 1024 })).toEqual(hex('0e'));
    expect(encodeBlock({ num: 20, more: false, size: 64 })).toEqual(hex('0142'));
    expect(encodeBlock({ num: 0x12345, more: true, size: 32 })).toEqual(hex('123459'));
    for (const b of [{ num: 0, more: true, size: 1024 }, { num: 4095, more: false, size: 16 }, { num: 70000, more: true, size: 256 }]) expect(decodeBlock(encodeBlock(b))).toEqual(b);
  });

  it('refuses SZX 7 and values over 3 bytes', () => {
    expect(decodeBlock(hex('07'))).toBeUndefined();
    expect(decodeBlock(hex('00000001'))).toBeUndefined();
  });
});

describe('Content-Format and MQTT content type', () => {
  it('maps registered formats both ways and keeps unregistered numbers', () => {
    expect(contentTypeFor(50)).toBe('application/json');
    expect(contentTypeFor(0)).toBe('text/plain;charset=utf-8');
    expect(contentTypeFor(65000)).toBe('65000');
    expect(contentFormatFor('application/json')).toBe(50);
    expect(contentFormatFor('Text/Plain; charset=UTF-8')).toBe(0);
    expect(contentFormatFor('text/plain')).toBe(0);
    expect(contentFormatFor('65000')).toBe(65000);
    expect(contentFormatFor('application/x-unknown')).toBeUndefined();
    expect(contentFormatFor(undefined)).toBeUndefined();
  });
});

describe('EMQX query names and paths', () => {
  it('expands the short names c, u, p, t, q, r; the short form wins', () => {
    const q = parseQuery(['c=dev', 'u=user', 'p=a=b', 't=123', 'q=1', 'r=true', 'expiry=5', 'clientid=long', 'flag']);
    expect(Object.fromEntries(q)).toEqual({ clientid: 'dev', username: 'user', password: 'a=b', token: '123', qos: '1', retain: 'true', expiry: '5' });
  });

  it('routes /ps/{topic} (percent-decoded), /mqtt/connection and nothing else', () => {
    expect(route(['ps', 'a', 'b'])).toEqual({ kind: 'pubsub', topic: 'a/b' });
    expect(route(['ps', 'a%2Fb', '%23'])).toEqual({ kind: 'pubsub', topic: 'a/b/#' });
    expect(route(['ps'])).toEqual({ kind: 'pubsub', topic: undefined });
    expect(route(['ps', '%zz'])).toEqual({ kind: 'pubsub', topic: undefined });
    expect(route(['mqtt', 'connection'])).toEqual({ kind: 'connection' });
    expect(route(['mqtt', 'other'])).toEqual({ kind: 'unknown' });
    expect(route([])).toEqual({ kind: 'unknown' });
  });
});
