import type { Message, StoredSession } from '@junction/broker-core';
import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CorruptValueError,
  crc32,
  decodeBody,
  decodeDelivery,
  decodeMessage,
  decodeSession,
  deliveryBodySize,
  encodeDelivery,
  encodeMessage,
  encodeSession,
  peekBody,
  peekMessage,
  readRun,
  RunWriter,
} from '../src/codec.js';
import { clientKey, retainedKey, seqKey, splitKey } from '../src/keys.js';

/** A deep copy with ordinary prototypes (fast-check builds records without one); Buffers kept. */
function plain<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: plain(x), enumerable: true, writable: true, configurable: true });
  return out as T;
}

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });

const arbMessage: fc.Arbitrary<Message> = fc.record(
  {
    topic: text,
    payload: bytes,
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.boolean(),
    properties: fc.record(
      {
        payloadFormatIndicator: fc.boolean(),
        messageExpiryInterval: fc.nat(),
        contentType: text,
        responseTopic: text,
        correlationData: bytes,
        userProperties: fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 4 }))),
      },
      { requiredKeys: [] },
    ),
    from: fc.record(
      { clientId: text, username: text, protocol: fc.constantFrom('mqtt', 'coap', '$sys'), peer: text, node: text },
      { requiredKeys: ['clientId', 'protocol', 'node'] },
    ),
    timestamp: finite,
    expiresAt: finite,
  },
  { requiredKeys: ['topic', 'payload', 'qos', 'retain', 'from', 'timestamp'] },
);

