/**
 * The packet framer and readers multi-stream mode routes with: whole packets whatever the chunking,
 * and nothing but a clean result on random bytes.
 */
import { randomBytes } from 'node:crypto';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connectVersion, PacketFramer, packetId, publishId, readFilters, readPublish } from '../src/quic/framer.js';

const v5 = { protocolVersion: 5 };
const sample: Packet[] = [
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'f', clean: true, keepalive: 30 },
  { cmd: 'subscribe', messageId: 11, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: '$share/g/b/#', qos: 0 }], properties: { subscriptionIdentifier: 5 } },
  { cmd: 'publish', topic: 'a/b', payload: Buffer.alloc(300, 1), qos: 1, messageId: 12, retain: false, dup: false, properties: { topicAlias: 3, userProperties: { k: 'v' }, contentType: 'x' } },
  { cmd: 'publish', topic: '', payload: Buffer.from('z'), qos: 2, messageId: 13, retain: false, dup: false, properties: { topicAlias: 3 } },
  { cmd: 'unsubscribe', messageId: 14, unsubscriptions: ['a/+'] },
  { cmd: 'pingreq' },
];

describe('PacketFramer', () => {
  it('yields the same whole packets however the bytes are split', () => {
    const bytes = Buffer.concat(sample.map((p) => mqttPacket.generate(p, v5)));
    for (let round = 0; round < 200; round++) {
      const framer = new PacketFramer();
      const out: Buffer[] = [];
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + Math.floor(Math.random() * 40);
        const f = framer.push(bytes.subarray(at, at + n));
        expect(f.broken).toBe(false);
        for (const p of f.packets) out.push(Buffer.from(f.bytes.subarray(p.start, p.end)));
        at += n;
      }
      expect(Buffer.concat(out).equals(bytes)).toBe(true);
      expect(out).toHaveLength(sample.length);
    }
  });

  it('reads what routing needs: version, packet ids, topics, aliases, filters', () => {
    const bytes = Buffer.concat(sample.map((p) => mqttPacket.generate(p, v5)));
    const f = new PacketFramer().push(bytes);
    const [connect, subscribe, publish, aliased, unsubscribe] = f.packets;
    expect(connectVersion(f.bytes, connect!)).toBe(5);
    expect(packetId(f.bytes, subscribe!)).toBe(11);
    expect(readFilters(f.bytes, subscribe!, true)).toEqual(['a/+', '$share/g/b/#']);
    expect(readPublish(f.bytes, publish!, true)).toEqual({ topic: 'a/b', id: 12, alias: 3 });
    expect(publishId(f.bytes, publish!)).toBe(12);
    expect(readPublish(f.bytes, aliased!, true)).toEqual({ topic: '', id: 13, alias: 3 });
    expect(readFilters(f.bytes, unsubscribe!, true)).toEqual(['a/+']);
  });

  it('breaks on a malformed Remaining Length or an oversized packet, and passes nothing after', () => {
    const bad = new PacketFramer();
    expect(bad.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])).broken).toBe(true);
    expect(bad.push(mqttPacket.generate({ cmd: 'pingreq' }, v5)).bytes).toHaveLength(0);
    const small = new PacketFramer(100);
    expect(small.push(Buffer.from([0x30, 0xe8, 0x07])).broken).toBe(true);
  });

  it('never throws on random bytes, in the framer or the readers', () => {
    for (let round = 0; round < 2000; round++) {
      const framer = new PacketFramer(4096);
      const f = framer.push(randomBytes(1 + Math.floor(Math.random() * 64)));
      for (const p of f.packets) {
        connectVersion(f.bytes, p);
        packetId(f.bytes, p);
        publishId(f.bytes, p);
        readPublish(f.bytes, p, round % 2 === 0);
        readFilters(f.bytes, p, round % 2 === 0);
      }
    }
  });
});
