import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { decodeHeader } from '../src/header.js';
import { ControlDecoder, frame, frameOut, neededLength, parsePublish, PublishTemplate, publishOut, writeAck, type MqttVersion, type QoS } from '../src/wire.js';

function decodeAll(bytes: Buffer, version: MqttVersion): mqttPacket.Packet[] {
  const out: mqttPacket.Packet[] = [];
  const p = mqttPacket.parser({ protocolVersion: version });
  p.on('packet', (pk: mqttPacket.Packet) => out.push(pk));
  p.on('error', (e: Error) => {
    throw e;
  });
  p.parse(bytes);
  return out;
}

describe('PUBLISH template', () => {
  for (const version of [4, 5] as const)
    for (const qos of [0, 1, 2] as const)
      for (const size of [16, 1024, 200_000])
        it(`encodes what mqtt-packet decodes: v${version} QoS ${qos} ${size} B`, () => {
          const tpl = new PublishTemplate('bench/p/3', qos as QoS, size, version);
          const buf = Buffer.alloc(tpl.length * 2);
          tpl.writeInto(buf, 0, 513, 3, 0, 111);
          tpl.writeInto(buf, tpl.length, 65535, 3, 1, 2 ** 40);
          const pks = decodeAll(buf, version) as mqttPacket.IPublishPacket[];
          expect(pks).toHaveLength(2);
          for (const [i, pk] of pks.entries()) {
            expect(pk.cmd).toBe('publish');
            expect(pk.topic).toBe('bench/p/3');
            expect(pk.qos).toBe(qos);
            if (qos) expect(pk.messageId).toBe(i === 0 ? 513 : 65535);
            const payload = pk.payload as Buffer;
            expect(payload.length).toBe(size);
            expect(decodeHeader(payload)).toEqual({ pub: 3, seq: i, timeNs: i === 0 ? 111 : 2 ** 40 });
          }
        });
});

describe('framing and PUBLISH decoding', () => {
  it('frames packets split anywhere and reports what an incomplete one needs', () => {
    const a = mqttPacket.generate({ cmd: 'publish', topic: 't/1', payload: Buffer.alloc(300, 1), qos: 1, messageId: 9, dup: false, retain: false });
    const b = mqttPacket.generate({ cmd: 'puback', messageId: 9 });
    const all = Buffer.concat([a, b]);
    expect(frame(all, 0, all.length)).toBe(a.length);
    expect(frameOut.headerLength).toBe(3); // 300+ bytes: 2-byte remaining length
    expect(frame(all, a.length, all.length)).toBe(4);
    for (let cut = 1; cut < a.length; cut++) {
      expect(frame(all, 0, cut)).toBe(0);
      if (cut >= 3) expect(neededLength(all, 0, cut)).toBe(a.length);
    }
    expect(frame(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 6)).toBe(-1);
  });

  it('finds the payload of a v5 PUBLISH with properties', () => {
    const payload = Buffer.from('0123456789abcdefXYZ');
    const pk = mqttPacket.generate(
      { cmd: 'publish', topic: 'a/b', payload, qos: 2, messageId: 77, dup: false, retain: false, properties: { userProperties: { k: 'v' }, messageExpiryInterval: 60 } },
      { protocolVersion: 5 },
    );
    expect(frame(pk, 0, pk.length)).toBe(pk.length);
    expect(parsePublish(pk, frameOut.headerLength, pk.length, 2, 5)).toBe(true);
    expect(publishOut.id).toBe(77);
    expect(pk.subarray(publishOut.payloadOffset).toString()).toBe(payload.toString());
    // truncated bodies are refused
    expect(parsePublish(pk, frameOut.headerLength, frameOut.headerLength + 4, 2, 5)).toBe(false);
  });

  it('writes acknowledgements mqtt-packet reads, and decodes CONNACK/SUBACK with it', () => {
    const b = Buffer.alloc(16);
    writeAck(b, 0, 0x40, 300);
    writeAck(b, 4, 0x50, 301);
    writeAck(b, 8, 0x62, 302);
    writeAck(b, 12, 0x70, 303);
    expect(decodeAll(b, 4).map((p) => [p.cmd, p.messageId])).toEqual([
      ['puback', 300],
      ['pubrec', 301],
      ['pubrel', 302],
      ['pubcomp', 303],
    ]);
    const d = new ControlDecoder(5);
    const ck = d.decode(mqttPacket.generate({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 20 } }, { protocolVersion: 5 }));
    expect(ck?.cmd).toBe('connack');
    expect((ck as mqttPacket.IConnackPacket).properties?.receiveMaximum).toBe(20);
    expect(d.decode(Buffer.from([0x00, 0x00]))).toBeNull(); // reserved packet type
    const sa = d.decode(mqttPacket.generate({ cmd: 'suback', messageId: 1, granted: [1] }, { protocolVersion: 5 }));
    expect((sa as mqttPacket.ISubackPacket).granted).toEqual([1]);
  });
});
