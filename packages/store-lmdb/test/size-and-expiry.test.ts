import { JunctionError, QuotaExceededError, type StoredSession } from '@junction/broker-core';
import { afterAll, describe, expect, it } from 'vitest';
import { openLmdbStores } from '../src/index.js';
import { delivery, message, NOW, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const KiB = 1024;

function kib(topic: string, n = 1) {
  return delivery(topic, { message: message(topic, { payload: Buffer.alloc(n * KiB, 1) }) });
}

describe('size bound (maxBytes)', () => {
  it('refuses new deliveries and retained messages with quota_exceeded once full; removals make room', async () => {
    const maxBytes = 64 * KiB;
    const path = tempDir();
    const stores = await openLmdbStores({ path, maxBytes });
    const { sessions, retained } = stores;
    await sessions.put({ clientId: 'c1', expiryInterval: 3600, subscriptions: [{ filter: '#', qos: 1 }] });

    const seqs: number[] = [];
    let refused: unknown;
    for (let i = 0; i < 100 && refused === undefined; i++) {
      await sessions.enqueue('c1', kib(`t/${i}`)).then(
        (seq) => seqs.push(seq),
        (err: unknown) => (refused = err),
      );
    }
    expect(refused).toBeInstanceOf(QuotaExceededError);
    expect((refused as JunctionError).code).toBe('quota_exceeded');
    expect((refused as Error).message).toContain('max_bytes');
    expect(seqs.length).toBeGreaterThan(50);
    expect(stores.stats().usedBytes).toBeLessThanOrEqual(maxBytes);
    // The refused delivery was not stored.
    expect((await sessions.deliveries('c1')).length).toBe(seqs.length);
    expect(stores.stats().deliveries).toBe(seqs.length);

    // Retained: a new topic is refused, a replacement no larger than the old message is accepted.
    await expect(retained.put(message('r/new', { retain: true, payload: Buffer.alloc(KiB) }))).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(await retained.get('r/new')).toBeUndefined();

    // Session records, packet ids and QoS 2 state are always accepted.
    await sessions.put({ clientId: 'c2', expiryInterval: 60, subscriptions: [] });
    await sessions.addAwaitingRel('c1', 1, NOW);
    await sessions.markInflight('c1', seqs[0]!, 1);

    // Completing and discarding frees room for new deliveries.
    await sessions.complete('c1', 1);
    await sessions.discard('c1', seqs[1]!);
    await sessions.discard('c1', seqs[2]!);
    await sessions.enqueue('c1', kib('t/after'));
    await retained.put(message('r/small', { retain: true, payload: Buffer.alloc(10) }));
    await retained.put(message('r/small', { retain: true, payload: Buffer.alloc(5) }));
    expect(stores.stats().usedBytes).toBeLessThanOrEqual(maxBytes + 200);
    await stores.close();

    // The bound holds across restarts: the accounting is rebuilt when the store opens.
    const again = await openLmdbStores({ path, maxBytes });
    await expect(again.sessions.enqueue('c1', kib('t/more', 8))).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(await again.sessions.delete('c1')).toBe(true);
    await again.sessions.enqueue('c1', kib('t/more', 8));
    await again.close();
  });

  it('the data file stays bounded under churn', async () => {
    const maxBytes = 256 * KiB;
    const stores = await openLmdbStores({ path: tempDir(), maxBytes, durability: 'commit' });
    for (let round = 0; round < 20; round++) {
      const pending: Promise<number>[] = [];
      for (let i = 0; i < 300; i++) pending.push(stores.sessions.enqueue(`c${i % 4}`, kib(`t/${i}`)));
      const results = await Promise.allSettled(pending);
      expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      const discards: Promise<boolean>[] = [];
      for (const c of ['c0', 'c1', 'c2', 'c3']) for (const d of await stores.sessions.deliveries(c)) discards.push(stores.sessions.discard(c, d.seq));
      expect(await Promise.all(discards)).not.toContain(false);
      expect(stores.stats().usedBytes).toBe(0);
    }
    await stores.flushed();
    // LMDB reuses freed pages: the file stays within a small multiple of the bound.
    expect(stores.stats().fileBytes).toBeLessThan(8 * maxBytes);
    await stores.close();
  });
});

describe('purgeExpired', () => {
  const session = (clientId: string, over: Partial<StoredSession> = {}): StoredSession => ({
    clientId,
    expiryInterval: 10,
    disconnectedAt: NOW,
    subscriptions: [{ filter: 'a/#', qos: 1 }],
    ...over,
  });

  it('removes expired sessions with their state, and expired queued deliveries; frees their bytes', async () => {
    const path = tempDir();
    const stores = await openLmdbStores({ path });
    const { sessions } = stores;
    await sessions.put(session('expiring'));
    await sessions.enqueue('expiring', delivery('e/1'));
    await sessions.addAwaitingRel('expiring', 1, NOW);
    await sessions.put(session('connected', { disconnectedAt: undefined }));
    await sessions.put(session('forever', { expiryInterval: 0xffffffff }));
    await sessions.put(
      session('with-will', { pendingWill: { topic: 'w', payload: Buffer.from('x'), qos: 0, retain: false, delayInterval: 60, dueAt: NOW + 60_000 } }),
    );
    await sessions.put(session('zero', { expiryInterval: 0 }));
    const baseline = stores.stats().usedBytes;

    const queuedExpired = await sessions.enqueue('connected', delivery('m/1', { message: message('m/1', { expiresAt: NOW + 500 }) }));
    const inflightExpired = await sessions.enqueue('connected', delivery('m/2', { message: message('m/2', { expiresAt: NOW + 500 }) }));
    await sessions.markInflight('connected', inflightExpired, 7);
    const keeps = await sessions.enqueue('connected', delivery('m/3', { message: message('m/3', { expiresAt: NOW + 60_000 }) }));
    const noExpiry = await sessions.enqueue('connected', delivery('m/4'));

    expect(await sessions.purgeExpired(NOW)).toEqual({ sessions: 1, deliveries: 0 }); // 'zero'
    expect(await sessions.purgeExpired(NOW + 9_999)).toEqual({ sessions: 0, deliveries: 1 });
    expect((await sessions.deliveries('connected')).map((d) => d.seq)).toEqual([inflightExpired, keeps, noExpiry]);
    expect(queuedExpired).toBeLessThan(inflightExpired);
    expect(await sessions.purgeExpired(NOW + 10_000)).toEqual({ sessions: 1, deliveries: 0 });
    expect(await sessions.get('expiring')).toBeUndefined();
    expect(await sessions.deliveries('expiring')).toEqual([]);
    expect((await sessions.awaitingRel('expiring')).size).toBe(0);
    expect(await sessions.purgeExpired(NOW + 10_000_000)).toEqual({ sessions: 0, deliveries: 1 });
    for (const id of ['connected', 'forever', 'with-will']) expect(await sessions.get(id)).toBeDefined();

    await sessions.complete('connected', 7);
    await sessions.discard('connected', noExpiry);
    expect(stores.stats().usedBytes).toBeLessThan(baseline);
    await stores.close();

    const again = await openLmdbStores({ path });
    expect((await again.sessions.deliveries('connected')).length).toBe(0);
    expect(await again.sessions.get('expiring')).toBeUndefined();
    expect(again.stats().sessions).toBe(3);
    await again.close();
  });

  it('retained: purged messages stay gone after reopening', async () => {
    const path = tempDir();
    const stores = await openLmdbStores({ path });
    await stores.retained.put(message('e/1', { retain: true, expiresAt: NOW + 100 }));
    await stores.retained.put(message('k/1', { retain: true }));
    expect(await stores.retained.purgeExpired(NOW + 100)).toBe(1);
    await stores.close();
    const again = await openLmdbStores({ path });
    expect(await again.retained.count()).toBe(1);
    // Expiry is known after reopening without reading the messages.
    await again.retained.put(message('e/2', { retain: true, expiresAt: NOW + 100 }));
    await again.close();
    const third = await openLmdbStores({ path });
    expect(await third.retained.purgeExpired(NOW + 100)).toBe(1);
    expect((await third.retained.match('#', NOW)).map((m) => m.topic)).toEqual(['k/1']);
    await third.close();
  });
});
