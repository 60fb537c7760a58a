import { eventually, startNatsCluster, type NatsCluster } from '@junction/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, endClients, inbox, startNode, untilRouted, type TestNode } from './helpers.js';
import { clusterBehaviourSuite } from './link-suite.js';

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

clusterBehaviourSuite({ name: '3 nodes over 3 NATS servers', names: ['first node', 'second node'], a: () => A, b: () => B, c: () => C });

describe('cluster of 3 nodes over 3 NATS servers', () => {
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
