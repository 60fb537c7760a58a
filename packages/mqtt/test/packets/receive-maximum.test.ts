/**
 * Receive Maximum (MQTT 5.0 §3.1.2.11.3, §3.2.2.3.3, §3.3.4, §4.9 flow control).
 * Outbound: the server never has more unacknowledged QoS 1/2 PUBLISHes towards a client than
 * the client's Receive Maximum [MQTT-3.3.4-9]. Inbound: more unacknowledged QoS 2 PUBLISHes than
 * the server's announced Receive Maximum is answered with DISCONNECT 0x93 [MQTT-3.3.4-7] §3.3.4.
 */
import { describe, expect, it } from 'vitest';
import { expectDisconnect, useFixture, type Fixture } from './fixture.js';
import { RawClient, uid, type Received } from './raw-client.js';

const RECEIVE_MAXIMUM_EXCEEDED = 0x93;

async function subscriber(fx: Fixture, filter: string, receiveMaximum: number, qos: 1 | 2): Promise<RawClient> {
  const s = await RawClient.connected(fx.port, uid('rms'), { connect: { properties: { receiveMaximum } } });
  s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos }] });
  expect((await s.next('suback')).granted).toEqual([qos]);
  return s;
}

/** Publish `n` messages m0..m(n-1) at `qos`, completing the publisher's side of each flow. */
async function publishAll(fx: Fixture, topic: string, n: number, qos: 1 | 2): Promise<void> {
  const p = await RawClient.connected(fx.port, uid('rmp'));
  for (let i = 0; i < n; i++) {
    p.send({ cmd: 'publish', topic, payload: Buffer.from(`m${i}`), qos, messageId: i + 1, retain: false, dup: false });
    if (qos === 1) await p.next('puback');
    else {
      await p.next('pubrec');
      p.send({ cmd: 'pubrel', messageId: i + 1 });
      await p.next('pubcomp');
    }
  }
  p.destroy();
}

describe('outbound: the client\'s Receive Maximum [MQTT-3.3.4-9] §4.9', () => {
  const fx = useFixture();

  it('Receive Maximum 2: at most 2 unacknowledged QoS 1 PUBLISHes; each PUBACK releases the next; all 5 arrive in order', async () => {
    const s = await subscriber(fx, 'rm/q1', 2, 1);
    await publishAll(fx, 'rm/q1', 5, 1);

    const inflight: Received<'publish'>[] = [await s.next('publish'), await s.next('publish')];
    await s.barrier(); // no third PUBLISH
    expect(new Set(inflight.map((p) => p.messageId)).size).toBe(2);
    const order = inflight.map((p) => p.payload.toString());

    while (inflight.length > 0) {
      const done = inflight.shift()!;
      s.send({ cmd: 'puback', messageId: done.messageId });
      if (order.length < 5) {
        const p = await s.next('publish');
        expect(p.qos).toBe(1);
        expect(p.dup).toBe(false);
        expect(inflight.map((q) => q.messageId)).not.toContain(p.messageId);
        inflight.push(p);
        order.push(p.payload.toString());
      }
      await s.barrier(); // never more than 2 outstanding
      expect(inflight.length).toBeLessThanOrEqual(2);
    }
    expect(order).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  it('QoS 2 with Receive Maximum 1: PUBREC does not free the slot, PUBCOMP does §4.9', async () => {
    const s = await subscriber(fx, 'rm/q2', 1, 2);
    await publishAll(fx, 'rm/q2', 2, 2);
    const first = await s.next('publish');
    expect(first.payload.toString()).toBe('m0');
    s.send({ cmd: 'pubrec', messageId: first.messageId });
    const rel = await s.next('pubrel');
    expect(rel.messageId).toBe(first.messageId);
    await s.barrier(); // still in flight until PUBCOMP
    s.send({ cmd: 'pubcomp', messageId: first.messageId });
    const second = await s.next('publish');
    expect(second.payload.toString()).toBe('m1');
  });

  it('QoS 2 with Receive Maximum 1: a PUBREC with reason 0x80 ends the exchange (no PUBREL) and frees the slot §4.9', async () => {
    const s = await subscriber(fx, 'rm/q2err', 1, 2);
    await publishAll(fx, 'rm/q2err', 2, 2);
    const first = await s.next('publish');
    s.send({ cmd: 'pubrec', messageId: first.messageId, reasonCode: 0x80 });
    const second = await s.next('publish'); // not a PUBREL
    expect(second.payload.toString()).toBe('m1');
  });

  it('a PUBACK for an unknown packet id does not free a slot', async () => {
    const s = await subscriber(fx, 'rm/unk', 1, 1);
    await publishAll(fx, 'rm/unk', 2, 1);
    const first = await s.next('publish');
    s.send({ cmd: 'puback', messageId: first.messageId === 999 ? 998 : 999 });
    await s.barrier(); // the second message still waits
    s.send({ cmd: 'puback', messageId: first.messageId });
    expect((await s.next('publish')).payload.toString()).toBe('m1');
  });
});

describe('inbound: the server\'s Receive Maximum (max_inflight 5, max_awaiting_rel 5)', () => {
  const fx = useFixture({ broker: { config: { max_inflight: 5, max_awaiting_rel: 5 } } });

  it('CONNACK announces Receive Maximum 5; 5 QoS 2 PUBLISHes awaiting PUBREL are fine, the 6th gets DISCONNECT 0x93', async () => {
    const c = await RawClient.tcp(fx.port);
    const ack = await c.handshake({ clientId: uid('rmin') });
    expect(ack.properties?.receiveMaximum).toBe(5);
    for (let id = 1; id <= 5; id++) {
      c.send({ cmd: 'publish', topic: 'rmin/t', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false });
      expect((await c.next('pubrec')).messageId).toBe(id);
    }
    c.send({ cmd: 'publish', topic: 'rmin/t', payload: Buffer.from('x'), qos: 2, messageId: 6, retain: false, dup: false });
    await expectDisconnect(c, RECEIVE_MAXIMUM_EXCEEDED);
  });

  it('releasing one (PUBREL) makes room for another', async () => {
    const c = await RawClient.connected(fx.port, uid('rmin2'));
    for (let id = 1; id <= 5; id++) {
      c.send({ cmd: 'publish', topic: 'rmin/t', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false });
      await c.next('pubrec');
    }
    c.send({ cmd: 'pubrel', messageId: 3 });
    expect((await c.next('pubcomp')).reasonCode).toBe(0);
    c.send({ cmd: 'publish', topic: 'rmin/t', payload: Buffer.from('x'), qos: 2, messageId: 6, retain: false, dup: false });
    expect((await c.next('pubrec')).messageId).toBe(6);
  });
});

describe('inbound: the announced Receive Maximum is the one enforced (default config)', () => {
  const fx = useFixture();

  it('one QoS 2 PUBLISH more than the announced Receive Maximum, none released: DISCONNECT 0x93 §3.3.4 [MQTT-3.3.4-7]', async () => {
    const c = await RawClient.tcp(fx.port);
    const ack = await c.handshake({ clientId: uid('rmdef') });
    const max = ack.properties?.receiveMaximum ?? 65535;
    for (let id = 1; id <= max; id++) {
      c.send({ cmd: 'publish', topic: 'rmdef/t', payload: Buffer.from('x'), qos: 2, messageId: id, retain: false, dup: false });
      await c.next('pubrec');
    }
    c.send({ cmd: 'publish', topic: 'rmdef/t', payload: Buffer.from('x'), qos: 2, messageId: max + 1, retain: false, dup: false });
    await expectDisconnect(c, RECEIVE_MAXIMUM_EXCEEDED);
  });
});
