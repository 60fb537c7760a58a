import mqtt, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { ByteList } from '../src/engine/byte-list.js';
import { createParser } from '../src/engine/lean-parser.js';

/** Packets of every kind, in MQTT 3.1.1 and 5, some larger than a socket read. */
function samples(): { version: 4 | 5; bytes: Buffer }[] {
  const big = Buffer.alloc(17_000, 7);
  const v4: Packet[] = [
    { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'c-1', keepalive: 30, username: 'u', password: Buffer.from('p'), will: { topic: 'w/t', payload: Buffer.from('bye'), qos: 1, retain: true } } as Packet,
    { cmd: 'publish', topic: 'a/b', payload: Buffer.from('hello'), qos: 0, retain: false, dup: false } as Packet,
    { cmd: 'publish', topic: 'ä/ü/€', payload: big, qos: 1, messageId: 7, retain: true, dup: true } as Packet,
    { cmd: 'publish', topic: 'x', payload: Buffer.alloc(0), qos: 2, messageId: 65535, retain: false, dup: false } as Packet,
    { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#', qos: 1 }, { topic: '+/b', qos: 2 }] } as Packet,
    { cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a/#'] } as Packet,
    { cmd: 'puback', messageId: 9 } as Packet,
    { cmd: 'pubrel', messageId: 10 } as Packet,
    { cmd: 'pingreq' } as Packet,
    { cmd: 'disconnect' } as Packet,
  ];
  const v5: Packet[] = [
    {
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: false, clientId: 'c-5', keepalive: 60,
      properties: { sessionExpiryInterval: 3600, receiveMaximum: 10, userProperties: { a: 'b', c: ['d', 'e'] } },
      will: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false, properties: { willDelayInterval: 5, contentType: 'text/plain' } },
    } as Packet,
    { cmd: 'publish', topic: 't/1', payload: Buffer.from('p5'), qos: 1, messageId: 1, retain: false, dup: false, properties: { messageExpiryInterval: 10, correlationData: Buffer.from('cd'), userProperties: { k: 'v' } } } as Packet,
    { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 's/#', qos: 1, nl: true, rap: true, rh: 1 }], properties: { subscriptionIdentifier: 42 } } as Packet,
    { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: Buffer.from('xyz') } } as Packet,
    { cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } } as Packet,
  ];
  return [
    ...v4.map((p) => ({ version: 4 as const, bytes: mqtt.generate(p, { protocolVersion: 4 }) })),
    ...v5.map((p) => ({ version: 5 as const, bytes: mqtt.generate(p, { protocolVersion: 5 }) })),
  ];
}

/** Feed `stream` in chunks of the given sizes (cycled) and collect packets and errors. */
function run(parser: mqtt.Parser, stream: Buffer, sizes: number[]): unknown[] {
  const out: unknown[] = [];
  parser.on('packet', (p) => out.push({ ...p }));
  parser.on('error', (e: Error) => out.push({ error: e.message }));
  let i = 0;
  for (let off = 0; off < stream.length; i++) {
    const n = sizes[i % sizes.length]!;
    parser.parse(stream.subarray(off, off + n));
    off += n;
  }
  return out;
}

describe('lean parser', () => {
  const all = samples();
  const v4 = Buffer.concat(all.filter((s) => s.version === 4).map((s) => s.bytes));
  const v5 = Buffer.concat(all.filter((s) => s.version === 5).map((s) => s.bytes));

  for (const [name, sizes] of [
    ['whole', [10_000_000]],
    ['byte by byte', [1]],
    ['uneven chunks', [3, 1, 7, 2, 500, 13, 65_536]],
  ] as const) {
    it(`parses MQTT 3.1.1 and 5 packets as mqtt-packet does (${name})`, () => {
      for (const stream of [v4, v5]) {
        const ours = run(createParser(), stream, [...sizes]);
        const theirs = run(mqtt.parser(), stream, [...sizes]);
        expect(ours.length).toBeGreaterThan(4);
        expect(ours).toEqual(theirs);
      }
    });
  }

  it('reports malformed input as mqtt-packet does, and parses again after', () => {
    // PUBREL must have header flags 0b0010; then a PINGREQ.
    const bad = Buffer.from([0x60, 0x02, 0x00, 0x01, 0xc0, 0x00]);
    expect(run(createParser(), bad, [6])).toEqual(run(mqtt.parser(), bad, [6]));
    const both = Buffer.concat([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])]);
    expect(run(createParser(), both, [2, 4])).toEqual(run(mqtt.parser(), both, [2, 4]));
  });
});

describe('ByteList', () => {
  it('reads, slices and consumes across chunks', () => {
    const l = new ByteList().append(Buffer.from([1, 2, 3])).append(Buffer.alloc(0)).append(Buffer.from([4, 5, 6, 7, 8]));
    expect(l.length).toBe(8);
    expect(l.readUInt8(2)).toBe(3);
    expect(l.readUInt16BE(2)).toBe(0x0304);
    expect(l.readUInt32BE(1)).toBe(0x02030405);
    expect([...l.slice(1, 6)]).toEqual([2, 3, 4, 5, 6]);
    expect([...l.slice(-2)]).toEqual([7, 8]);
    expect(l.slice(9, 12).length).toBe(0);
    l.consume(2);
    expect(l.length).toBe(6);
    expect(l.readUInt8(0)).toBe(3);
    expect(l.toString('hex', 0, 3)).toBe('030405');
    l.consume(1.9);
    expect(l.readUInt8()).toBe(4);
    l.consume(NaN);
    l.consume(-1);
    expect(l.length).toBe(5);
    l.consume(100);
    expect(l.length).toBe(0);
    expect(() => l.readUInt8(0)).toThrow(RangeError);
  });
});
