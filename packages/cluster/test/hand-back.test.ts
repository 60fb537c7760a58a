import { MemorySessionStore } from '@junction/broker-core';
import { eventually, startNatsCluster, type NatsCluster } from '@junction/test-servers';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, endClients, startNode, track, type TestNode } from './helpers.js';

/** One nats-server with JetStream; nodes restarted in-process on a session store that outlives them. */
let nats: NatsCluster;
const started: TestNode[] = [];
const node = async (name: string, store?: MemorySessionStore) => {
  const n = await startNode(name, nats.urls, { cluster: { kv_replicas: 1, request_timeout: 1000 }, broker: store ? { sessionStore: store } : {} });
  started.push(n);
  return n;
};
const persistent = (clientId: string, clean = false): IClientOptions => ({ clientId, clean, properties: { sessionExpiryInterval: 600 } });

/** Connect and report CONNACK's session present; `onMessage` hears messages sent right after it. */
function connect(url: string, opts: IClientOptions, onMessage?: mqtt.OnMessageCallback): Promise<{ c: MqttClient; present: boolean }> {
  const c = track(mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, ...opts }));
  if (onMessage) c.on('message', onMessage);
  return new Promise((resolve, reject) => {
    c.once('connect', (p) => resolve({ c, present: p.sessionPresent }));
    c.once('error', reject);
  });
}

/** A persistent subscriber of `filter`, left offline. */
async function offlineSubscriber(url: string, clientId: string, filter: string): Promise<void> {
  const c = await client(url, persistent(clientId));
  await c.subscribeAsync(filter, { qos: 1 });
  await c.endAsync();
}

beforeAll(async () => {
  nats = await startNatsCluster(1);
}, 30_000);
afterEach(async () => {
  await endClients();
  await Promise.allSettled(started.splice(0).map((n) => n.stop()));
});
afterAll(async () => {
  await nats?.stop();
});

describe('hand-back of a restored node’s messages to the session’s new owner', () => {
  it('sends them in order, in chunks, with their properties; drops the ones of sessions that ended or started clean', async () => {
    const store = new MemorySessionStore();
    const a1 = await node('hb-a', store);
    const b = await node('hb-b');
    await offlineSubscriber(a1.url, 'keeper', 'big/#');
    await offlineSubscriber(a1.url, 'ended', 'big/#');
    await offlineSubscriber(a1.url, 'restarted', 'big/#');
    const pub = await client(a1.url);
    const payload = (i: number) => Buffer.alloc(20_000, 65 + (i % 26));
    for (let i = 0; i < 40; i++) {
      await pub.publishAsync(`big/${i}`, payload(i), { qos: 1, properties: { contentType: 'x/test', userProperties: { n: String(i) } } });
    }
    // A stops without a word to the cluster (as far as the registry goes, like a crash).
    await a1.stop();

    // keeper resumes on B; `ended` resumes there and ends (expiry 0); `restarted` starts clean.
    const got: { topic: string; size: number; n: unknown; type: unknown }[] = [];
    const keeper = await connect(b.url, persistent('keeper'), (topic, p, packet) =>
      got.push({ topic, size: p.length, n: packet.properties?.userProperties?.n, type: packet.properties?.contentType }),
    );
    expect(keeper.present).toBe(true);
    const ended = await connect(b.url, { clientId: 'ended', clean: false, properties: { sessionExpiryInterval: 0 } });
    expect(ended.present).toBe(true);
    await ended.c.endAsync();
    const stale: string[] = [];
    await connect(b.url, persistent('restarted', true), (t) => stale.push(t));
    await eventually(() => b.broker.session('ended') === undefined, 5000, 'the ended session gone on B');

    // A comes back with its store: keeper's 40 messages (about 1 MB) go to B, the others are dropped.
    const a2 = await node('hb-a', store);
    expect(a2.cluster.stats.messagesHandedBack).toBe(40);
    expect(b.cluster.stats.messagesTakenIn).toBe(40);
    await eventually(() => got.length >= 40, 5000, 'keeper’s messages');
    expect(got.map((m) => m.topic)).toEqual(Array.from({ length: 40 }, (_, i) => `big/${i}`));
    expect(got.every((m, i) => m.size === 20_000 && m.n === String(i) && m.type === 'x/test')).toBe(true);
    expect(a2.broker.stats().sessions).toBe(0);
    expect(stale).toEqual([]);
    // Nothing is left on A to hand back a second time.
    expect([...(await collect(store.list()))]).toEqual([]);
  });

  it('takes a session back when its new owner is gone too, and hands its messages over on the next claim', async () => {
    const store = new MemorySessionStore();
    const a1 = await node('tb-a', store);
    await offlineSubscriber(a1.url, 'orphan', 'tb/#');
    const pub = await client(a1.url);
    for (let i = 0; i < 5; i++) await pub.publishAsync('tb/x', String(i), { qos: 1 });
    await a1.stop();
    // The client resumes on B, goes offline, and B stops as well.
    const b = await node('tb-b');
    const orphan = await connect(b.url, persistent('orphan'));
    expect(orphan.present).toBe(true);
    await orphan.c.endAsync();
    await b.stop();

    const a2 = await node('tb-a', store);
    expect(a2.broker.session('orphan')).toMatchObject({ connected: false, queued: 5 });
    const c = await node('tb-c');
    const got: string[] = [];
    const back = await connect(c.url, persistent('orphan'), (_t, p) => got.push(p.toString()));
    expect(back.present).toBe(true);
    await eventually(() => got.length >= 5, 5000, 'the messages via C');
    expect(got).toEqual(['0', '1', '2', '3', '4']);
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
