import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tcpListenersFactory } from '../src/index.js';

/**
 * A QoS 0 message routed to many subscribers is encoded once for those that get the same bytes:
 * subscribers in a row that differ in MQTT version, RETAIN (Retain As Published) or mountpoint
 * must still each get their own bytes.
 */
let broker: BrokerCore;
let adapter: ReturnType<typeof tcpListenersFactory.create>;
let url = '';
let mounted = '';
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = new BrokerCore();
  adapter = tcpListenersFactory.create(createAdapterContext(broker), {
    default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' },
    mounted: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: 'm/' },
  });
  const [a, b] = await adapter.start();
  url = `mqtt://127.0.0.1:${a!.port}`;
  mounted = `mqtt://127.0.0.1:${b!.port}`;
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.endAsync(true)));
  await adapter.stop();
  await broker.close();
});

async function connect(at: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(at, { reconnectPeriod: 0, ...opts });
  clients.push(c);
  return c;
}

it('gives each subscriber of one QoS 0 message the bytes of its own version, RETAIN flag and mountpoint', async () => {
  const kinds = [
    { v: 5, rap: true, at: url },
    { v: 4, rap: false, at: url },
    { v: 4, rap: false, at: mounted },
    { v: 5, rap: true, at: url },
    { v: 5, rap: false, at: url },
    { v: 5, rap: true, at: url },
  ] as const;
  const got: { topic: string; retain: boolean; payload: string }[][] = kinds.map(() => []);
  for (const [i, k] of kinds.entries()) {
    const c = await connect(k.at, { protocolVersion: k.v, clientId: `enc-${i}` });
    c.on('message', (topic, payload, packet) => got[i]!.push({ topic, retain: packet.retain, payload: payload.toString() }));
    await c.subscribeAsync(k.at === mounted ? 'enc/#' : 'm/enc/#', k.v === 5 ? { qos: 0, rap: k.rap } : { qos: 0 });
  }
  const pub = await connect(url, { protocolVersion: 5, clientId: 'enc-pub' });
  await pub.publishAsync('m/enc/a', 'one', { qos: 0, retain: true });
  await pub.publishAsync('m/enc/a', 'two', { qos: 0 });
  const end = Date.now() + 3000;
  while (got.some((g) => g.length < 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  const want = (i: number) => {
    const k = kinds[i]!;
    const topic = k.at === mounted ? 'enc/a' : 'm/enc/a';
    // [MQTT-3.3.1-12/13] RETAIN kept only with Retain As Published (MQTT 3.1.1: cleared [MQTT-3.3.1-9]).
    return [
      { topic, retain: k.v === 5 && k.rap, payload: 'one' },
      { topic, retain: false, payload: 'two' },
    ];
  };
  for (let i = 0; i < kinds.length; i++) expect(got[i], `subscriber ${i}`).toEqual(want(i));
});
