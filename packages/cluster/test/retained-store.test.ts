import { silentLogger, type Message } from '@junction/broker-core';
import { retainedStoreSuite } from '@junction/broker-core/testing';
import { eventually } from '@junction/test-servers';
import type { KV } from 'nats';
import { describe, expect, it } from 'vitest';
import { ClusterRetainedStore } from '../src/index.js';
import { useKvBuckets } from './kv-buckets.js';

const kvs = useKvBuckets('retained');

async function bucket(): Promise<KV> {
  return (await kvs.bucket()).kv;
}

async function store(kv?: KV): Promise<ClusterRetainedStore> {
  const s = new ClusterRetainedStore(kv ?? (await bucket()), silentLogger);
  await s.start();
  return s;
}

// Every retained store passes the core's conformance suite; this one over a fresh KV bucket.
retainedStoreSuite('ClusterRetainedStore', () => store());

const m = (topic: string, payload: string): Message => ({ topic, payload: Buffer.from(payload), qos: 1, retain: true, from: { clientId: 'c', protocol: 'mqtt', node: 'n' }, timestamp: Date.now() });

describe('ClusterRetainedStore on two nodes sharing a bucket', () => {
  it('shows writes of one node on the other, and converges to the last write of a topic', async () => {
    const kv = await bucket();
    const [a, b] = [await store(kv), await store(kv)];
    try {
      await a.put(m('door/1', 'open'));
      await eventually(async () => (await b.get('door/1'))?.payload.toString() === 'open', 5000, 'the put on b');
      await b.delete('door/1');
      await eventually(async () => (await a.get('door/1')) === undefined, 5000, 'the delete on a');
      // Racing writes of one topic: both nodes end with the value the KV kept last.
      await Promise.all([a.put(m('race', 'from a')), b.put(m('race', 'from b'))]);
      const last = Buffer.from((await kv.get(Buffer.from('race').toString('base64url')))!.value).includes(Buffer.from('from a')) ? 'from a' : 'from b';
      await eventually(async () => (await a.get('race'))?.payload.toString() === last && (await b.get('race'))?.payload.toString() === last, 5000, 'convergence');
      // A store started later loads everything (a node joining the cluster).
      const c = await store(kv);
      expect((await c.match('#', Date.now())).map((x) => x.topic)).toEqual(['race']);
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps retained $SYS messages on their node', async () => {
    const kv = await bucket();
    const [a, b] = [await store(kv), await store(kv)];
    try {
      await a.put(m('$SYS/brokers/a/version', '1'));
      await a.put(m('marker', 'x'));
      await eventually(async () => (await b.get('marker')) !== undefined, 5000, 'the marker on b');
      expect(await b.get('$SYS/brokers/a/version')).toBeUndefined();
      expect(await a.get('$SYS/brokers/a/version')).toBeDefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
