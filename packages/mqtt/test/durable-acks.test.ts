/**
 * With a durable session store, QoS 1/2 PUBLISHes are acknowledged only once durable, yet the
 * connection keeps reading meanwhile (later messages join the same commit), and PUBACK/PUBREC
 * still go out in the order the PUBLISH packets came [MQTT-4.6.0-2, -3].
 */
import { MemorySessionStore, type StoredDelivery } from '@junction/broker-core';
import { tcpFixture, type BrokerHarness } from '@junction/mqtt/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { AckOrder } from '../src/engine/ack-order.js';
import { RawClient } from './packets/raw-client.js';

/** A store whose appends become durable only when the test opens the gate. */
class GatedStore extends MemorySessionStore {
  appends = 0;
  private open!: () => void;
  gate = this.newGate();

  private newGate(): Promise<void> {
    return new Promise<void>((r) => (this.open = r));
  }

  release(): void {
    this.open();
    this.gate = this.newGate();
  }

  override append(clientId: string, d: Omit<StoredDelivery, 'seq'>): { seq: number; durable: Promise<void> } {
    this.appends++;
    return { seq: super.append(clientId, d).seq, durable: this.gate };
  }
}

let h: BrokerHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const flush = () => new Promise((r) => setTimeout(r, 50));

describe('acknowledgements wait for the durable store, in order', () => {
  it('PUBACKs wait for durability, the connection reads on, and acks keep PUBLISH order', async () => {
    const store = new GatedStore();
    h = await tcpFixture.start({ broker: { sessionStore: store, config: { allow_anonymous: true } } });
    const sub = await RawClient.connected(h.port, 'persistent-sub', { version: 4, connect: { clean: false } });
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'durable/#', qos: 1 }] });
    await sub.next('suback');
    // Offline: deliveries to it are stored (appended) rather than sent.
    sub.send({ cmd: 'disconnect' });
    await sub.closed();

    const pub = await RawClient.connected(h.port, 'publisher', { version: 4 });
    const before = store.appends;
    pub.send({ cmd: 'publish', topic: 'durable/1', payload: Buffer.from('a'), qos: 1, messageId: 10, retain: false, dup: false });
    pub.send({ cmd: 'publish', topic: 'nobody/listens', payload: Buffer.from('b'), qos: 1, messageId: 11, retain: false, dup: false });
    pub.send({ cmd: 'publish', topic: 'durable/2', payload: Buffer.from('c'), qos: 1, messageId: 12, retain: false, dup: false });
    await flush();
    // Both stored messages were routed without waiting for the first to be durable...
    expect(store.appends - before).toBe(2);
    // ...but nothing is acknowledged yet: the second PUBACK may not overtake the first.
    expect(pub.pending.filter((p) => p.cmd === 'puback')).toEqual([]);
    store.release();
    await flush();
    expect(pub.pending.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId?: number }).messageId)).toEqual([10, 11, 12]);
    pub.destroy();
  });
});

describe('AckOrder', () => {
  it('sends at once when nothing waits, else in arrival order as each becomes durable', async () => {
    const sent: number[] = [];
    const order = new AckOrder();
    order.add(() => sent.push(1));
    expect(sent).toEqual([1]);
    let openA!: () => void;
    let openC!: () => void;
    order.add(() => sent.push(2), new Promise<void>((r) => (openA = r)));
    order.add(() => sent.push(3));
    order.add(() => sent.push(4), new Promise<void>((r) => (openC = r)));
    openC();
    await flush();
    expect(sent).toEqual([1]);
    openA();
    await flush();
    expect(sent).toEqual([1, 2, 3, 4]);
    expect(order.pending).toBe(0);
  });

  it('a failed durability wait releases the queue and passes its reason to that acknowledgement only', async () => {
    const sent: [number, unknown][] = [];
    const order = new AckOrder();
    const reason = new Error('not parked');
    order.add((f) => sent.push([1, f]), Promise.reject(reason));
    order.add((f) => sent.push([2, f]));
    await flush();
    expect(sent).toEqual([
      [1, reason],
      [2, undefined],
    ]);
  });

  it('acknowledgements sharing one durability promise go together, in order, also when added after it settled', async () => {
    const sent: [number, unknown][] = [];
    const order = new AckOrder();
    let commit!: () => void;
    const group = new Promise<void>((r) => (commit = r));
    for (let i = 1; i <= 3; i++) order.add((f) => sent.push([i, f]), group);
    order.add((f) => sent.push([4, f]));
    order.add((f) => sent.push([5, f]), group);
    await flush();
    expect(sent).toEqual([]);
    commit();
    await flush();
    expect(sent.map(([n]) => n)).toEqual([1, 2, 3, 4, 5]);
    // The same, already resolved, promise again: its acknowledgement is not left waiting.
    order.add((f) => sent.push([6, f]), group);
    await flush();
    expect(sent.map(([n]) => n)).toEqual([1, 2, 3, 4, 5, 6]);
    // A shared promise that rejects fails every acknowledgement waiting for it.
    const reason = new Error('disk full');
    const failing = Promise.reject(reason);
    order.add((f) => sent.push([7, f]), failing);
    order.add((f) => sent.push([8, f]), failing);
    await flush();
    expect(sent.slice(6)).toEqual([
      [7, reason],
      [8, reason],
    ]);
    expect(order.pending).toBe(0);
  });
});
