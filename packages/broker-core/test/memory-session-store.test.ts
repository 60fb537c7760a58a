import { describe, expect, it } from 'vitest';
import type { Message } from '../src/message.js';
import { MemorySessionStore } from '../src/store/memory-session-store.js';
import type { StoredDelivery, StoredSession } from '../src/store/session-store.js';
import { sessionStoreSuite } from '../src/testing/session-store-suite.js';

sessionStoreSuite('MemorySessionStore', () => new MemorySessionStore());

const NOW = 1_700_000_000_000;

const msg = (topic: string, over: Partial<Message> = {}): Message => ({
  topic,
  payload: Buffer.from(topic),
  qos: 1,
  retain: false,
  from: { clientId: 'pub', protocol: 'mqtt', node: 'n' },
  timestamp: NOW,
  ...over,
});

const fullSession = (): StoredSession => ({
  clientId: 'c1',
  expiryInterval: 60,
  disconnectedAt: NOW,
  subscriptions: [
    { filter: 'a/+', qos: 1, noLocal: true, subscriptionId: 3 },
    { filter: '$share/g/b/#', qos: 2 },
  ],
  pendingWill: {
    topic: 'will',
    payload: Buffer.from('bye'),
    qos: 1,
    retain: false,
    properties: { correlationData: Buffer.from([1, 2]), userProperties: { k: ['v1', 'v2'], s: 'x' } },
    dueAt: NOW + 5000,
  },
});

const fullDelivery = (): Omit<StoredDelivery, 'seq'> => ({
  message: msg('t', {
    payload: Buffer.from('data'),
    properties: { contentType: 'text/plain', correlationData: Buffer.from([9]), userProperties: { k: ['a', 'b'] } },
  }),
  qos: 1,
  retain: true,
  subscriptionIds: [1, 2],
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

describe('MemorySessionStore isolation', () => {
  it('mutating returned objects does not change the store', async () => {
    const store = new MemorySessionStore();
    try {
      await store.put(fullSession());
      const seq = await store.enqueue('c1', fullDelivery());
      await store.addAwaitingRel('c1', 1, NOW);

      // Session record, its subscriptions and its will.
      const got = (await store.get('c1')) as Writable<StoredSession>;
      got.expiryInterval = 0;
      (got.subscriptions as Writable<StoredSession['subscriptions'][number]>[])[0]!.qos = 0;
      (got.subscriptions as unknown[]).push({ filter: 'evil', qos: 0 });
      const will = got.pendingWill!;
      will.payload.fill(0);
      will.properties!.correlationData!.fill(0);
      (will.properties!.userProperties!.k as string[]).push('v3');
      will.topic = 'changed';
      const [listed] = await collect(store.list());
      (listed!.subscriptions as unknown[]).length = 0;
      expect(await store.get('c1')).toEqual(fullSession());

      // Deliveries, their messages and buffers.
      const [d] = (await store.deliveries('c1')) as Writable<StoredDelivery>[];
      d!.packetId = 99;
      d!.retain = false;
      (d!.subscriptionIds as number[]).push(7);
      d!.message.payload.fill(0x41);
      d!.message.properties!.correlationData!.fill(0);
      (d!.message.properties!.userProperties!.k as string[]).pop();
      (d!.message as Writable<Message>).topic = 'changed';
      (d!.message.from as { clientId: string }).clientId = 'changed';
      expect(await store.deliveries('c1')).toEqual([{ ...fullDelivery(), seq }]);
      expect(await store.complete('c1', 99)).toBe(false);

      // Awaiting-rel map.
      const rel = await store.awaitingRel('c1');
      rel.set(2, NOW);
      rel.delete(1);
      expect(await store.awaitingRel('c1')).toEqual(new Map([[1, NOW]]));
    } finally {
      await store.close();
    }
  });

  it('mutating objects after handing them to the store does not change the store', async () => {
    const store = new MemorySessionStore();
    try {
      const session = fullSession() as Writable<StoredSession>;
      await store.put(session);
      session.pendingWill!.payload.fill(0);
      (session.subscriptions as unknown[]).length = 0;
      session.expiryInterval = 1;

      const d = fullDelivery() as Writable<Omit<StoredDelivery, 'seq'>>;
      const seq = await store.enqueue('c1', d);
      d.message.payload.fill(0);
      (d.subscriptionIds as number[]).length = 0;
      d.qos = 2;

      expect(await store.get('c1')).toEqual(fullSession());
      expect(await store.deliveries('c1')).toEqual([{ ...fullDelivery(), seq }]);
    } finally {
      await store.close();
    }
  });
});

describe('MemorySessionStore sequence numbers and bookkeeping', () => {
  it('numbers deliveries from 1 per client id and starts again after delete', async () => {
    const store = new MemorySessionStore();
    try {
      await store.put({ clientId: 'a', expiryInterval: 10, subscriptions: [] });
      expect(await store.enqueue('a', fullDelivery())).toBe(1);
      expect(await store.enqueue('a', fullDelivery())).toBe(2);
      expect(await store.enqueue('b', fullDelivery())).toBe(1);
      expect(await store.discard('a', 2)).toBe(true);
      expect(await store.enqueue('a', fullDelivery())).toBe(3);
      expect(await store.delete('a')).toBe(true);
      expect(await store.enqueue('a', fullDelivery())).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('delete of a client id without a record clears its state and resolves false', async () => {
    const store = new MemorySessionStore();
    try {
      await store.enqueue('orphan', fullDelivery());
      await store.addAwaitingRel('orphan', 1, NOW);
      expect(store.size).toBe(1);
      expect(await collect(store.list())).toEqual([]);
      expect(await store.delete('orphan')).toBe(false);
      expect(store.size).toBe(0);
      expect(await store.deliveries('orphan')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('marking a delivery with a packet id another one holds returns that one to the queue', async () => {
    const store = new MemorySessionStore();
    try {
      const a = await store.enqueue('c', fullDelivery());
      const b = await store.enqueue('c', fullDelivery());
      await store.markInflight('c', a, 5);
      await store.markReleased('c', 5);
      await store.markInflight('c', b, 5);
      const [da, db] = await store.deliveries('c');
      expect(da!.packetId).toBeUndefined();
      expect(da!.released).toBeUndefined();
      expect(db!.packetId).toBe(5);
      expect(db!.released).toBeUndefined();
      expect(await store.complete('c', 5)).toBe(true);
      expect((await store.deliveries('c')).map((d) => d.seq)).toEqual([a]);
    } finally {
      await store.close();
    }
  });

  it('close clears everything and leaves the store usable', async () => {
    const store = new MemorySessionStore();
    await store.put(fullSession());
    await store.enqueue('c1', fullDelivery());
    await store.close();
    expect(store.size).toBe(0);
    expect(await store.get('c1')).toBeUndefined();
    expect(await store.deliveries('c1')).toEqual([]);
    expect(await store.enqueue('c1', fullDelivery())).toBe(1);
    await store.close();
    await store.close();
    expect(store.size).toBe(0);
  });
});