describe('codec', () => {
  it('messages round-trip exactly', () => {
    fc.assert(
      fc.property(arbMessage.map(plain), (m) => {
        const buf = encodeMessage(m);
        const back = decodeMessage(buf);
        expect(back).toStrictEqual(m);
        expect(peekMessage(buf)).toEqual({ topic: m.topic, expiresAt: m.expiresAt });
      }),
      { numRuns: 300 },
    );
  });

  const arbDelivery = fc.record({
    message: arbMessage.map(plain),
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.boolean(),
    subscriptionIds: fc.option(fc.array(fc.integer({ min: 1, max: 268_435_455 }), { maxLength: 5 }), { nil: undefined }),
    packetId: fc.integer({ min: 0, max: 0xffff }),
    released: fc.boolean(),
    gap: fc.integer({ min: 1, max: 2 ** 40 }),
  });

  it('deliveries round-trip exactly, subscription ids included, alone and in runs', () => {
    const writer = new RunWriter();
    fc.assert(
      fc.property(fc.array(arbDelivery, { minLength: 1, maxLength: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), (list, keep) => {
        const bodies = list.map(({ message, qos, retain, subscriptionIds }) => (subscriptionIds === undefined ? { message, qos, retain } : { message, qos, retain, subscriptionIds }));
        for (const d of bodies) expect(decodeDelivery(encodeDelivery(d))).toStrictEqual(d);
        const deltas: number[] = [];
        let delta = 0;
        for (const x of list) deltas.push((delta += x.gap) - list[0]!.gap);
        // A run encoded from the fields; its size is known beforehand.
        writer.begin(list.length);
        list.forEach((x, i) => {
          writer.add(deltas[i]!, x.qos, x.retain, x.subscriptionIds, x.message, x.packetId, x.released && x.packetId !== 0);
          expect(writer.lastLength).toBe(deliveryBodySize(x.subscriptionIds, x.message));
        });
        const first = readRun(writer.finish());
        // Rewritten from its bodies, some left out and bound anew.
        const kept = list.map((_, i) => i).filter((i) => keep[i]);
        if (kept.length === 0) kept.push(0);
        writer.begin(kept.length);
        for (const i of kept) writer.addEncoded(deltas[i]!, first.value, first.members[3 * i + 1]!, first.members[3 * i + 2]!, i + 1, list[i]!.qos === 2);
        const second = readRun(writer.finish());
        expect(second.members.filter((_, j) => j % 3 === 0)).toEqual(kept.map((i) => deltas[i]));
        kept.forEach((i, j) => {
          const [off, len] = [second.members[3 * j + 1]!, second.members[3 * j + 2]!];
          expect(decodeBody(second.value, off, len)).toStrictEqual(bodies[i]);
          expect(peekBody(second.value, off, len)).toEqual({ expiresAt: list[i]!.message.expiresAt, packetId: i + 1, released: list[i]!.qos === 2, qos: list[i]!.qos });
        });
      }),
      { numRuns: 200 },
    );
  });

  it('deliveryBodySize refuses what the encoder refuses', () => {
    const m: Message = { topic: 't', payload: Buffer.from('x'), qos: 1, retain: false, from: { clientId: 'c', protocol: 'mqtt', node: 'n' }, timestamp: 1 };
    const bad: [readonly number[] | undefined, Message][] = [
      [[-1], m],
      [[1.5], m],
      [undefined, { ...m, topic: 7 as unknown as string }],
      [undefined, { ...m, payload: 'text' as unknown as Buffer }],
      [undefined, { ...m, from: { ...m.from, clientId: 3 as unknown as string } }],
      [undefined, { ...m, properties: { contentType: 5 as unknown as string } }],
    ];
    for (const [ids, message] of bad) {
      expect(() => encodeDelivery({ message, qos: 1, retain: false, subscriptionIds: ids })).toThrow(TypeError);
      expect(() => deliveryBodySize(ids, message)).toThrow(TypeError);
    }
  });

  it('a run of arbitrary bytes under a valid checksum is refused as corrupt or read within its bounds, never anything else', () => {
    const w = new RunWriter();
    const m: Message = { topic: 'a/b', payload: Buffer.from('xyz'), qos: 1, retain: false, from: { clientId: 'c', protocol: 'mqtt', node: 'n' }, timestamp: 1 };
    w.begin(2);
    w.add(0, 1, false, [2], m, 7, false);
    w.add(5, 2, true, undefined, m, 8, true);
    const valid = w.finish();
    const sealed = (content: Uint8Array) => {
      const b = Buffer.alloc(content.length + 4);
      b.set(content);
      b.writeUInt32BE(zlibCrc32(content), content.length);
      return b;
    };
    // Random contents, and the valid run's contents with a few bytes changed, each with a valid checksum.
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(valid.length - 5), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([edits]) => {
      const c = Buffer.from(valid.subarray(0, valid.length - 4));
      for (const [i, v] of edits) c[i] = v;
      return c;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (content) => {
        const buf = sealed(content);
        let run: { value: Buffer; members: number[] };
        try {
          run = readRun(buf);
        } catch (err) {
          expect(err).toBeInstanceOf(CorruptValueError);
          return;
        }
        for (let i = 0; i < run.members.length; i += 3) {
          const [off, len] = [run.members[i + 1]!, run.members[i + 2]!];
          expect(off + len).toBeLessThanOrEqual(run.value.length);
          for (const read of [() => peekBody(run.value, off, len), () => decodeBody(run.value, off, len)]) {
            try {
              read();
            } catch (err) {
              expect(err).toBeInstanceOf(CorruptValueError);
            }
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a delivery of format 2 or 1 reads as a run of one', () => {
    const d = { message: { topic: 'a/b', payload: Buffer.from('x'), qos: 1 as const, retain: false, from: { clientId: 'c', protocol: 'mqtt', node: 'n' }, timestamp: 3 }, qos: 1 as const, retain: true };
    const v2 = encodeDelivery(d, 7, false);
    const run = readRun(v2);
    expect(run.members).toEqual([0, 0, v2.length - 4]);
    expect(peekBody(run.value, 0, run.members[2]!)).toMatchObject({ packetId: 7, released: false });
    expect(decodeBody(run.value, 0, run.members[2]!)).toStrictEqual(d);
    // Version 1: no packet id field.
    const body = Buffer.concat([Buffer.from([1, v2[1]!]), v2.subarray(4, v2.length - 4)]);
    const v1 = Buffer.concat([body, Buffer.alloc(4)]);
    v1.writeUInt32BE(zlibCrc32(body), body.length);
    const old = readRun(v1);
    expect(peekBody(old.value, 0, old.members[2]!)).toMatchObject({ packetId: 0 });
    expect(decodeBody(old.value, 0, old.members[2]!)).toStrictEqual(d);
  });

  it('messages of one publisher (its fields encoded once) round-trip, ASCII or not', () => {
    const from = { clientId: 'sensor-ü-7', username: 'fleet', protocol: 'mqtt', peer: '127.0.0.1:4000', node: 'n1' };
    for (const topic of ['a/b', 'ä/ö/€', 'x'.repeat(200), '']) {
      const m: Message = { topic, payload: Buffer.from(topic), qos: 1, retain: false, from, timestamp: 7 };
      expect(decodeMessage(encodeMessage(m))).toStrictEqual({ ...m, from: { ...from } });
    }
  });

  it('the checksum is zlib’s CRC-32 at every length', () => {
    const buf = randomBytes(2100);
    for (let n = 0; n <= 2100; n += n < 64 ? 1 : 37) expect(crc32(buf, n)).toBe(zlibCrc32(buf.subarray(0, n)));
  });

  it('decoded Buffers are copies', () => {
    const m: Message = { topic: 't', payload: Buffer.from('abc'), qos: 0, retain: false, from: { clientId: 'c', protocol: 'mqtt', node: 'n' }, timestamp: 1 };
    const buf = encodeMessage(m);
    const a = decodeMessage(buf);
    a.payload[0] = 0x7a;
    expect(decodeMessage(buf).payload.toString()).toBe('abc');
  });

  it('session records keep every field, unknown ones and __proto__ keys included', () => {
    const s = {
      clientId: 'c',
      expiryInterval: 0xffffffff,
      subscriptions: [{ filter: 'a/#', qos: 1, futureOption: { nested: [1, 'x', null, true] } }],
      pendingWill: { topic: 'w', payload: Buffer.from([0, 255]), qos: 2, retain: true, dueAt: 5, properties: { userProperties: JSON.parse('{"__proto__":"v"}') } },
      skipped: undefined,
    } as unknown as StoredSession;
    const back = decodeSession(encodeSession(s));
    const { skipped: _s, ...rest } = s as unknown as Record<string, unknown>;
    expect(back).toStrictEqual(rest);
    expect(Object.keys(back.pendingWill!.properties!.userProperties!)).toEqual(['__proto__']);
    expect(() => encodeSession({ ...s, clientId: 1n } as unknown as StoredSession)).toThrow(TypeError);
  });

  it('any damaged byte is detected', () => {
    const m: Message = {
      topic: 'dev/1',
      payload: Buffer.from('hello'),
      qos: 1,
      retain: true,
      properties: { userProperties: { a: ['b', 'c'] } },
      from: { clientId: 'c', protocol: 'mqtt', node: 'n' },
      timestamp: 1,
    };
    const buf = encodeMessage(m);
    for (let i = 0; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i] ^= 0x10;
      expect(() => decodeMessage(bad)).toThrow(CorruptValueError);
    }
    expect(() => decodeMessage(buf.subarray(0, buf.length - 1))).toThrow(CorruptValueError);
    const w = new RunWriter();
    w.begin(2);
    w.add(0, 1, false, [4], m, 9, false);
    w.add(3, 2, true, undefined, m, 10, true);
    const run = w.finish();
    for (let i = 0; i < run.length; i++) {
      const bad = Buffer.from(run);
      bad[i] ^= 0x10;
      expect(() => readRun(bad)).toThrow(CorruptValueError);
    }
  });
});

describe('keys', () => {
  it('client keys delimit themselves, long ids are hashed, deliveries sort by sequence number', () => {
    const ids = ['', 'a', 'ab', 'a'.repeat(250), 'a'.repeat(251), 'é'.repeat(200)];
    const keys = ids.map(clientKey);
    expect(new Set(keys.map((k) => k.toString('hex'))).size).toBe(ids.length);
    expect(keys[4]!.length).toBe(33);
    expect(keys[5]!.length).toBe(33);
    for (const k of keys) expect(splitKey(seqKey(k, 42), 8).client.equals(k)).toBe(true);
    const seqs = [1, 255, 256, 65_536, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
    const sorted = seqs.map((s) => seqKey(keys[1]!, s)).sort(Buffer.compare);
    expect(sorted.map((k) => k.readUInt32BE(2) * 2 ** 32 + k.readUInt32BE(6))).toEqual(seqs);
    expect(retainedKey('a/b').toString()).toBe('a/b');
    expect(retainedKey('x'.repeat(2000)).length).toBe(33);
  });
});
