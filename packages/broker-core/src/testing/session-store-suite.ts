/**
 * Conformance suite for {@link SessionStore} implementations. Every store (memory, durable,
 * cluster) registers it from its own test file:
 *
 * ```ts
 * sessionStoreSuite('MemorySessionStore', () => new MemorySessionStore());
 * ```
 *
 * Each test creates a fresh store through `create` and closes it at the end. The suite checks
 * only what the interface promises: sequence numbers increase per session, but their starting
 * value and whether they restart after `delete` are left to the implementation.
 */
import { describe, expect, it } from 'vitest';
import type { Subscription } from '../contract.js';
import type { Message, QoS } from '../message.js';
import type { SessionStore, StoredDelivery, StoredSession } from '../store/session-store.js';

const NOW = 1_700_000_000_000;
const NEVER = 0xffffffff;

/** A test message; `over` replaces any field. */
function message(topic: string, over: Partial<Message> = {}): Message {
  return {
    topic,
    payload: Buffer.from(`payload of ${topic}`),
    qos: 1 as QoS,
    retain: false,
    from: { clientId: 'publisher', protocol: 'mqtt', node: 'junction@127.0.0.1' },
    timestamp: NOW,
    ...over,
  };
}

/** A queued delivery of a test message; `over` replaces any field. */
function delivery(topic: string, over: Partial<Omit<StoredDelivery, 'seq'>> = {}): Omit<StoredDelivery, 'seq'> {
  return { message: message(topic), qos: 1, retain: false, ...over };
}

