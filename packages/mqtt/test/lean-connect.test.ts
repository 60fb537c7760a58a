import mqtt, { type IConnectPacket, type Packet } from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerCore, createTopicMapper, type Logger } from '@junction/broker-core';
import { leanBare, leanConnect, leanConnectSize } from '../src/engine/lean-connect.js';
import { defaultMqttOptions, MqttConnection, type EngineContext } from '../src/index.js';
import { memoryPair } from './memory-duplex.js';

/** What mqtt-packet's own parser makes of `buf`: its packets and errors, in order. */
function reference(buf: Buffer): unknown[] {
  const out: unknown[] = [];
  const parser = mqtt.parser();
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e: Error) => out.push({ error: e.message }));
  parser.parse(buf);
  return out;
}

/** The same packet: same fields in the same order, same values (Buffers by content). */
function expectSamePacket(lean: IConnectPacket, ref: unknown): void {
  expect(Object.keys(lean)).toEqual(Object.keys(ref as object));
  expect({ ...lean }).toEqual({ ...(ref as object) });
  if (lean.password !== undefined) expect(Buffer.isBuffer(lean.password)).toBe(true);
}

const connects: { name: string; packet: Partial<IConnectPacket>; version: 3 | 4 | 5 }[] = [
  { name: '3.1.1 clean', version: 4, packet: { clientId: 'c-1', clean: true, keepalive: 60 } },
  { name: '3.1.1 clean session 0', version: 4, packet: { clientId: 'c-2', clean: false, keepalive: 0 } },
  { name: '3.1.1 empty client id', version: 4, packet: { clientId: '', clean: true, keepalive: 30 } },
  { name: '3.1.1 user name and password', version: 4, packet: { clientId: 'c-3', clean: true, keepalive: 10, username: 'ü-user', password: Buffer.from('secret') } },
  { name: '3.1.1 empty password', version: 4, packet: { clientId: 'c-4', clean: true, keepalive: 10, username: 'u', password: Buffer.alloc(0) } },
  { name: '3.1.1 long client id (2-byte length)', version: 4, packet: { clientId: 'x'.repeat(300), clean: true, keepalive: 65535 } },
  { name: '3.1.1 non-ASCII client id', version: 4, packet: { clientId: 'klient-€-😀', clean: true, keepalive: 5 } },
  { name: '3.1 (MQIsdp)', version: 3, packet: { protocolId: 'MQIsdp', clientId: 'old', clean: true, keepalive: 60 } },
  { name: '5 without properties', version: 5, packet: { clientId: 'c-5', clean: true, keepalive: 60 } },
  { name: '5 password alone', version: 5, packet: { clientId: 'c-6', clean: false, keepalive: 60, password: Buffer.from('p') } },
];

/** A CONNECT without will, written here (mqtt-packet's generate refuses a password alone). */
function encode(c: (typeof connects)[number], level = c.version): Buffer {
  const p = c.packet;
  const str = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  const flags = (p.username !== undefined ? 0x80 : 0) | (p.password !== undefined ? 0x40 : 0) | (p.clean ? 0x02 : 0);
  const body = Buffer.concat([
    str(Buffer.from(p.protocolId ?? 'MQTT')),
    Buffer.from([level, flags, (p.keepalive ?? 0) >> 8, (p.keepalive ?? 0) & 0xff]),
    c.version === 5 ? Buffer.from([0]) : Buffer.alloc(0),
    str(Buffer.from(p.clientId ?? '')),
    p.username !== undefined ? str(Buffer.from(p.username)) : Buffer.alloc(0),
    p.password !== undefined ? str(p.password) : Buffer.alloc(0),
  ]);
  const len = body.length < 128 ? [body.length] : [(body.length & 0x7f) | 0x80, body.length >> 7];
  return Buffer.concat([Buffer.from([0x10, ...len]), body]);
}

