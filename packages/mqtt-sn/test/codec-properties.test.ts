import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, MqttSnDecodeError, type MqttSnMessage } from '../src/index.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const text = fc.string({ unit: 'binary', maxLength: 40 });
const payload = fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 240, maxLength: 600 }) }).map((a) => Buffer.from(a));
const nonEmpty = (a: fc.Arbitrary<Uint8Array>) => a.filter((x) => x.length > 0).map((x) => Buffer.from(x));
/** Two octets of UTF-8: two ASCII characters or one from U+0080..U+07FF. */
const shortName = fc.oneof(
  fc.tuple(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x20, max: 0x7e })).map(([a, b]) => String.fromCharCode(a, b)),
  fc.integer({ min: 0x80, max: 0x7ff }).map((c) => String.fromCodePoint(c)),
);
const snQos = fc.constantFrom(-1 as const, 0 as const, 1 as const, 2 as const);
const willQos = fc.constantFrom(0 as const, 1 as const, 2 as const);
const will = fc.record({ qos: willQos, retain: fc.boolean(), topic: text });
const publishTopic = fc.oneof(
  u16.map((id) => ({ kind: 'id' as const, id })),
  u16.map((id) => ({ kind: 'predefined' as const, id })),
  shortName.map((name) => ({ kind: 'short' as const, name })),
);
const filterTopic = fc.oneof(
  text.map((name) => ({ kind: 'name' as const, name })),
  u16.map((id) => ({ kind: 'predefined' as const, id })),
  shortName.map((name) => ({ kind: 'short' as const, name })),
);

const plain: fc.Arbitrary<MqttSnMessage> = fc.oneof(
  fc.record({ type: fc.constant('advertise' as const), gwId: u8, duration: u16 }),
  fc.record({ type: fc.constant('searchgw' as const), radius: u8 }),
  fc.record({ type: fc.constant('gwinfo' as const), gwId: u8, gwAdd: nonEmpty(fc.uint8Array({ maxLength: 16 })) }, { requiredKeys: ['type', 'gwId'] }),
  fc.record({ type: fc.constant('connect' as const), will: fc.boolean(), cleanSession: fc.boolean(), protocolId: u8, duration: u16, clientId: text }),
  fc.record({ type: fc.constant('connack' as const), returnCode: u8 }),
  fc.constant({ type: 'willtopicreq' as const }),
  fc.record({ type: fc.constant('willtopic' as const), will }, { requiredKeys: ['type'] }),
  fc.constant({ type: 'willmsgreq' as const }),
  fc.record({ type: fc.constant('willmsg' as const), payload }),
  fc.record({ type: fc.constant('register' as const), topicId: u16, msgId: u16, topicName: text }),
  fc.record({ type: fc.constant('regack' as const), topicId: u16, msgId: u16, returnCode: u8 }),
  fc.record({ type: fc.constant('publish' as const), dup: fc.boolean(), qos: snQos, retain: fc.boolean(), topic: publishTopic, msgId: u16, payload }),
  fc.record({ type: fc.constant('puback' as const), topicId: u16, msgId: u16, returnCode: u8 }),
  fc.record({ type: fc.constantFrom('pubrec' as const, 'pubrel' as const, 'pubcomp' as const, 'unsuback' as const), msgId: u16 }),
  fc.record({ type: fc.constant('subscribe' as const), dup: fc.boolean(), qos: snQos, msgId: u16, topic: filterTopic }),
  fc.record({ type: fc.constant('suback' as const), qos: snQos, topicId: u16, msgId: u16, returnCode: u8 }),
  fc.record({ type: fc.constant('unsubscribe' as const), msgId: u16, topic: filterTopic }),
  fc.record({ type: fc.constant('pingreq' as const), clientId: text.filter((t) => t.length > 0) }, { requiredKeys: ['type'] }),
  fc.constant({ type: 'pingresp' as const }),
  fc.record({ type: fc.constant('disconnect' as const), duration: u16 }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constant('willtopicupd' as const), will }, { requiredKeys: ['type'] }),
  fc.record({ type: fc.constantFrom('willtopicresp' as const, 'willmsgresp' as const), returnCode: u8 }),
  fc.record({ type: fc.constant('willmsgupd' as const), payload }),
) as fc.Arbitrary<MqttSnMessage>;

const message: fc.Arbitrary<MqttSnMessage> = fc.oneof(
  { weight: 8, arbitrary: plain },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('encapsulated' as const), radius: fc.integer({ min: 0, max: 3 }), wirelessNodeId: fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a)), message: plain }) },
);

/** Only our error type may escape the decoder. */
function decodesOrRefuses(bytes: Buffer): MqttSnMessage | undefined {
  try {
    return decode(bytes);
  } catch (err) {
    if (!(err instanceof MqttSnDecodeError)) throw err;
    return undefined;
  }
}

describe('codec properties', () => {
  it('decode(encode(m)) equals m for every message type', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decode(encode(m))).toEqual(m);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes only ever throw MqttSnDecodeError, and what decodes re-encodes to the same message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (a) => {
        const m = decodesOrRefuses(Buffer.from(a));
        if (m) expect(decode(encode(m))).toEqual(m);
      }),
      { numRuns: 10_000 },
    );
  });

  it('valid messages with bytes changed, cut or added only ever throw MqttSnDecodeError', () => {
    const mutated = fc.tuple(message, fc.array(fc.tuple(fc.nat(), u8), { maxLength: 4 }), fc.integer({ min: -3, max: 3 })).map(([m, flips, cut]) => {
      const bytes = Buffer.from(encode(m));
      for (const [at, v] of flips) if (bytes.length > 0) bytes[at % bytes.length] = v;
      return cut < 0 ? bytes.subarray(0, Math.max(0, bytes.length + cut)) : Buffer.concat([bytes, Buffer.alloc(cut, 0x55)]);
    });
    fc.assert(
      fc.property(mutated, (bytes) => {
        decodesOrRefuses(bytes);
      }),
      { numRuns: 10_000 },
    );
  });
});
