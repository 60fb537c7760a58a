import { BrokerCore, createAdapterContext, type BrokerOptions } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { eventually, startNatsCluster } from '@junction/test-servers';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { connect, type KV, type NatsConnection } from 'nats';
import { ClusterNode } from '../src/index.js';
import type { ClusterConfig } from '../src/config.js';
import { ClientRegistry } from '../src/registry.js';

/** One Junction node in-process: the core, its cluster link, an MQTT TCP listener. */
export interface TestNode {
  readonly name: string;
  readonly broker: BrokerCore;
  readonly cluster: ClusterNode;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startNode(name: string, servers: string[], over: { cluster?: Partial<ClusterConfig>; broker?: BrokerOptions } = {}): Promise<TestNode> {
  const cluster = await ClusterNode.start({ nodeName: name, config: { servers, kv_replicas: 3, request_timeout: 2000, ...over.cluster } });
  const broker = new BrokerCore({ nodeName: name, retained: cluster.retained, ...over.broker });
  if (over.broker?.sessionStore) await broker.restore();
  await cluster.attach(broker);
  const listeners = tcpListenersFactory.create(createAdapterContext(broker), {
    default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' },
  });
  const [info] = await listeners.start();
  let stopped: Promise<void> | undefined;
  return {
    name,
    broker,
    cluster,
    url: `mqtt://127.0.0.1:${info!.port}`,
    stop: () =>
      (stopped ??= (async () => {
        await listeners.stop({ drainMs: 0 });
        await broker.close();
        await cluster.close();
      })()),
  };
}

const clients: MqttClient[] = [];

/** An MQTT 5 client that the suite ends in afterEach (`endClients`). */
export async function client(url: string, opts: IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}

/** Let the suite end a client it connected itself. */
export function track(c: MqttClient): MqttClient {
  clients.push(c);
  return c;
}

export async function endClients(): Promise<void> {
  await Promise.allSettled(clients.splice(0).map((c) => c.endAsync(true)));
}

/** Messages a client received, as `topic payload` strings. */
export function inbox(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (topic, payload) => {
    if (payload.toString() !== 'probe') got.push(`${topic} ${payload.toString()}`);
  });
  return got;
}

/**
 * Wait until a subscription made on one node is routed from another: NATS spreads interest
 * between its servers asynchronously, so publish a probe on `topic` until `got` shows it.
 */
export async function untilRouted(pub: MqttClient, topic: string, subs: MqttClient[]): Promise<void> {
  const seen = new Set<MqttClient>();
  const listeners = subs.map((s) => {
    const fn = (t: string, payload: Buffer) => {
      if (t === topic && payload.toString() === 'probe') seen.add(s);
    };
    s.on('message', fn);
    return () => s.off('message', fn);
  });
  try {
    await eventually(
      async () => {
        await pub.publishAsync(topic, 'probe', { qos: 0 });
        await new Promise((r) => setTimeout(r, 20));
        return seen.size === subs.length;
      },
      15_000,
      `a route for ${topic}`,
    );
  } finally {
    for (const off of listeners) off();
  }
}

/**
 * Subscribe `n` new filters `{prefix}{i}` on `sub`, each followed at once (no probing) by a QoS 1
 * publish on it from `pub` on another node; resolves with what `sub` received, in order, once it
 * has as many as published or after 3 s, and what it should have received.
 */
export async function subscribeThenPublish(sub: MqttClient, pub: MqttClient, prefix: string, n = 20): Promise<{ got: string[]; want: string[] }> {
  const got: string[] = [];
  sub.on('message', (t, p) => got.push(`${t} ${p.toString()}`));
  for (let i = 1; i <= n; i++) {
    await sub.subscribeAsync(`${prefix}${i}`, { qos: 1 });
    await pub.publishAsync(`${prefix}${i}`, `m${i}`, { qos: 1 });
  }
  const want = Array.from({ length: n }, (_, i) => `${prefix}${i + 1} m${i + 1}`);
  await eventually(() => got.length >= want.length, 3000, 'every message').catch(() => {});
  return { got, want };
}

/** Two nodes on one nats-server, and the client registry read through a connection of its own. */
export interface TwoNodes {
  readonly nodes: [TestNode, TestNode];
  /** The test's own connection to the server. */
  readonly nc: NatsConnection;
  readonly registry: ClientRegistry;
  stop(): Promise<void>;
}

export async function startTwoNodes(names: [string, string], cluster: Partial<ClusterConfig>): Promise<TwoNodes> {
  const nats = await startNatsCluster(1);
  const nodes = (await Promise.all(names.map((n) => startNode(n, nats.urls, { cluster })))) as [TestNode, TestNode];
  const nc = await connect({ servers: nats.urls });
  const registry = new ClientRegistry((await nc.jetstream().views.kv('junction_clients', { bindOnly: true })) as KV);
  return {
    nodes,
    nc,
    registry,
    stop: async () => {
      await Promise.allSettled(nodes.map((n) => n.stop()));
      await nc.close();
      await nats.stop();
    },
  };
}
