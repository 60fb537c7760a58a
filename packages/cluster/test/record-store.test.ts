import { silentLogger, type RecordChange, type RecordStore } from '@junction/broker-core';
import { recordStoreSuite } from '@junction/broker-core/testing';
import { eventually } from '@junction/test-servers';
import type { KV } from 'nats';
import { describe, expect, it } from 'vitest';
import { ClusterRecordStore } from '../src/index.js';
import { useKvBuckets } from './kv-buckets.js';

const kvs = useKvBuckets('records');
const bucket = () => kvs.bucket();

const open = (b: { kv: KV; name: string }) => ClusterRecordStore.open(b.kv, kvs.jetstream(), b.name, silentLogger);
const buckets_ = new WeakMap<RecordStore, { kv: KV; name: string }>();

// Every record store passes the core's conformance suite; this one over a fresh KV bucket, and
// "reopen" is a new store instance on the same bucket (another node, or this one restarted).
recordStoreSuite(
  'ClusterRecordStore',
  async () => {
    const b = await bucket();
    const s = await open(b);
    buckets_.set(s, b);
    return s;
  },
  async (s) => {
    const b = buckets_.get(s)!;
    await s.close();
    return open(b);
  },
);

function feed(store: ClusterRecordStore, namespace: string): RecordChange[] {
  const got: RecordChange[] = [];
  store.watch(namespace, (c) => got.push(c));
  return got;
}

describe('ClusterRecordStore change feed between two nodes', () => {
  it("tells each node the other's puts and deletes, never its own", async () => {
    const b = await bucket();
    const [a, bb] = [await open(b), await open(b)];
    try {
      const onA = feed(a, 'auth.banned');
      const onB = feed(bb, 'auth.banned');
      const other = feed(bb, 'auth');
      await a.put('auth.banned', 'clientid\u0000x', { who: 'x' });
      await eventually(() => onB.length === 1, 5000, 'the put on B');
      expect(onB[0]).toEqual({ key: 'clientid\u0000x', value: { who: 'x' } });
      expect(await bb.get('auth.banned', 'clientid\u0000x')).toEqual({ who: 'x' });

      const long = 'peerhost_net\u0000'.padEnd(500, 'z');
      await bb.put('auth.banned', long, 2);
      await eventually(() => onA.length === 1, 5000, 'the put on A');
      expect(await a.delete('auth.banned', 'clientid\u0000x')).toBe(true);
      expect(await a.delete('auth.banned', long)).toBe(true);
      await eventually(() => onB.length === 3, 5000, 'the deletes on B');
      expect(onB.slice(1)).toEqual([
        { key: 'clientid\u0000x', value: undefined },
        { key: long, value: undefined },
      ]);
      await bb.put('auth.banned', 'k2', 3);
      expect(await bb.clear('auth.banned')).toBe(1);
      await eventually(() => onA.length === 3, 5000, 'the clear on A');
      expect(onA).toEqual([
        { key: long, value: 2 },
        { key: 'k2', value: 3 },
        { key: 'k2', value: undefined },
      ]);
      // Own writes never come back; other namespaces are not told.
      await new Promise((r) => setTimeout(r, 100));
      expect(onA.length).toBe(3);
      expect(onB.length).toBe(3);
      expect(other).toEqual([]);
    } finally {
      await a.close();
      await bb.close();
    }
  });

  it('converges when both nodes write one key at once: the last write in the KV wins everywhere', async () => {
    const b = await bucket();
    const [a, bb] = [await open(b), await open(b)];
    try {
      // Each node's view: its own writes, then what the feed says.
      const view = new Map<ClusterRecordStore, unknown>();
      for (const s of [a, bb]) s.watch('rules', (c) => view.set(s, c.value));
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        for (const [s, tag] of [
          [a, 'a'],
          [bb, 'b'],
        ] as const) {
          view.set(s, `${tag}${i}`);
          writes.push(s.put('rules', 'r', `${tag}${i}`));
        }
      }
      await Promise.all(writes);
      const final = await a.get('rules', 'r');
      await eventually(() => view.get(a) === final && view.get(bb) === final, 5000, `both views at ${String(final)}`);
    } finally {
      await a.close();
      await bb.close();
    }
  });
});