/** A disconnected session record; `over` replaces any field. */
function session(clientId: string, over: Partial<StoredSession> = {}): StoredSession {
  return {
    clientId,
    expiryInterval: 3600,
    disconnectedAt: NOW,
    subscriptions: [{ filter: `clients/${clientId}/#`, qos: 1 }],
    ...over,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const topics = (ds: readonly StoredDelivery[]): string[] => ds.map((d) => d.message.topic);
const seqs = (ds: readonly StoredDelivery[]): number[] => ds.map((d) => d.seq);

function expectIncreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
}

export function sessionStoreSuite(name: string, create: () => Promise<SessionStore> | SessionStore): void {
  /** Runs `body` against a fresh store and always closes it. */
  async function withStore(body: (store: SessionStore) => Promise<void>): Promise<void> {
    const store = await create();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  }

  /** The delivery with sequence number `seq`, failing the test if there is none. */
  async function deliveryOf(store: SessionStore, clientId: string, seq: number): Promise<StoredDelivery> {
    const found = (await store.deliveries(clientId)).find((d) => d.seq === seq);
    expect(found, `delivery ${seq} of ${clientId}`).toBeDefined();
    return found!;
  }

  describe(name, () => {
    it('starts empty', () =>
      withStore(async (store) => {
        expect(await store.get('c1')).toBeUndefined();
        expect(await collect(store.list())).toEqual([]);
        expect(await store.deliveries('c1')).toEqual([]);
        const rel = await store.awaitingRel('c1');
        expect(rel).toBeInstanceOf(Map);
        expect(rel.size).toBe(0);
      }));

    it('put then get round-trips every field of the record', () =>
      withStore(async (store) => {
        const subscriptions: Subscription[] = [
          { filter: 'a/b', qos: 0 },
          { filter: 'a/+/c', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 1, subscriptionId: 7 },
          { filter: 'x/#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 2, subscriptionId: 268_435_455 },
          { filter: '$share/group1/sensors/+/temp', qos: 1, retainHandling: 0 },
          { filter: '$queue/jobs/#', qos: 2, subscriptionId: 1 },
          { filter: 'température/°C/😀', qos: 0 },
        ];
        const willPayload = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]);
        const record: StoredSession = {
          clientId: 'dev-42',
          expiryInterval: NEVER,
          disconnectedAt: NOW,
          subscriptions,
          pendingWill: {
            topic: 'dev/42/status',
            payload: willPayload,
            qos: 2,
            retain: true,
            delayInterval: 30,
            properties: {
              payloadFormatIndicator: true,
              messageExpiryInterval: 600,
              contentType: 'text/plain',
              responseTopic: 'dev/42/reply',
              correlationData: Buffer.from([9, 8, 7, 0]),
              userProperties: { reason: 'offline', tags: ['a', 'b', 'a'] },
            },
            dueAt: NOW + 30_000,
          },
        };
        await store.put(record);

        const got = await store.get('dev-42');
        expect(got).toEqual(record);
        expect(got!.expiryInterval).toBe(NEVER);
        expect(got!.subscriptions).toEqual(subscriptions);
        const will = got!.pendingWill!;
        expect(Buffer.isBuffer(will.payload)).toBe(true);
        expect(will.payload.equals(willPayload)).toBe(true);
        expect(Buffer.isBuffer(will.properties?.correlationData)).toBe(true);
        expect(will.properties!.correlationData!.equals(Buffer.from([9, 8, 7, 0]))).toBe(true);
        expect(will.properties!.userProperties).toEqual({ reason: 'offline', tags: ['a', 'b', 'a'] });
        expect(will.dueAt).toBe(NOW + 30_000);
        expect(await store.get('dev-43')).toBeUndefined();
      }));

    it('put then get round-trips a minimal record (connected, no subscriptions, no will)', () =>
      withStore(async (store) => {
        const record: StoredSession = { clientId: 'bare', expiryInterval: 0, subscriptions: [] };
        await store.put(record);
        const got = await store.get('bare');
        expect(got).toEqual(record);
        expect(got!.disconnectedAt).toBeUndefined();
        expect(got!.pendingWill).toBeUndefined();
        expect(got!.subscriptions).toEqual([]);
      }));

    it('put replaces the record and keeps its deliveries and awaiting-rel state', () =>
      withStore(async (store) => {
        await store.put(session('c1', { subscriptions: [{ filter: 'old', qos: 0 }] }));
        const s1 = await store.enqueue('c1', delivery('t/1'));
        const s2 = await store.enqueue('c1', delivery('t/2', { qos: 2 }));
        await store.markInflight('c1', s1, 11);
        await store.addAwaitingRel('c1', 5, NOW);

        // Connected again: no disconnectedAt.
        const replacement: StoredSession = {
          clientId: 'c1',
          expiryInterval: NEVER,
          subscriptions: [{ filter: 'new/+', qos: 2, noLocal: true }],
        };
        await store.put(replacement);

        const got = await store.get('c1');
        expect(got).toEqual(replacement);
        expect(got!.disconnectedAt).toBeUndefined();
        expect(got!.subscriptions).toEqual([{ filter: 'new/+', qos: 2, noLocal: true }]);
        const ds = await store.deliveries('c1');
        expect(seqs(ds)).toEqual([s1, s2]);
        expect(ds[0]!.packetId).toBe(11);
        expect(ds[1]!.packetId).toBeUndefined();
        expect(await store.awaitingRel('c1')).toEqual(new Map([[5, NOW]]));
        expect(await collect(store.list())).toHaveLength(1);
      }));

    it('delete resolves true when the session existed and false otherwise', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        expect(await store.delete('c1')).toBe(true);
        expect(await store.get('c1')).toBeUndefined();
        expect(await store.delete('c1')).toBe(false);
        expect(await store.delete('never-stored')).toBe(false);
        expect(await collect(store.list())).toEqual([]);
      }));

    it('delete removes the deliveries and the awaiting-rel state', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const s1 = await store.enqueue('c1', delivery('t/1', { qos: 2 }));
        await store.enqueue('c1', delivery('t/2'));
        await store.markInflight('c1', s1, 1);
        await store.markReleased('c1', 1);
        await store.addAwaitingRel('c1', 1, NOW);
        await store.addAwaitingRel('c1', 2, NOW + 1);

        expect(await store.delete('c1')).toBe(true);
        expect(await store.deliveries('c1')).toEqual([]);
        expect((await store.awaitingRel('c1')).size).toBe(0);
        expect(await store.complete('c1', 1)).toBe(false);
        expect(await store.removeAwaitingRel('c1', 2)).toBe(false);

        // A session created again under the same client id starts with nothing.
        await store.put(session('c1'));
        expect(await store.deliveries('c1')).toEqual([]);
        expect((await store.awaitingRel('c1')).size).toBe(0);
        const again = await store.enqueue('c1', delivery('t/3'));
        expect(seqs(await store.deliveries('c1'))).toEqual([again]);
      }));

    it('delete clears deliveries and awaiting-rel state stored without a record', () =>
      withStore(async (store) => {
        await store.enqueue('orphan', delivery('t/1'));
        await store.addAwaitingRel('orphan', 3, NOW);
        await store.delete('orphan');
        expect(await store.deliveries('orphan')).toEqual([]);
        expect((await store.awaitingRel('orphan')).size).toBe(0);
      }));

    it('list returns every stored session', () =>
      withStore(async (store) => {
        const ids = ['a', 'b', 'c', 'client with spaces', 'ünïcode-😀'];
        for (const [i, id] of ids.entries()) await store.put(session(id, { expiryInterval: i }));
        // Replacing one must not duplicate it.
        await store.put(session('b', { expiryInterval: 99 }));

        const listed = await collect(store.list());
        expect(listed.map((s) => s.clientId).sort()).toEqual([...ids].sort());
        const byId = new Map(listed.map((s) => [s.clientId, s]));
        expect(byId.get('b')!.expiryInterval).toBe(99);
        expect(byId.get('c')).toEqual(session('c', { expiryInterval: 2 }));

        await store.delete('a');
        expect((await collect(store.list())).map((s) => s.clientId).sort()).toEqual(ids.slice(1).sort());
      }));

    it('enqueue assigns increasing sequence numbers that are never reused', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const first = [
          await store.enqueue('c1', delivery('t/1')),
          await store.enqueue('c1', delivery('t/2')),
          await store.enqueue('c1', delivery('t/3')),
        ];
        expectIncreasing(first);
        for (const seq of first) expect(Number.isSafeInteger(seq)).toBe(true);

        // Removing the newest deliveries must not hand their numbers out again.
        await store.markInflight('c1', first[2]!, 1);
        expect(await store.complete('c1', 1)).toBe(true);
        expect(await store.discard('c1', first[1]!)).toBe(true);
        const next = await store.enqueue('c1', delivery('t/4'));
        expect(next).toBeGreaterThan(first[2]!);
        expect(seqs(await store.deliveries('c1'))).toEqual([first[0], next]);
      }));

    it('deliveries come back in sequence order with every message field intact', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const binary = Buffer.alloc(256);
        for (let i = 0; i < 256; i++) binary[i] = i;
        const full: Message = {
          topic: 'dev/42/state',
          payload: binary,
          qos: 2,
          retain: true,
          properties: {
            payloadFormatIndicator: false,
            messageExpiryInterval: 3600,
            contentType: 'application/octet-stream',
            responseTopic: 'dev/42/reply',
            correlationData: Buffer.from([0, 1, 2, 0xfe, 0xff]),
            userProperties: { single: 'v', repeated: ['x', 'y', 'x'], unicode: 'héllo ✓' },
          },
          from: { clientId: 'dev-42', username: 'alice', protocol: 'mqtt', peer: '10.0.0.1:50000', node: 'n1@host' },
          timestamp: NOW,
          expiresAt: NOW + 3_600_000,
        };
        const minimal = message('m/0', { payload: Buffer.alloc(0), qos: 0 });
        const inputs: Omit<StoredDelivery, 'seq'>[] = [
          { message: full, qos: 1, retain: true, subscriptionIds: [3, 268_435_455] },
          { message: minimal, qos: 0, retain: false },
          { message: message('m/1', { from: { clientId: '$sys', protocol: '$sys', node: 'n2@host' } }), qos: 2, retain: false, subscriptionIds: [] },
        ];
        const assigned: number[] = [];
        for (const d of inputs) assigned.push(await store.enqueue('c1', d));

        const ds = await store.deliveries('c1');
        expect(seqs(ds)).toEqual(assigned);
        expect(topics(ds)).toEqual(['dev/42/state', 'm/0', 'm/1']);
        for (const [i, d] of ds.entries()) {
          expect(d).toEqual({ ...inputs[i], seq: assigned[i] });
          expect(d.packetId).toBeUndefined();
          expect(d.released).toBeFalsy();
        }

        const got = ds[0]!;
        expect(got.qos).toBe(1);
        expect(got.retain).toBe(true);
        expect(got.subscriptionIds).toEqual([3, 268_435_455]);
        expect(Buffer.isBuffer(got.message.payload)).toBe(true);
        expect(got.message.payload.equals(binary)).toBe(true);
        expect(got.message.qos).toBe(2);
        expect(got.message.retain).toBe(true);
        expect(Buffer.isBuffer(got.message.properties?.correlationData)).toBe(true);
        expect(got.message.properties!.correlationData!.equals(Buffer.from([0, 1, 2, 0xfe, 0xff]))).toBe(true);
        expect(got.message.properties!.userProperties).toEqual({ single: 'v', repeated: ['x', 'y', 'x'], unicode: 'héllo ✓' });
        expect(got.message.expiresAt).toBe(NOW + 3_600_000);
        expect(got.message.timestamp).toBe(NOW);
        expect(got.message.from).toEqual(full.from);

        const empty = ds[1]!;
        expect(Buffer.isBuffer(empty.message.payload)).toBe(true);
        expect(empty.message.payload.length).toBe(0);
        expect(empty.message.properties).toBeUndefined();
        expect(empty.message.expiresAt).toBeUndefined();
        expect(empty.subscriptionIds).toBeUndefined();
        expect(ds[2]!.message.from).toEqual({ clientId: '$sys', protocol: '$sys', node: 'n2@host' });
      }));

    it('QoS 1 lifecycle: enqueue, markInflight, complete', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const seq = await store.enqueue('c1', delivery('q1', { qos: 1 }));
        const later = await store.enqueue('c1', delivery('q1/later', { qos: 1 }));

        await store.markInflight('c1', seq, 42);
        const inflight = await deliveryOf(store, 'c1', seq);
        expect(inflight.packetId).toBe(42);
        expect(inflight.released).toBeFalsy();
        expect(inflight.message.topic).toBe('q1');
        expect((await deliveryOf(store, 'c1', later)).packetId).toBeUndefined();

        expect(await store.complete('c1', 42)).toBe(true);
        expect(seqs(await store.deliveries('c1'))).toEqual([later]);
        expect(await store.complete('c1', 42)).toBe(false);
        expect(seqs(await store.deliveries('c1'))).toEqual([later]);
      }));

    it('QoS 2 lifecycle: enqueue, markInflight, markReleased, complete', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const seq = await store.enqueue('c1', delivery('q2', { qos: 2, message: message('q2', { qos: 2 }) }));
        const other = await store.enqueue('c1', delivery('q2/other', { qos: 2 }));

        await store.markInflight('c1', seq, 7);
        await store.markInflight('c1', other, 8);
        let d = await deliveryOf(store, 'c1', seq);
        expect(d.packetId).toBe(7);
        expect(d.released).toBeFalsy();

        await store.markReleased('c1', 7);
        d = await deliveryOf(store, 'c1', seq);
        expect(d.packetId).toBe(7);
        expect(d.released).toBe(true);
        expect(d.qos).toBe(2);
        expect(d.message.topic).toBe('q2');
        // Only the delivery under that packet id is released.
        expect((await deliveryOf(store, 'c1', other)).released).toBeFalsy();

        // Releasing twice changes nothing.
        await store.markReleased('c1', 7);
        expect((await deliveryOf(store, 'c1', seq)).released).toBe(true);

        expect(await store.complete('c1', 7)).toBe(true);
        expect(seqs(await store.deliveries('c1'))).toEqual([other]);
        expect(await store.complete('c1', 7)).toBe(false);
      }));

    it('markInflight of an unknown seq and markReleased of an unknown packet id do nothing', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const seq = await store.enqueue('c1', delivery('t/1'));
        const before = await store.deliveries('c1');

        await store.markInflight('c1', seq + 1000, 5);
        await store.markInflight('nobody', seq, 5);
        await store.markReleased('c1', 5);
        await store.markReleased('nobody', 5);

        expect(await store.deliveries('c1')).toEqual(before);
        expect(await store.deliveries('nobody')).toEqual([]);
        expect(await store.complete('c1', 5)).toBe(false);
        expect(await store.complete('nobody', 5)).toBe(false);
        expect(await store.get('nobody')).toBeUndefined();
      }));

    it('complete removes only the delivery holding that packet id', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const s = [];
        for (let i = 0; i < 5; i++) s.push(await store.enqueue('c1', delivery(`t/${i}`)));
        await store.markInflight('c1', s[0]!, 100);
        await store.markInflight('c1', s[1]!, 101);
        await store.markInflight('c1', s[3]!, 103);

        expect(await store.complete('c1', 101)).toBe(true);
        expect(topics(await store.deliveries('c1'))).toEqual(['t/0', 't/2', 't/3', 't/4']);
        // A packet id never used, and the one of another session, remove nothing.
        expect(await store.complete('c1', 102)).toBe(false);
        expect(await store.complete('c2', 100)).toBe(false);
        expect(await store.complete('c1', 103)).toBe(true);
        expect(await store.complete('c1', 100)).toBe(true);
        expect(topics(await store.deliveries('c1'))).toEqual(['t/2', 't/4']);
      }));

    it('markInflight again under a new packet id replaces the old one', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const seq = await store.enqueue('c1', delivery('t/1'));
        await store.markInflight('c1', seq, 1);
        await store.markInflight('c1', seq, 2);
        expect((await deliveryOf(store, 'c1', seq)).packetId).toBe(2);
        expect(await store.complete('c1', 1)).toBe(false);
        expect(seqs(await store.deliveries('c1'))).toEqual([seq]);
        expect(await store.complete('c1', 2)).toBe(true);
        expect(await store.deliveries('c1')).toEqual([]);
      }));

    it('a packet id can be used again once its delivery completed', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const a = await store.enqueue('c1', delivery('t/a'));
        const b = await store.enqueue('c1', delivery('t/b'));
        await store.markInflight('c1', a, 1);
        expect(await store.complete('c1', 1)).toBe(true);
        await store.markInflight('c1', b, 1);
        expect((await deliveryOf(store, 'c1', b)).packetId).toBe(1);
        expect(await store.complete('c1', 1)).toBe(true);
        expect(await store.deliveries('c1')).toEqual([]);
      }));

    it('enqueue may store a delivery already inflight', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const seq = await store.enqueue('c1', delivery('t/1', { qos: 2, packetId: 9, released: true }));
        const d = await deliveryOf(store, 'c1', seq);
        expect(d.packetId).toBe(9);
        expect(d.released).toBe(true);
        expect(await store.complete('c1', 9)).toBe(true);
        expect(await store.deliveries('c1')).toEqual([]);
      }));

    it('discard removes a delivery by sequence number', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        const s1 = await store.enqueue('c1', delivery('t/1'));
        const s2 = await store.enqueue('c1', delivery('t/2'));
        const s3 = await store.enqueue('c1', delivery('t/3'));

        expect(await store.discard('c1', s2)).toBe(true);
        expect(seqs(await store.deliveries('c1'))).toEqual([s1, s3]);
        expect(await store.discard('c1', s2)).toBe(false);
        expect(await store.discard('c1', s3 + 1000)).toBe(false);
        expect(await store.discard('nobody', s1)).toBe(false);
        expect(await store.discard('c1', s1)).toBe(true);
        expect(await store.discard('c1', s3)).toBe(true);
        expect(await store.deliveries('c1')).toEqual([]);
        // The session record is untouched.
        expect(await store.get('c1')).toEqual(session('c1'));
      }));

    it('awaiting-rel packet ids can be added, listed and removed', () =>
      withStore(async (store) => {
        await store.put(session('c1'));
        await store.addAwaitingRel('c1', 1, NOW);
        await store.addAwaitingRel('c1', 65535, NOW + 10);
        await store.addAwaitingRel('c1', 300, NOW + 5);

        const rel = await store.awaitingRel('c1');
        expect(rel).toBeInstanceOf(Map);
        expect(rel).toEqual(
          new Map([
            [1, NOW],
            [65535, NOW + 10],
            [300, NOW + 5],
          ]),
        );

        expect(await store.removeAwaitingRel('c1', 65535)).toBe(true);
        expect(await store.removeAwaitingRel('c1', 65535)).toBe(false);
        expect(await store.removeAwaitingRel('c1', 2)).toBe(false);
        expect(await store.removeAwaitingRel('nobody', 1)).toBe(false);
        expect(await store.awaitingRel('c1')).toEqual(
          new Map([
            [1, NOW],
            [300, NOW + 5],
          ]),
        );
        // Awaiting-rel state is separate from the outgoing deliveries.
        expect(await store.deliveries('c1')).toEqual([]);
        expect(await store.complete('c1', 1)).toBe(false);
        expect((await store.awaitingRel('c1')).has(1)).toBe(true);
      }));

    it('enqueue and addAwaitingRel work before the session record is written', () =>
      withStore(async (store) => {
        const s1 = await store.enqueue('early', delivery('t/1'));
        const s2 = await store.enqueue('early', delivery('t/2'));
        await store.addAwaitingRel('early', 4, NOW);
        expect(s2).toBeGreaterThan(s1);
        expect(topics(await store.deliveries('early'))).toEqual(['t/1', 't/2']);
        expect(await store.awaitingRel('early')).toEqual(new Map([[4, NOW]]));

        await store.put(session('early'));
        expect(await store.get('early')).toEqual(session('early'));
        expect(seqs(await store.deliveries('early'))).toEqual([s1, s2]);
        expect(await store.awaitingRel('early')).toEqual(new Map([[4, NOW]]));
        const s3 = await store.enqueue('early', delivery('t/3'));
        expect(s3).toBeGreaterThan(s2);
        expect(await store.delete('early')).toBe(true);
        expect(await store.deliveries('early')).toEqual([]);
      }));

    it('keeps two sessions isolated from each other', () =>
      withStore(async (store) => {
        await store.put(session('c1', { expiryInterval: 10 }));
        await store.put(session('c2', { expiryInterval: 20 }));
        const a1 = await store.enqueue('c1', delivery('c1/t1'));
        const b1 = await store.enqueue('c2', delivery('c2/t1'));
        const a2 = await store.enqueue('c1', delivery('c1/t2'));
        const b2 = await store.enqueue('c2', delivery('c2/t2'));
        await store.addAwaitingRel('c1', 1, NOW);
        await store.addAwaitingRel('c2', 1, NOW + 1);

        // The same packet id in both sessions.
        await store.markInflight('c1', a1, 1);
        await store.markInflight('c2', b1, 1);
        await store.markReleased('c1', 1);
        expect((await deliveryOf(store, 'c1', a1)).released).toBe(true);
        expect((await deliveryOf(store, 'c2', b1)).released).toBeFalsy();

        expect(await store.complete('c2', 1)).toBe(true);
        expect(topics(await store.deliveries('c1'))).toEqual(['c1/t1', 'c1/t2']);
        expect(topics(await store.deliveries('c2'))).toEqual(['c2/t2']);

        // Discarding in one session leaves the other's deliveries alone.
        expect(await store.discard('c1', a2)).toBe(true);
        expect(seqs(await store.deliveries('c1'))).toEqual([a1]);
        expect(seqs(await store.deliveries('c2'))).toEqual([b2]);

        expect(await store.removeAwaitingRel('c1', 1)).toBe(true);
        expect((await store.awaitingRel('c1')).size).toBe(0);
        expect(await store.awaitingRel('c2')).toEqual(new Map([[1, NOW + 1]]));

        expect(await store.delete('c1')).toBe(true);
        expect(await store.get('c1')).toBeUndefined();
        expect(await store.get('c2')).toEqual(session('c2', { expiryInterval: 20 }));
        expect(seqs(await store.deliveries('c2'))).toEqual([b2]);
        expect(await store.awaitingRel('c2')).toEqual(new Map([[1, NOW + 1]]));
        expect(await store.deliveries('c1')).toEqual([]);
        expect((await collect(store.list())).map((s) => s.clientId)).toEqual(['c2']);
      }));

    it('keeps 2,000 deliveries in order', () =>
      withStore(async (store) => {
        await store.put(session('bulk'));
        const assigned: number[] = [];
        for (let i = 0; i < 2000; i++) {
          const payload = Buffer.alloc(4);
          payload.writeUInt32BE(i);
          assigned.push(await store.enqueue('bulk', delivery(`bulk/${i}`, { message: message(`bulk/${i}`, { payload }) })));
        }
        expectIncreasing(assigned);

        let ds = await store.deliveries('bulk');
        expect(ds).toHaveLength(2000);
        expect(seqs(ds)).toEqual(assigned);
        for (const [i, d] of ds.entries()) {
          expect(d.message.topic).toBe(`bulk/${i}`);
          expect(d.message.payload.readUInt32BE(0)).toBe(i);
        }

        // Take the first 100 inflight and complete every other one; drop every tenth queued one.
        for (let i = 0; i < 100; i++) await store.markInflight('bulk', assigned[i]!, i + 1);
        for (let i = 0; i < 100; i += 2) expect(await store.complete('bulk', i + 1)).toBe(true);
        for (let i = 100; i < 2000; i += 10) expect(await store.discard('bulk', assigned[i]!)).toBe(true);
        const expected = assigned.filter((_, i) => (i < 100 ? i % 2 === 1 : i % 10 !== 0));

        ds = await store.deliveries('bulk');
        expect(seqs(ds)).toEqual(expected);
        for (const d of ds.slice(0, 50)) expect(d.packetId).toBeDefined();
        for (const d of ds.slice(50)) expect(d.packetId).toBeUndefined();

        const tail = await store.enqueue('bulk', delivery('bulk/tail'));
        expect(tail).toBeGreaterThan(assigned[1999]!);
        expect((await store.deliveries('bulk')).at(-1)!.message.topic).toBe('bulk/tail');
      }));

    it('close resolves, also when called twice', async () => {
      const store = await create();
      await store.put(session('c1'));
      await store.enqueue('c1', delivery('t/1'));
      await store.addAwaitingRel('c1', 1, NOW);
      await expect(store.close()).resolves.toBeUndefined();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
