import { eventually, startNatsCluster, type NatsCluster } from '@junction/test-servers';
import mqtt, { type IDisconnectPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, endClients, inbox, startNode, track, untilRouted, type TestNode } from './helpers.js';

/** 3 nats-servers clustered with JetStream, 3 Junction nodes, node i on server i first. */
let nats: NatsCluster;
let nodes: TestNode[];
let A: TestNode, B: TestNode, C: TestNode;

beforeAll(async () => {
  nats = await startNatsCluster(3);
  const urls = nats.urls;
  // Each node prefers its own server and fails over to the others in order.
  nodes = await Promise.all(
    ['node-a', 'node-b', 'node-c'].map((name, i) => startNode(name, [urls[i]!, ...urls.filter((_, j) => j !== i)], { cluster: { randomize_servers: false } })),
  );
  [A, B, C] = nodes as [TestNode, TestNode, TestNode];
}, 60_000);

afterEach(endClients);

afterAll(async () => {
  await Promise.allSettled((nodes ?? []).map((n) => n.stop()));
  await nats?.stop();
});

describe('cluster of 3 nodes over 3 NATS servers', () => {
  it('routes a publish on one node to subscribers on the others, once each, for any topic', async () => {
    const onB = await client(B.url, { clientId: 'cross-b' });
    const onC = await client(C.url, { clientId: 'cross-c' });
    await onB.subscribeAsync('cross/#', { qos: 1 });
    await onC.subscribeAsync(['cross/+/x', 'cross/#'], { qos: 1 });
    const gotB = inbox(onB);
    const gotC = inbox(onC);
    const pub = await client(A.url, { clientId: 'cross-pub' });
    await untilRouted(pub, 'cross/probe', [onB, onC]);

    const topics = ['cross', 'cross/a/x', 'cross/a.b c/x', 'cross//x', 'cross/ü*>$/', 'other/a'];
    for (const t of topics) await pub.publishAsync(t, `m:${t}`, { qos: 1 });
    const want = topics.filter((t) => t !== 'other/a').map((t) => `${t} m:${t}`);
    await eventually(() => gotB.length >= want.length && gotC.length >= want.length, 5000, 'cross-node deliveries');
    await new Promise((r) => setTimeout(r, 100));
    expect(gotB).toEqual(want);
    // Two overlapping filters on C: still one delivery per message [MQTT-3.3.4-2].
    expect(gotC).toEqual(want);
  });

  it('keeps $ topics out of wildcard subscriptions on other nodes and $SYS on its node', async () => {
    const onB = await client(B.url, { clientId: 'dollar-b' });
    await onB.subscribeAsync(['#', '$app/#'], { qos: 0 });
    const got = inbox(onB);
    const pub = await client(A.url, { clientId: 'dollar-pub' });
    await untilRouted(pub, 'dollar/probe', [onB]);
    await pub.publishAsync('$app/x', 'dollar', { qos: 1 });
    await pub.publishAsync('after', 'plain', { qos: 1 });
    await eventually(() => got.includes('after plain'), 5000, 'the plain message');
    expect(got).toContain('$app/x dollar');
    expect(got.filter((g) => g.startsWith('$SYS'))).toEqual([]);
  });

  it('keeps topics too long for a NATS subject on their node without breaking its NATS connection', async () => {
    const long = `long/${'ü'.repeat(1500)}`;
    const sub = await client(B.url, { clientId: 'long-sub' });
    await sub.subscribeAsync([long, 'long/ok'], { qos: 1 });
    const got = inbox(sub);
    const local = await client(B.url, { clientId: 'long-pub' });
    await local.publishAsync(long, 'here', { qos: 1 });
    await eventually(() => got.includes(`${long} here`), 5000, 'local delivery of the long topic');
    const remote = await client(A.url, { clientId: 'long-remote' });
    await untilRouted(remote, 'long/ok', [sub]);
    expect(B.cluster.stats.forwardFailed).toBeGreaterThan(0);
  });

  it('balances a shared subscription over the nodes that have members, each message once', async () => {
    const members = [await client(B.url, { clientId: 'share-b1' }), await client(B.url, { clientId: 'share-b2' }), await client(C.url, { clientId: 'share-c1' })];
    for (const m of members) await m.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
    const got = members.map(inbox);
    const pub = await client(A.url, { clientId: 'share-pub' });
    await untilRouted(pub, 'jobs/probe', members);

    const n = 60;
    for (let i = 0; i < n; i++) await pub.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
    await eventually(() => got.flat().length >= n, 5000, 'every job');
    await new Promise((r) => setTimeout(r, 100));
    const all = got.flat().sort();
    expect(all).toEqual(Array.from({ length: n }, (_, i) => `jobs/${i} job ${i}`).sort());
    // Both nodes with members got work: NATS picks a node, the node picks one of its members.
    expect(got[0]!.length + got[1]!.length).toBeGreaterThan(0);
    expect(got[2]!.length).toBeGreaterThan(0);
  });

  it('moves a client id to the node it connects to last: the old connection gets DISCONNECT 0x8E', async () => {
    const first = await client(A.url, { clientId: 'roamer' });
    const reason = new Promise<number | undefined>((r) => first.once('disconnect', (p: IDisconnectPacket) => r(p.reasonCode)));
    const second = await client(C.url, { clientId: 'roamer' });
    expect(await reason).toBe(0x8e);
    expect(A.broker.session('roamer')).toBeUndefined();
    expect(C.broker.session('roamer')?.connected).toBe(true);
    expect(second.connected).toBe(true);
  });

  it('resumes a persistent session on another node with its subscriptions and queued messages', async () => {
    const opts = { clientId: 'persist-1', clean: false, properties: { sessionExpiryInterval: 300 } };
    const before = await client(A.url, opts);
    await before.subscribeAsync('persist/#', { qos: 1 });
    await before.endAsync();
    const pub = await client(C.url, { clientId: 'persist-pub' });
    // Node A still has the offline session's interest: this message is queued there.
    await eventually(
      async () => {
        await pub.publishAsync('persist/1', 'queued on A', { qos: 1 });
        return (A.broker.session('persist-1')?.queued ?? 0) > 0;
      },
      10_000,
      'a message queued on node A',
    );
    const got: string[] = [];
    const after = track(mqtt.connect(B.url, { protocolVersion: 5, reconnectPeriod: 0, ...opts }));
    after.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
    const connack = new Promise<boolean>((r) => after.once('connect', (p) => r(p.sessionPresent)));
    expect(await connack).toBe(true);
    await eventually(() => got.includes('persist/1 queued on A'), 5000, 'the moved queued message');
    expect(B.broker.session('persist-1')?.subscriptions).toEqual(['persist/#']);
    expect(A.broker.session('persist-1')).toBeUndefined();
    // And new messages now reach it on B.
    await untilRouted(pub, 'persist/probe', [after]);
    await pub.publishAsync('persist/2', 'on B', { qos: 1 });
    await eventually(() => got.includes('persist/2 on B'), 5000, 'a message routed to B');
  });

  it('shows a retained message set on one node on every node, and its removal', async () => {
    const pub = await client(A.url, { clientId: 'ret-pub' });
    await pub.publishAsync('ret/door', 'open', { qos: 1, retain: true });
    const retainedOn = async (node: TestNode) => {
      const c = await client(node.url);
      const got = inbox(c);
      await c.subscribeAsync('ret/#', { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
      await c.endAsync();
      return got;
    };
    await eventually(async () => (await retainedOn(C)).includes('ret/door open'), 5000, 'the retained message on C');
    await eventually(async () => (await retainedOn(B)).includes('ret/door open'), 5000, 'the retained message on B');
    const clear = await client(B.url, { clientId: 'ret-clear' });
    await clear.publishAsync('ret/door', '', { qos: 1, retain: true });
    await eventually(async () => (await retainedOn(A)).length === 0, 5000, 'the retained message gone on A');
    await eventually(async () => (await retainedOn(C)).length === 0, 5000, 'the retained message gone on C');
  });

  it('keeps the nodes on the surviving NATS servers working when one server stops', async () => {
    // D knows only server 3: it is cut off from the cluster when that server stops.
    const D = await startNode('node-d', [nats.urls[2]!], { cluster: { request_timeout: 500 } });
    nodes.push(D);
    const localSub = await client(D.url, { clientId: 'island-sub' });
    await localSub.subscribeAsync('island/#', { qos: 1 });
    const island = inbox(localSub);
    const localPub = await client(D.url, { clientId: 'island-pub' });

    await nats.servers[2]!.stop({ kill: true });
    // The cut-off node still serves its connected clients locally...
    await localPub.publishAsync('island/x', 'local', { qos: 1 });
    await eventually(() => island.includes('island/x local'), 5000, 'local delivery on the cut-off node');
    // ...and refuses new connections it cannot register (on_registry_unavailable: refuse).
    const refused = await client(D.url, { clientId: 'island-new' }).then(
      () => 'connected',
      (err: { code?: number }) => err.code,
    );
    expect(refused).toBe(0x88);

    // A and B: pub/sub across nodes, and connects (registry with 2 of 3 JetStream replicas).
    await eventually(
      async () => {
        try {
          const sub = await client(B.url, { clientId: `after-partition-${Date.now()}` });
          await sub.subscribeAsync('survive/#', { qos: 1 });
          const got = inbox(sub);
          const pub = await client(A.url, { clientId: `after-partition-pub-${Date.now()}` });
          await untilRouted(pub, 'survive/probe', [sub]);
          await pub.publishAsync('survive/x', 'still here', { qos: 1 });
          await eventually(() => got.includes('survive/x still here'), 3000, 'delivery after the partition');
          return true;
        } catch {
          await endClients();
          return false;
        }
      },
      30_000,
      'the surviving nodes to work',
    );
  });
});
