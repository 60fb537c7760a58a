import fc from 'fast-check';
import mqtt, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { leanPacket } from '../src/engine/lean-packets.js';
import { frame } from './packets/raw-client.js';

/** What mqtt-packet makes of the packet at the start of `bytes`: its fields, or its error. */
function parserRead(bytes: Buffer, version: number): { packet?: Record<string, unknown>; error?: string } {
  const parser = mqtt.parser({ protocolVersion: version });
  let out: { packet?: Record<string, unknown>; error?: string } | undefined;
  // The first packet or error only: what follows it is another packet.
  parser.on('packet', (p: Packet) => (out ??= { packet: { ...p } }));
  parser.on('error', (e: Error) => (out ??= { error: e.message }));
  parser.parse(bytes);
  return out ?? {};
}

const topic = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('a/b', 'ä/€', '', 'x'.repeat(300)));
const payload = fc.uint8Array({ maxLength: 20_000 }).map((a) => Buffer.from(a));
const version = fc.constantFrom(3, 4, 5);

/** Packets as a client's library writes them (mqtt-packet's generator), with and without v5 properties. */
const written = fc.oneof(
  fc.record({ topic, payload, qos: fc.constantFrom(0, 1, 2), retain: fc.boolean(), dup: fc.boolean(), messageId: fc.integer({ min: 1, max: 65535 }), props: fc.boolean() }).map((r) => ({
    cmd: 'publish',
    topic: r.topic,
    payload: r.payload,
    qos: r.qos,
    retain: r.retain,
    dup: r.dup,
    ...(r.qos > 0 && { messageId: r.messageId }),
    ...(r.props && { properties: { messageExpiryInterval: 5, userProperties: { k: 'v' } } }),
  })),
  fc.record({ cmd: fc.constantFrom('puback', 'pubrec', 'pubrel', 'pubcomp'), messageId: fc.integer({ min: 1, max: 65535 }), reasonCode: fc.constantFrom(0, 0x10, 0x80, 0x92) }),
  fc.constant({ cmd: 'pingreq' }),
  fc.constant({ cmd: 'disconnect' }),
);

describe('lean reader of the publish path', () => {
  it('reads what clients write exactly as mqtt-packet does, or leaves it to the parser', () => {
    let lean = 0;
    fc.assert(
      fc.property(written, version, fc.uint8Array({ maxLength: 8 }), (p, v, tail) => {
        const bytes = Buffer.concat([mqtt.generate(p as Packet, { protocolVersion: v }), Buffer.from(tail)]);
        const ours = leanPacket(bytes, 0, v);
        const theirs = parserRead(bytes, v);
        if (ours === undefined) return;
        lean++;
        expect(theirs.packet).toEqual({ ...ours });
      }),
      { numRuns: 3000 },
    );
    // Most of them are read here: every v3/v4 one of the publish path, v5 ones without properties.
    expect(lean).toBeGreaterThan(1000);
  });

  it('on arbitrary bytes, gives nothing or exactly the packet mqtt-packet reads (never one it refuses)', () => {
    const first = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x30, 0x32, 0x34, 0x36, 0x3b, 0x40, 0x50, 0x62, 0x60, 0x70, 0xc0, 0xc1));
    // A body that often starts with a short length (a topic's), so that it gets read at all.
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 16 })).map(([n, a]) => Buffer.from([0, n, ...a])),
    );
    fc.assert(
      fc.property(first, body, version, fc.boolean(), (b, rest, v, framed) => {
        const bytes = framed ? frame(b, [...rest]) : Buffer.concat([Buffer.from([b]), rest]);
        const ours = leanPacket(bytes, 0, v);
        if (ours === undefined) return;
        const theirs = parserRead(bytes, v);
        expect(theirs.error).toBeUndefined();
        expect(theirs.packet).toEqual({ ...ours });
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads nothing from an incomplete packet, and reads at an offset', () => {
    const bytes = mqtt.generate({ cmd: 'publish', topic: 't', payload: Buffer.from('abc'), qos: 1, messageId: 5, retain: false, dup: false } as Packet, { protocolVersion: 4 });
    for (let n = 0; n < bytes.length; n++) expect(leanPacket(bytes.subarray(0, n), 0, 4)).toBeUndefined();
    const two = Buffer.concat([Buffer.from([0xc0, 0x00]), bytes]);
    const p = leanPacket(two, 2, 4) as Packet & { topic: string; payload: Buffer; messageId: number };
    expect([p.cmd, p.topic, p.payload.toString(), p.messageId, p.length]).toEqual(['publish', 't', 'abc', 5, bytes.length - 2]);
  });
});
