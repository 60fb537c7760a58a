import { eventually, startNatsCluster } from '@junction/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientRegistry } from '../src/registry.js';
import { readRegistryEntry } from '../src/testing/index.js';
import { client, endClients, startNode, startTwoNodes, subscribeThenPublish, type TestNode, type TwoNodes } from './helpers.js';

/**
 * A SUBACK from a clustered node means the cluster knows of the subscription: the node's NATS
 * interest is at its server (a message published on another node right after the SUBACK
 * arrives), and for a persistent session the registry's copy holds it (a node taking the
 * session over after this one died resumes it).
 */
let two: TwoNodes;
let registry: ClientRegistry;
let A: TestNode, B: TestNode;

beforeAll(async () => {
  const cluster = { kv_replicas: 1 };
  two = await startTwoNodes(['node-a', 'node-b'], cluster);
  [A, B] = two.nodes;
  registry = two.registry;
}, 60_000);

afterEach(endClients);

afterAll(() => two?.stop());

describe('SUBACK on a clustered node', () => {
  it('comes once the registry holds the persistent session with the new subscription', async () => {
    const sub = await client(A.url, { clientId: 'sync-persistent', clean: false, properties: { sessionExpiryInterval: 600 } });
    for (let i = 1; i <= 5; i++) {
      await sub.subscribeAsync(`sync/p${i}`, { qos: 1 });
      // Read right after the SUBACK: the record must already be there.
      const { entry } = await registry.read('sync-persistent');
      expect(entry?.node).toBe('node-a');
      expect(entry?.session?.subscriptions.map((s) => s.filter)).toContain(`sync/p${i}`);
    }
  });

  it('comes once another node routes to the new subscription', async () => {
    const pub = await client(B.url, { clientId: 'sync-pub' });
    const sub = await client(A.url, { clientId: 'sync-sub' });
    const { got, want } = await subscribeThenPublish(sub, pub, 'sync/n');
    expect(got).toEqual(want);
  });

  it('still comes while the node\'s NATS server is away (the subscription holds on the node)', async () => {
    const own = await startNatsCluster(1);
    const N = await startNode('node-away', own.urls, { cluster: { kv_replicas: 1, request_timeout: 500 } });
    try {
      const sub = await client(N.url, { clientId: 'away-sub' });
      const pub = await client(N.url, { clientId: 'away-pub' });
      await own.servers[0]!.stop();
      const granted = await sub.subscribeAsync('away/x', { qos: 1 });
      expect(granted.map((g) => g.qos)).toEqual([1]);
      const got = new Promise<string>((resolve) => sub.once('message', (t, p) => resolve(`${t} ${p.toString()}`)));
      await pub.publishAsync('away/x', 'local', { qos: 1 });
      expect(await got).toBe('away/x local');
    } finally {
      await own.servers[0]!.start();
      await endClients();
      await N.stop();
      await own.stop();
    }
  }, 30_000);

  it('writes a persistent session\'s record again once the registry is back after a failed write', async () => {
    const own = await startNatsCluster(1);
    const N = await startNode('node-retry', own.urls, { cluster: { kv_replicas: 1, request_timeout: 500 } });
    try {
      await client(N.url, { clientId: 'retry-sub', clean: false, properties: { sessionExpiryInterval: 600 } }).then(async (sub) => {
        await own.servers[0]!.stop();
        await sub.subscribeAsync('retry/x', { qos: 1 });
      });
      await own.servers[0]!.start();
      // JetStream answers again a moment after the restart: until then a read may time out.
      const has = async () => (await readRegistryEntry(own.urls, 'retry-sub'))?.session?.subscriptions.some((s) => s.filter === 'retry/x') === true;
      await eventually(() => has().catch(() => false), 15_000, 'the subscription in the registry');
    } finally {
      await endClients();
      await N.stop();
      await own.stop();
    }
  }, 40_000);
});
