/**
 * Keepalive, sleep and retransmission timers, exactly: the gateway and the core in memory on a
 * manual clock, no sockets and no sleeping.
 */
import { BrokerCore, createTopicMapper, silentLogger } from '@junction/broker-core';
import { ManualClock } from '@junction/broker-core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { decode, encode, MqttSnGateway, PredefinedTopics, type GatewayOptions, type MqttSnMessage } from '../src/index.js';

const OPTIONS: GatewayOptions = {
  gatewayId: 1,
  enableQos3: true,
  subsResume: false,
  idleTimeoutMs: 30_000,
  retryIntervalMs: 10_000,
  maxRetries: 3,
  maxConnections: 100,
  maxConnRate: 100,
  enableAuthn: true,
  enableStats: true,
  clientinfoOverride: { username: '', password: '', clientid: '' },
  listener: 'udp:test',
  advertiseDuration: 900,
};

let clock: ManualClock;
let broker: BrokerCore;
let gw: MqttSnGateway;
let wire: Map<number, MqttSnMessage[]>;

beforeEach(() => {
  clock = new ManualClock();
  broker = new BrokerCore({ clock });
  wire = new Map();
  gw = new MqttSnGateway(
    {
      broker,
      hooks: broker.hooks,
      metrics: broker.metrics,
      log: silentLogger,
      clock,
      topics: createTopicMapper(undefined),
      predefined: new PredefinedTopics([]),
      memory: new Map(),
      transmit: (_host, port, data) => wire.set(port, [...(wire.get(port) ?? []), decode(data)]),
    },
    OPTIONS,
  );
});

const settle = () => new Promise<void>((r) => setImmediate(r));
const send = (port: number, msg: MqttSnMessage) => gw.receive('127.0.0.1', port, encode(msg));
/** What the gateway sent to `port` since the last call. */
const sent = (port: number) => {
  const out = wire.get(port) ?? [];
  wire.set(port, []);
  return out.map((m) => m.type);
};

async function connect(port: number, clientId: string, duration: number): Promise<void> {
  send(port, { type: 'connect', will: false, cleanSession: true, protocolId: 1, duration, clientId });
  await settle();
  expect(sent(port)).toEqual(['connack']);
}

describe('keepalive on a manual clock (§6.11)', () => {
  it('lost exactly at 1.5 x Duration of silence', async () => {
    await connect(1, 'a', 10);
    clock.advance(14_999);
    expect(sent(1)).toEqual([]);
    clock.advance(1);
    expect(sent(1)).toEqual(['disconnect']);
    expect(broker.session('a')).toBeUndefined();
  });

  it('every message restarts the count', async () => {
    await connect(1, 'a', 10);
    clock.advance(14_000);
    send(1, { type: 'pingreq' });
    expect(sent(1)).toEqual(['pingresp']);
    clock.advance(14_000);
    expect(sent(1)).toEqual([]);
    clock.advance(1_000);
    expect(sent(1)).toEqual(['disconnect']);
  });

  it('Duration 0: never', async () => {
    await connect(1, 'a', 0);
    clock.advance(10 * 3_600_000);
    expect(sent(1)).toEqual([]);
    expect(broker.session('a')?.connected).toBe(true);
  });
});

describe('sleep on a manual clock (§6.14)', () => {
  it('the sleep Duration replaces the keepalive; waking in time keeps the client', async () => {
    await connect(1, 'a', 10);
    send(1, { type: 'disconnect', duration: 100 });
    expect(sent(1)).toEqual(['disconnect']);
    clock.advance(149_000);
    send(1, { type: 'pingreq', clientId: 'a' });
    expect(sent(1)).toEqual(['pingresp']);
    clock.advance(149_000);
    expect(sent(1)).toEqual([]);
    clock.advance(1_000);
    expect(sent(1)).toEqual(['disconnect']);
  });

  it('back to active with CONNECT: the keepalive is the CONNECT Duration again', async () => {
    await connect(1, 'a', 10);
    send(1, { type: 'disconnect', duration: 1000 });
    sent(1);
    send(1, { type: 'connect', will: false, cleanSession: false, protocolId: 1, duration: 20, clientId: 'a' });
    expect(sent(1)).toEqual(['connack']);
    clock.advance(29_999);
    expect(sent(1)).toEqual([]);
    clock.advance(1);
    expect(sent(1)).toEqual(['disconnect']);
  });
});

describe('retransmission on a manual clock (§6.13)', () => {
  async function subscribed(port: number, clientId: string, qos: 1 | 2): Promise<number> {
    await connect(port, clientId, 0);
    send(port, { type: 'subscribe', dup: false, qos, msgId: 1, topic: { kind: 'name', name: 't' } });
    await settle();
    const [ack] = wire.get(port)!;
    sent(port);
    return ack!.type === 'suback' ? ack!.topicId : -1;
  }

  it('PUBLISH is resent every Tretry with DUP, Nretry times, then the client is lost', async () => {
    await subscribed(1, 'a', 1);
    broker.publish({ topic: 't', payload: Buffer.from('x'), qos: 1, retain: false });
    expect(sent(1)).toEqual(['publish']);
    for (let i = 0; i < 3; i++) {
      clock.advance(9_999);
      expect(sent(1)).toEqual([]);
      clock.advance(1);
      const [again] = wire.get(1)!;
      expect(sent(1)).toEqual(['publish']);
      expect(again).toMatchObject({ dup: true });
    }
    clock.advance(10_000);
    expect(sent(1)).toEqual(['disconnect']);
    expect(gw.stats()['retransmissions']).toBe(3);
    expect(gw.stats()['clients.lost']).toBe(1);
  });

  it('an acknowledgement stops the retransmission', async () => {
    const topicId = await subscribed(1, 'a', 2);
    broker.publish({ topic: 't', payload: Buffer.from('x'), qos: 2, retain: false });
    const [p] = wire.get(1)!;
    sent(1);
    const msgId = p!.type === 'publish' ? p!.msgId : 0;
    send(1, { type: 'pubrec', msgId });
    expect(sent(1)).toEqual(['pubrel']);
    clock.advance(10_000);
    expect(sent(1)).toEqual(['pubrel']);
    send(1, { type: 'pubcomp', msgId });
    clock.advance(100_000);
    expect(sent(1)).toEqual([]);
    expect(topicId).toBeGreaterThan(0);
    expect(broker.session('a')?.inflight).toBe(0);
  });
});
