import type { Message, StoredSession } from '@junction/broker-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LmdbStoreError, openLmdbStores, type LmdbStores } from '../src/index.js';
import { delivery, message, NOW, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Everything observable through the store interfaces, for before/after comparisons. */
async function snapshot(stores: LmdbStores, clientIds: readonly string[], filters: readonly string[]) {
  const sessions = (await collect(stores.sessions.list())).sort((a, b) => a.clientId.localeCompare(b.clientId));
  const perClient = [];
  for (const id of clientIds) {
    perClient.push({ id, record: await stores.sessions.get(id), deliveries: await stores.sessions.deliveries(id), rel: [...(await stores.sessions.awaitingRel(id))] });
  }
  const matches = [];
  for (const f of filters) matches.push((await stores.retained.match(f, NOW)).sort((a, b) => a.topic.localeCompare(b.topic)));
  const { fileBytes: _ignored, ...stats } = stores.stats();
  return { sessions, perClient, matches, count: await stores.retained.count(), stats };
}

const longClient = `long-${'x'.repeat(400)}-é`;
const longTopic = `deep/${'level/'.repeat(300)}end`;

const full: Message = {
  topic: 'dev/42/state',
  payload: Buffer.from([0, 1, 2, 0xfe, 0xff]),
  qos: 2,
  retain: true,
  properties: {
    payloadFormatIndicator: true,
    messageExpiryInterval: 3600,
    contentType: 'application/json',
    responseTopic: 'dev/42/reply',
    correlationData: Buffer.from([9, 0, 9]),
    userProperties: { a: 'b', multi: ['1', '2', '1'], __proto__x: 'y' },
  },
  from: { clientId: 'dev-42', username: 'alice', protocol: 'mqtt', peer: '10.0.0.1:50000', node: 'n1@host' },
  timestamp: NOW,
  expiresAt: NOW + 3_600_000,
};

const record = (clientId: string): StoredSession => ({
  clientId,
  expiryInterval: 7200,
  disconnectedAt: NOW,
  subscriptions: [
    { filter: 'a/+/c', qos: 1, noLocal: true, subscriptionId: 5 },
    { filter: '$share/g/x/#', qos: 2, retainHandling: 2 },
  ],
  pendingWill: { topic: 'will/t', payload: Buffer.from('bye'), qos: 1, retain: false, delayInterval: 5, dueAt: NOW + 5000 },
});

describe('reopening the store', () => {
  it('keeps retained messages, sessions, deliveries, packet ids and QoS 2 state across close and open', async () => {
    const path = tempDir();
    let stores = await openLmdbStores({ path });
    const ids = ['c1', 'ünïcode-😀', longClient, 'orphan'];

    await stores.retained.put(full);
    await stores.retained.put(message('a/b', { retain: true }));
    await stores.retained.put(message(longTopic, { retain: true, payload: Buffer.alloc(3000, 7) }));
    await stores.retained.put(message('gone', { retain: true }));
    await stores.retained.delete('gone');

    for (const id of ids.slice(0, 3)) await stores.sessions.put(record(id));
    const seqs: number[] = [];
    for (const id of ids) {
      for (let i = 0; i < 5; i++) seqs.push(await stores.sessions.enqueue(id, delivery(`${id}/t/${i}`, { subscriptionIds: [i + 1] })));
    }
    const [s0, s1, s2] = seqs;
    await stores.sessions.markInflight('c1', s0!, 10);
    await stores.sessions.markInflight('c1', s1!, 11);
    await stores.sessions.markReleased('c1', 11);
    await stores.sessions.markInflight('c1', s2!, 12);
    expect(await stores.sessions.complete('c1', 12)).toBe(true);
    await stores.sessions.enqueue(longClient, delivery('inflight/at/enqueue', { qos: 2, packetId: 77, released: true }));
    await stores.sessions.addAwaitingRel('c1', 3, NOW);
    await stores.sessions.addAwaitingRel(longClient, 65535, NOW + 1);
    await stores.sessions.addAwaitingRel('orphan', 9, NOW + 2);
    // The newest deliveries are removed: their sequence numbers must not come back after reopening.
    const last = await stores.sessions.enqueue('c1', delivery('c1/last'));
    expect(await stores.sessions.discard('c1', last)).toBe(true);

    const filters = ['#', '+/+/state', 'deep/#', 'a/b'];
    const before = await snapshot(stores, ids, filters);
    expect(before.count).toBe(3);
    expect(before.sessions).toHaveLength(3);
    await stores.close();
    expect(existsSync(join(path, 'junction.lock'))).toBe(false);

    stores = await openLmdbStores({ path });
    const after = await snapshot(stores, ids, filters);
    expect(after).toEqual(before);
    expect(await stores.retained.get(longTopic)).toEqual(message(longTopic, { retain: true, payload: Buffer.alloc(3000, 7) }));
    expect(await stores.retained.get('dev/42/state')).toEqual(full);

    const c1 = after.perClient[0]!.deliveries;
    expect(c1.map((d) => [d.packetId, d.released])).toEqual([[10, undefined], [11, true], [undefined, undefined], [undefined, undefined]]);
    expect(await stores.sessions.complete('c1', 11)).toBe(true);
    const next = await stores.sessions.enqueue('c1', delivery('c1/next'));
    expect(next).toBeGreaterThan(last);
    expect(await stores.sessions.delete(longClient)).toBe(true);
    await stores.close();

    stores = await openLmdbStores({ path });
    expect(await stores.sessions.get(longClient)).toBeUndefined();
    expect(await stores.sessions.deliveries(longClient)).toEqual([]);
    expect((await stores.sessions.deliveries('c1')).map((d) => d.seq).at(-1)).toBe(next);
    await stores.close();
  });

  it('the size accounting after reopening equals the running total', async () => {
    const path = tempDir();
    let stores = await openLmdbStores({ path });
    for (let i = 0; i < 50; i++) await stores.retained.put(message(`t/${i}`, { payload: Buffer.alloc(i * 10) }));
    for (let i = 0; i < 20; i++) await stores.retained.put(message(`t/${i}`, { payload: Buffer.alloc(5) }));
    for (let i = 0; i < 10; i++) await stores.retained.delete(`t/${i * 3}`);
    await stores.sessions.put(record('c1'));
    await stores.sessions.put({ ...record('c1'), subscriptions: [] });
    await stores.sessions.put(record(longClient));
    for (let i = 0; i < 30; i++) await stores.sessions.enqueue(i % 2 ? 'c1' : longClient, delivery(`d/${i}`, { message: message(`d/${i}`, { payload: Buffer.alloc(i * 7) }) }));
    const c1 = await stores.sessions.deliveries('c1');
    await stores.sessions.markInflight('c1', c1[0]!.seq, 1);
    await stores.sessions.markInflight('c1', c1[1]!.seq, 1); // takes the packet id over
    await stores.sessions.markInflight('c1', c1[1]!.seq, 2);
    await stores.sessions.markInflight('c1', c1[2]!.seq, 3);
    await stores.sessions.complete('c1', 3);
    await stores.sessions.discard('c1', c1[1]!.seq);
    await stores.sessions.addAwaitingRel('c1', 4, NOW);
    await stores.sessions.addAwaitingRel('c1', 4, NOW + 1);
    await stores.sessions.addAwaitingRel('x', 5, NOW);
    await stores.sessions.removeAwaitingRel('x', 5);
    await stores.sessions.delete(longClient);
    const used = stores.stats().usedBytes;
    expect(used).toBeGreaterThan(0);
    await stores.close();

    stores = await openLmdbStores({ path });
    expect(stores.stats().usedBytes).toBe(used);
    await stores.sessions.delete('c1');
    await stores.sessions.delete('x');
    for (let i = 0; i < 50; i++) await stores.retained.delete(`t/${i}`);
    // Nothing is left (the sequence-number reservation in the meta table is not counted).
    expect(stores.stats().usedBytes).toBe(0);
    await stores.close();
  });

  it('writes are visible before they are durable, and apply in call order', async () => {
    const stores = await openLmdbStores({ path: tempDir() });
    const put = stores.retained.put(message('r', { payload: Buffer.from('v1') }));
    expect((await stores.retained.get('r'))?.payload.toString()).toBe('v1');
    await put;

    // A burst of writes issued without waiting: the last promise covers all of them.
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 1000; i++) pending.push(stores.sessions.enqueue(`c${i % 10}`, delivery(`b/${i}`)));
    const seqs = (await Promise.all(pending)) as number[];
    expect(new Set(seqs).size).toBe(1000);
    const d0 = await stores.sessions.deliveries('c0');
    expect(d0.map((d) => d.message.topic)).toEqual(Array.from({ length: 100 }, (_, i) => `b/${i * 10}`));

    // append hands the sequence number back at once: the next writes need not wait.
    const { seq, durable } = stores.sessions.append('p', delivery('p/1'));
    const ops = [durable, stores.sessions.markInflight('p', seq, 1), stores.sessions.markReleased('p', 1)];
    expect((await stores.sessions.deliveries('p')).map((d) => [d.seq, d.packetId, d.released])).toEqual([[seq, 1, true]]);
    ops.push(stores.sessions.complete('p', 1).then((ok) => expect(ok).toBe(true)));
    expect(await stores.sessions.deliveries('p')).toEqual([]);
    await Promise.all(ops);
    expect(() => stores.sessions.append('p', delivery('p/2', { packetId: 70_000 }))).toThrow(RangeError);
    expect(await stores.sessions.deliveries('p')).toEqual([]);
    await stores.flushed();
    await stores.close();
  });

  it('a delivery removed before its record reached LMDB leaves nothing; one removed after a queued rewrite is removed', async () => {
    const dir = tempDir();
    let stores = await openLmdbStores({ path: dir });
    // Appended and acknowledged in one turn: the put is cancelled, nothing reaches the disk.
    const gone = stores.sessions.append('cx', delivery('cx/gone'));
    stores.sessions.markInflightNow('cx', gone.seq, 1);
    const removed = stores.sessions.completeNow('cx', 1);
    // On disk first, then rewritten (queued) and removed in one turn: the removal is written.
    const kept = stores.sessions.append('cx', delivery('cx/kept'));
    const later = stores.sessions.append('cx', delivery('cx/later'));
    await Promise.all([gone.durable, removed, kept.durable, later.durable]);
    stores.sessions.markInflightNow('cx', later.seq, 2);
    const rewrite = stores.sessions.markReleased('cx', 2); // queued: `later` with its packet id
    const removal = stores.sessions.completeNow('cx', 2); // in the same turn: the rewrite becomes a removal
    await Promise.all([rewrite, removal]);
    await stores.flushed();
    await stores.close();

    stores = await openLmdbStores({ path: dir });
    expect((await stores.sessions.deliveries('cx')).map((d) => [d.message.topic, d.seq])).toEqual([['cx/kept', kept.seq]]);
    expect(stores.stats().deliveries).toBe(1);
    await stores.close();
  });

  it('under load, transactions are commitInterval apart; an idle store writes at once', async () => {
    const stores = await openLmdbStores({ path: tempDir(), commitInterval: 1000 });
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      // Idle: each write goes at once (no timer to wait for), one after the other.
      await stores.retained.put(message('idle/1'));
      await stores.retained.put(message('idle/2'));
      // A write arriving while a transaction is in progress waits for the interval.
      const first = stores.retained.put(message('busy/1'));
      await new Promise((r) => setImmediate(r));
      let secondDone = false;
      const second = stores.retained.put(message('busy/2')).then(() => (secondDone = true));
      await first;
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(secondDone).toBe(false);
      vi.advanceTimersByTime(1000);
      await second;
      expect(secondDone).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    await stores.close();
  });

  it('a store open in this process or in another live process is locked; a dead owner is taken over', async () => {
    const path = tempDir();
    const stores = await openLmdbStores({ path });
    await expect(openLmdbStores({ path })).rejects.toMatchObject({ name: 'LmdbStoreError', reason: 'locked' });
    await stores.close();

    const { writeFileSync } = await import('node:fs');
    // The parent of this test process is alive and is not a Junction store.
    writeFileSync(join(path, 'junction.lock'), `${process.ppid}\n`);
    const err = await openLmdbStores({ path }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LmdbStoreError);
    expect((err as LmdbStoreError).reason).toBe('locked');
    expect((err as Error).message).toContain(String(process.ppid));

    // A pid that cannot exist (above the kernel's pid_max).
    writeFileSync(join(path, 'junction.lock'), '99999999\n');
    const again = await openLmdbStores({ path });
    await again.close();
  });

  it('operations on a closed store reject with a closed error; close is idempotent', async () => {
    const stores = await openLmdbStores({ path: tempDir() });
    await stores.close();
    await stores.close();
    await expect(stores.retained.get('a')).rejects.toMatchObject({ reason: 'closed' });
    await expect(stores.sessions.enqueue('c', delivery('t'))).rejects.toMatchObject({ reason: 'closed' });
  });
});
