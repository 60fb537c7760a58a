import type { Message, MessageProperties } from '@junction/broker-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameError } from '../src/index.js';

const ORIGIN = Buffer.from('0123456789abcdef', 'hex');

const str = fc.string({ unit: 'grapheme', maxLength: 20 });
const props: fc.Arbitrary<MessageProperties> = fc.record(
  {
    payloadFormatIndicator: fc.boolean(),
    messageExpiryInterval: fc.integer({ min: 0, max: 0xffffffff }),
    contentType: str,
    responseTopic: str,
    correlationData: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
    userProperties: fc.dictionary(str, fc.oneof(str, fc.array(str, { minLength: 2, maxLength: 3 })), { minKeys: 1 }),
  },
  { requiredKeys: [] },
);
const message: fc.Arbitrary<Message> = fc.record(
  {
    topic: str.filter((s) => s.length > 0),
    payload: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.boolean(),
    properties: props,
    from: fc.record({ clientId: str, username: str, protocol: str, peer: str, node: str }, { requiredKeys: ['clientId', 'protocol', 'node'] }),
    timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    expiresAt: fc.integer({ min: 0, max: 2 ** 45 }),
  },
  { requiredKeys: ['topic', 'payload', 'qos', 'retain', 'from', 'timestamp'] },
);

/** What survives a frame: an empty property set is the same as none. */
function normal(m: Message): Message {
  const { properties, ...rest } = m;
  return properties && Object.keys(properties).length > 0 ? m : rest;
}

describe('message frame', () => {
  it('decode(encode(m)) == m (property)', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: 2 ** 40 }), (m, seq) => {
        const f = decodeFrame(encodeFrame(m, ORIGIN, seq));
        expect(f.seq).toBe(seq);
        expect(f.origin).toBe(ORIGIN.readUIntBE(0, 6));
        expect(f.message).toEqual(normal(m));
      }),
      { numRuns: 500 },
    );
  });

  it('a small message costs a small header', () => {
    const m: Message = { topic: 'a/b', payload: Buffer.from('hello'), qos: 1, retain: false, from: { clientId: 'c1', protocol: 'mqtt', node: 'n1' }, timestamp: 1 };
    expect(encodeFrame(m, ORIGIN, 1).length - m.payload.length).toBeLessThan(50);
  });

  it('random bytes and truncated frames throw FrameError and nothing else (property)', () => {
    const valid = encodeFrame(
      { topic: 't', payload: Buffer.from('p'), qos: 2, retain: true, properties: { contentType: 'x', userProperties: { k: ['a', 'b'] } }, from: { clientId: 'c', protocol: 'mqtt', node: 'n' }, timestamp: 5 },
      ORIGIN,
      7,
    );
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.subarray(0, n))), (bytes) => {
        try {
          decodeFrame(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