describe('lean CONNECT', () => {
  for (const c of connects) {
    it(`reads ${c.name} as mqtt-packet does`, () => {
      const bytes = encode(c);
      const lean = leanConnect(bytes);
      expect(lean).toBeDefined();
      const ref = reference(bytes);
      expect(ref).toHaveLength(1);
      expectSamePacket(lean!, ref[0]);
      expect(leanConnectSize(bytes, lean!)).toBe(bytes.length);
      // Followed by more packets in the same chunk: the CONNECT alone is read.
      const more = Buffer.concat([bytes, mqtt.generate({ cmd: 'pingreq' }), Buffer.from([0x30])]);
      const again = leanConnect(more);
      expectSamePacket(again!, ref[0]);
      expect(leanConnectSize(more, again!)).toBe(bytes.length);
    });
  }

  for (const c of [connects[0]!, connects[8]!]) {
    it(`reads a bare PINGREQ and DISCONNECT after ${c.name} as mqtt-packet does`, () => {
      const connect = leanConnect(encode(c))!;
      const ping = Buffer.from([0xc0, 0x00]);
      const bye = Buffer.from([0xe0, 0x00]);
      for (const [bytes, i] of [[ping, 1], [bye, 1]] as const) {
        const ref = reference(Buffer.concat([encode(c), bytes]));
        expect(ref).toHaveLength(2);
        expectSamePacket(leanBare(bytes, connect) as IConnectPacket, ref[i]);
      }
      for (const other of [Buffer.from([0xc0]), Buffer.from([0xc0, 0x01]), Buffer.from([0xe0, 0x00, 0x00]), Buffer.from([0xd0, 0x00]), Buffer.from([0xe1, 0x00])]) {
        expect(leanBare(other, connect)).toBeUndefined();
      }
    });
  }

  it('leaves wills, properties, bridge mode, bad flags and partial packets to mqtt-packet', () => {
    const v4 = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 1 } as IConnectPacket;
    const declined: Buffer[] = [
      mqtt.generate({ ...v4, will: { topic: 'w', payload: Buffer.from('x'), qos: 1, retain: false } } as Packet),
      mqtt.generate({ ...v4, protocolVersion: 5, properties: { sessionExpiryInterval: 10 } } as Packet, { protocolVersion: 5 }),
      encode(connects[0]!, 4 | 0x80),
    ];
    const plain = mqtt.generate(v4 as Packet);
    const flagsAt = plain.length - 2 - 1 - 2 - 1; // before keepalive (2) and client id (2 + 1)
    for (const bad of [0x01, 0x04, 0x08, 0x10, 0x18, 0x20]) {
      const b = Buffer.from(plain);
      b[flagsAt] = b[flagsAt]! | bad;
      declined.push(b);
    }
    declined.push(plain.subarray(0, plain.length - 1)); // cut short
    declined.push(Buffer.concat([Buffer.from([0x11]), plain.subarray(1)])); // header flags
    declined.push(Buffer.from([0x10])); // header only
    for (const b of declined) expect(leanConnect(b), b.toString('hex')).toBeUndefined();
  });

  it('accepts only what mqtt-packet parses to the same packet (mutated and cut CONNECTs)', () => {
    // A small deterministic generator: the same inputs on every run.
    let seed = 0x1eac0;
    const rand = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n | 0;
    };
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = encode(connects[rand(connects.length)]!);
      const b = Buffer.from(base);
      for (let k = rand(3); k > 0; k--) b[rand(b.length)] = rand(4) === 0 ? rand(256) : b[rand(b.length)]!;
      const cut = rand(4) === 0 ? b.subarray(0, rand(b.length + 1)) : b;
      const buf = rand(3) === 0 ? Buffer.concat([cut, Buffer.from([rand(256), rand(256), rand(256)])]) : cut;
      const lean = leanConnect(buf);
      if (lean === undefined) continue;
      accepted++;
      const ref = reference(buf);
      expect(ref.length, buf.toString('hex')).toBeGreaterThan(0);
      expectSamePacket(lean, ref[0]);
      // mqtt-packet reads the packet's announced length: the same bytes.
      const header = buf[1]! >= 0x80 ? 3 : 2;
      expect(leanConnectSize(buf, lean)).toBe(header + (ref[0] as IConnectPacket).length!);
    }
    expect(accepted).toBeGreaterThan(2_000);
  });
});

