/**
 * Core and replicant roles: a core node on a hub nats-server with JetStream, a replicant node on
 * a leaf nats-server WITHOUT JetStream (JetStream and the KV are reached through the hub). The
 * replicant routes messages, takes part in takeovers and sees cluster-wide bans.
 */
import { installAuth, type AuthHandle } from '@junction/auth';
import { silentLogger } from '@junction/broker-core';
import { eventually } from '@junction/test-servers';
import mqtt, { type IDisconnectPacket } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { client, endClients, startNode, type TestNode } from './helpers.js';
import { startHubAndLeaves, type HubAndLeaves } from './leaf-nats.js';
import { clusterBehaviourSuite } from './link-suite.js';

let nats: HubAndLeaves;
let core: TestNode;
let replicant: TestNode;
const auths: AuthHandle[] = [];

beforeAll(async () => {
  nats = await startHubAndLeaves(1);
  core = await startNode('core-1', [nats.hubUrl], { cluster: { role: 'core', kv_replicas: 1 } });
  replicant = await startNode('replicant-1', [nats.leafUrls[0]!], { cluster: { role: 'replicant', kv_replicas: 1, jetstream_domain: nats.domain } });
  for (const n of [core, replicant]) auths.push(await installAuth(n.broker, {}, silentLogger, { records: n.cluster.records }));
}, 60_000);

afterEach(endClients);

afterAll(async () => {
  await Promise.allSettled([core?.stop(), replicant?.stop()]);
  await Promise.allSettled(auths.map((a) => a.stop()));
  await nats?.stop();
});

clusterBehaviourSuite({ name: 'a core node, and a replicant node on a leaf NATS server', names: ['core', 'replicant'], a: () => core, b: () => replicant });

describe('a replicant node on a leaf NATS server without JetStream', () => {
  it('sees bans created on the core node: kicks and refuses the client', async () => {
    const victim = await client(replicant.url, { clientId: 'r-banned' });
    const gone = new Promise<IDisconnectPacket>((resolve) => victim.once('disconnect', resolve));
    auths[0]!.banned.create({ as: 'clientid', who: 'r-banned' });
    expect((await gone).reasonCode).toBe(0x98);
    const code = await mqtt.connectAsync(replicant.url, { protocolVersion: 5, clientId: 'r-banned', reconnectPeriod: 0 }).then(
      async (c) => (await c.endAsync(true), undefined),
      (err: { code?: number }) => err.code,
    );
    expect(code).toBe(0x8a);
    // And the other way round: a ban removed on the replicant is removed on the core.
    expect(auths[1]!.banned.delete('clientid', 'r-banned')).toBe(true);
    await eventually(() => auths[0]!.banned.lookup('clientid', 'r-banned') === undefined, 5000, 'the delete on the core');
  });
});
