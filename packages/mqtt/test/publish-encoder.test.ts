import mqtt from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { encodePlainAck, encodePlainPublish } from '../src/engine/publish-encoder.js';

describe('encodePlainPublish', () => {
  it('produces the bytes mqtt-packet generates', () => {
    const topics = ['a', 'bench/p/1', 'ä/ü/€', 'x'.repeat(300), '\ud800 lone surrogate', ''];
    const payloads = [Buffer.alloc(0), Buffer.from('hi'), Buffer.alloc(16, 1), Buffer.alloc(200, 2), Buffer.alloc(20_000, 3)];
    let n = 0;
    for (const version of [3, 4, 5] as const)
      for (const topic of topics)
        for (const payload of payloads)
          for (const qos of [0, 1, 2] as const)
            for (const dup of [false, true])
              for (const retain of [false, true]) {
                const messageId = qos > 0 ? (n % 65535) + 1 : undefined;
                const ours = encodePlainPublish(topic, payload, qos, dup, retain, messageId, version === 5);
                const theirs = mqtt.generate({ cmd: 'publish', topic, payload, qos, dup, retain, messageId }, { protocolVersion: version });
                expect(ours !== undefined && ours.equals(theirs), `${version} ${topic} ${payload.length} ${qos} ${dup} ${retain}`).toBe(true);
                n++;
              }
    expect(n).toBeGreaterThan(500);
  });

  it('encodes a four-byte Remaining Length', () => {
    const payload = Buffer.alloc(2_100_000, 4);
    const ours = encodePlainPublish('big', payload, 1, false, true, 9, false)!;
    expect(ours.equals(mqtt.generate({ cmd: 'publish', topic: 'big', payload, qos: 1, dup: false, retain: true, messageId: 9 }))).toBe(true);
  });

  it('leaves what it cannot encode to mqtt-packet', () => {
    expect(encodePlainPublish('t', Buffer.alloc(1), 1, false, false, undefined, false)).toBeUndefined();
    expect(encodePlainPublish('t'.repeat(65_536), Buffer.alloc(1), 0, false, false, undefined, false)).toBeUndefined();
  });
});

describe('encodePlainAck', () => {
  it('produces the bytes mqtt-packet generates, and leaves other acknowledgements to it', () => {
    let fast = 0;
    for (const version of [3, 4, 5])
      for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const)
        for (const messageId of [1, 258, 65535])
          for (const reasonCode of [undefined, 0, 0x10, 0x80, 0x92])
            for (const properties of [undefined, { reasonString: 'why' }]) {
              const packet = { cmd, messageId, reasonCode, properties };
              const ours = encodePlainAck(packet, version);
              if (ours === undefined) {
                // Only what this does not cover: properties, or MQTT 5 reason codes other than 0 and 0x10.
                expect(properties !== undefined || (version === 5 && reasonCode !== undefined && reasonCode !== 0 && reasonCode !== 0x10)).toBe(true);
                continue;
              }
              fast++;
              expect(ours.toString('hex'), `${version} ${cmd} ${messageId} ${reasonCode}`).toBe(mqtt.generate(packet, { protocolVersion: version }).toString('hex'));
            }
    expect(fast).toBeGreaterThan(100);
    for (const messageId of [undefined, -1, 65536, 1.5]) expect(encodePlainAck({ cmd: 'puback', messageId }, 4)).toBeUndefined();
    expect(encodePlainAck({ cmd: 'suback', messageId: 1 }, 4)).toBeUndefined();
  });
});