describe('a connection whose first chunk holds a CONNECT and more', () => {
  const broker = new BrokerCore({ config: { allow_anonymous: true } });
  afterAll(() => broker.close());
  const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log } as unknown as Logger;
  const ctx: EngineContext = {
    broker,
    metrics: broker.metrics,
    log,
    options: defaultMqttOptions,
    topics: createTopicMapper(undefined),
    listener: 'test',
  };

  it('handles the packets after the CONNECT with the CONNECT\'s protocol version (MQTT 5 properties)', async () => {
    const [client, server] = memoryPair();
    new MqttConnection(server, ctx, { peer: '127.0.0.1:1' });
    const out = mqtt.parser({ protocolVersion: 5 });
    const got: Packet[] = [];
    out.on('packet', (p) => got.push(p));
    client.on('data', (d: Buffer) => out.parse(d));
    const v5 = { protocolVersion: 5 } as const;
    client.write(
      Buffer.concat([
        mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'lean-5', clean: true, keepalive: 60 } as Packet, v5),
        mqtt.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'lean/#', qos: 1 }], properties: { subscriptionIdentifier: 9 } } as Packet, v5),
        mqtt.generate({ cmd: 'publish', topic: 'lean/x', payload: Buffer.from('hi'), qos: 1, messageId: 2, retain: false, dup: false, properties: { contentType: 'text/plain' } } as Packet, v5),
      ]),
    );
    for (let i = 0; i < 50 && !got.some((p) => p.cmd === 'publish'); i++) await new Promise((r) => setImmediate(r));
    expect(got.map((p) => p.cmd)).toEqual(['connack', 'suback', 'publish', 'puback']);
    const delivered = got.find((p) => p.cmd === 'publish') as mqtt.IPublishPacket;
    expect(delivered.properties?.contentType).toBe('text/plain');
    expect(delivered.properties?.subscriptionIdentifier).toBe(9);
    client.destroy();
  });

  /** A connection after a lean CONNECT (its CONNACK received): the client end and what it reads. */
  async function connected(version: 4 | 5, clientId: string) {
    const [client, server] = memoryPair();
    const conn = new MqttConnection(server, ctx, { peer: '127.0.0.1:2' });
    const got: Packet[] = [];
    const out = mqtt.parser({ protocolVersion: version });
    out.on('packet', (p) => got.push(p));
    client.on('data', (d: Buffer) => out.parse(d));
    client.on('error', () => {});
    const wait = async (n: number) => {
      for (let i = 0; i < 50 && got.length < n; i++) await new Promise((r) => setImmediate(r));
    };
    client.write(mqtt.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, clientId, clean: true, keepalive: 60 } as Packet, { protocolVersion: version }));
    await wait(1);
    expect(got.map((p) => p.cmd)).toEqual(['connack']);
    return { client, got, wait, conn };
  }

  it('answers a PINGREQ after a lean CONNECT (no parser made for it)', async () => {
    const { client, got, wait, conn } = await connected(4, 'lean-ping');
    client.write(Buffer.from([0xc0, 0x00]));
    client.write(Buffer.from([0xc0, 0x00]));
    await wait(3);
    expect(got.map((p) => p.cmd)).toEqual(['connack', 'pingresp', 'pingresp']);
    expect((conn as unknown as { parser: unknown }).parser).toBeUndefined();
    // Anything else makes the parser, which reads on with the CONNECT's settings.
    client.write(mqtt.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'p/#', qos: 0 }] } as Packet));
    client.write(Buffer.from([0xc0, 0x00]));
    await wait(5);
    expect(got.map((p) => p.cmd)).toEqual(['connack', 'pingresp', 'pingresp', 'suback', 'pingresp']);
    expect((conn as unknown as { parser: unknown }).parser).toBeDefined();
    client.destroy();
  });

  for (const version of [4, 5] as const) {
    it(`takes a bare DISCONNECT after a lean CONNECT as a normal disconnect (MQTT ${version})`, async () => {
      const clientId = `lean-bye-${version}`;
      const reason = new Promise<string>((resolve) => {
        const off = broker.hooks.on('client.disconnected', (c, why) => {
          if (c.clientId !== clientId) return;
          off();
          resolve(why);
        });
      });
      const { client } = await connected(version, clientId);
      client.write(Buffer.from([0xe0, 0x00]));
      expect(await reason).toBe('normal');
      client.destroy();
    });
  }
});
