/**
 * Core and replicant roles in one mixed-mode NATS cluster: 3 nats-servers with JetStream and a
 * 4th without it, joined by routes. The core node uses the JetStream servers, the replicant node
 * only the server without JetStream: it reaches JetStream (the KV buckets) through the routes,
 * under the plain `$JS.API` subjects, so it needs no `jetstream_domain`.
 */
import { eventually, startNatsCluster, type NatsCluster } from '@junction/test-servers';
import mqtt, { type IClientOptions, type IDisconnectPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, endClients, inbox, startNode, track, untilRouted, type TestNode } from './helpers.js';

let nats: NatsCluster;
let core: TestNode;
let replicant: TestNode;

beforeAll(async () => {
  nats = await startNatsCluster(4, { withoutJetStream: 1 });
  const withJs = nats.servers.filter((s) => s.jetstream).map((s) => s.url);
  const withoutJs = nats.servers.filter((s) => !s.jetstream).map((s) => s.url);
  core = await startNode('mixed-core', withJs, { cluster: { role: 'core', randomize_servers: false } });
  replicant = await startNode('mixed-replicant', withoutJs, { cluster: { role: 'replicant' } });
}, 60_000);

afterEach(endClients);

afterAll(async () => {
  await Promise.allSettled([core?.stop(), replicant?.stop()]);
  await nats?.stop();
});

describe('a replicant node on a NATS server without JetStream in a mixed cluster', () => {
  it('has its NATS connections on the server without JetStream, and no JetStream domain', async () => {
    expect(nats.servers.map((s) => s.jetstream)).toEqual([true, true, true, false]);
    const plain = nats.servers[3]!;
    expect(await (await fetch(`${plain.monitorUrl}/jsz`)).json()).toMatchObject({ disabled: true });
    const connz = (await (await fetch(`${plain.monitorUrl}/connz`)).json()) as { connections?: { name?: string }[] };
    const names = (connz.connections ?? []).map((c) => c.name).sort();
    expect(names).toEqual(['junction mixed-replicant control', 'junction mixed-replicant data']);
  });

  it('routes messages both ways with the core node', async () => {
    const onCore = await client(core.url, { clientId: 'm-core-sub' });
    const onReplicant = await client(replicant.url, { clientId: 'm-rep-sub' });
    await onCore.subscribeAsync('mixed/#', { qos: 1 });
    await onReplicant.subscribeAsync('mixed/#', { qos: 1 });
    const [gotCore, gotReplicant] = [inbox(onCore), inbox(onReplicant)];
    const pubCore = await client(core.url, { clientId: 'm-core-pub' });
    const pubReplicant = await client(replicant.url, { clientId: 'm-rep-pub' });
    await untilRouted(pubCore, 'mixed/probe', [onReplicant]);
    await untilRouted(pubReplicant, 'mixed/probe', [onCore]);
    await pubCore.publishAsync('mixed/from-core', 'c', { qos: 1 });
    await pubReplicant.publishAsync('mixed/from-replicant', 'r', { qos: 1 });
    await eventually(() => gotCore.length === 2 && gotReplicant.length === 2, 5000, 'both messages on both nodes');
    expect(gotCore.sort()).toEqual(['mixed/from-core c', 'mixed/from-replicant r']);
    expect(gotReplicant.sort()).toEqual(['mixed/from-core c', 'mixed/from-replicant r']);
  });

  it.each([
    ['replicant', 'core'],
    ['core', 'replicant'],
  ] as const)('moves a client id from the %s to the %s: the old connection gets DISCONNECT 0x8E', async (from, to) => {
    const [a, b] = [from === 'core' ? core : replicant, to === 'core' ? core : replicant];
    const clientId = `m-mover-${from}`;
    const first = await client(a.url, { clientId });
    const kicked = new Promise<IDisconnectPacket>((resolve) => first.once('disconnect', resolve));
    const second = await client(b.url, { clientId });
    expect((await kicked).reasonCode).toBe(0x8e);
    expect(second.connected).toBe(true);
    expect(a.broker.session(clientId)).toBeUndefined();
    expect(b.broker.session(clientId)?.connected).toBe(true);
  });

  it.each([
    ['replicant', 'core'],
    ['core', 'replicant'],
  ] as const)('resumes a persistent session from the %s on the %s with its queued message', async (from, to) => {
    const [a, b] = [from === 'core' ? core : replicant, to === 'core' ? core : replicant];
    const clientId = `m-persist-${from}`;
    const topic = `mixed-persist/${from}`;
    const opts: IClientOptions = { clientId, clean: false, properties: { sessionExpiryInterval: 300 } };
    const before = await client(a.url, opts);
    await before.subscribeAsync(`${topic}/#`, { qos: 1 });
    await before.endAsync();
    // Published on the other node: routed to the offline session's node and queued there.
    const pub = await client(b.url, { clientId: `${clientId}-pub` });
    await eventually(
      async () => {
        await pub.publishAsync(`${topic}/1`, 'queued', { qos: 1 });
        return (a.broker.session(clientId)?.queued ?? 0) > 0;
      },
      10_000,
      `a message queued on the ${from}`,
    );
    const got: string[] = [];
    const after = track(mqtt.connect(b.url, { protocolVersion: 5, reconnectPeriod: 0, ...opts }));
    after.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    const sessionPresent = await new Promise<boolean>((r) => after.once('connect', (p) => r(p.sessionPresent)));
    expect(sessionPresent).toBe(true);
    await eventually(() => got.includes(`${topic}/1 queued`), 5000, 'the moved queued message');
    expect(b.broker.session(clientId)?.subscriptions).toEqual([`${topic}/#`]);
    expect(a.broker.session(clientId)).toBeUndefined();
  });

  it('shows a retained message set on one node on the other, and its removal', async () => {
    const retainedOn = async (node: TestNode) => {
      const c = await client(node.url);
      const got = inbox(c);
      await c.subscribeAsync('mixed-ret/#', { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
      await c.endAsync();
      return got;
    };
    const onReplicant = await client(replicant.url, { clientId: 'm-ret-rep' });
    await onReplicant.publishAsync('mixed-ret/door', 'open', { qos: 1, retain: true });
    await eventually(async () => (await retainedOn(core)).includes('mixed-ret/door open'), 5000, 'the retained message on the core');
    const onCore = await client(core.url, { clientId: 'm-ret-core' });
    await onCore.publishAsync('mixed-ret/window', 'shut', { qos: 1, retain: true });
    await eventually(async () => (await retainedOn(replicant)).includes('mixed-ret/window shut'), 5000, 'the retained message on the replicant');
    await onCore.publishAsync('mixed-ret/door', '', { qos: 1, retain: true });
    await onReplicant.publishAsync('mixed-ret/window', '', { qos: 1, retain: true });
    await eventually(async () => (await retainedOn(replicant)).length === 0, 5000, 'both retained messages gone on the replicant');
    await eventually(async () => (await retainedOn(core)).length === 0, 5000, 'both retained messages gone on the core');
  });
});
