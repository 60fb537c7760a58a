/**
 * Core and replicant roles in one mixed-mode NATS cluster: 3 nats-servers with JetStream and a
 * 4th without it, joined by routes. The core node uses the JetStream servers, the replicant node
 * only the server without JetStream: it reaches JetStream (the KV buckets) through the routes,
 * under the plain `$JS.API` subjects, so it needs no `jetstream_domain`.
 */
import { startNatsCluster, type NatsCluster } from '@junction/test-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { endClients, startNode, type TestNode } from './helpers.js';
import { clusterBehaviourSuite } from './link-suite.js';

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

clusterBehaviourSuite({ name: 'a core node, and a replicant node in a mixed NATS cluster', names: ['core', 'replicant'], a: () => core, b: () => replicant });

describe('a replicant node on a NATS server without JetStream in a mixed cluster', () => {
  it('has its NATS connections on the server without JetStream, and no JetStream domain', async () => {
    expect(nats.servers.map((s) => s.jetstream)).toEqual([true, true, true, false]);
    const plain = nats.servers[3]!;
    expect(await (await fetch(`${plain.monitorUrl}/jsz`)).json()).toMatchObject({ disabled: true });
    const connz = (await (await fetch(`${plain.monitorUrl}/connz`)).json()) as { connections?: { name?: string }[] };
    const names = (connz.connections ?? []).map((c) => c.name).sort();
    expect(names).toEqual(['junction mixed-replicant control', 'junction mixed-replicant data']);
  });
});
