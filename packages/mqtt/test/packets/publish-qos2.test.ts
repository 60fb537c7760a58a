/**
 * QoS 2 from client to server, exactly once (MQTT 5.0 §4.3.3, §3.5-3.7; MQTT 3.1.1 §4.3.3).
 * Method B of §4.3.3: the server routes the message on the first PUBLISH and keeps the packet id
 * until PUBREL; a repeated PUBLISH with that id is acknowledged again but not routed again.
 */
import { describe, expect, it } from 'vitest';
import { useFixture } from './fixture.js';
import { RawClient, uid, waitFor, type Received } from './raw-client.js';

const fx = useFixture();

const PACKET_ID_NOT_FOUND = 0x92;

function qos2(topic: string, messageId: number, payload: string, dup = false) {
  return { cmd: 'publish' as const, topic, payload: Buffer.from(payload), qos: 2 as const, messageId, dup, retain: false };
}

/** A v5 subscriber at QoS 2 that collects PUBLISHes and completes their flows. */
async function subscriber(filter: string, version: 4 | 5 = 5): Promise<RawClient> {
  const s = await RawClient.connected(fx.port, uid('q2s'), { version });
  s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 2 }] });
  expect((await s.next('suback')).granted).toEqual([2]);
  return s;
}

/**
 * The PUBLISHes the subscriber receives before the answer to a PINGREQ sent now: once the
 * publisher has its acknowledgement, every delivery of its message was written before that.
 */
async function deliveries(s: RawClient): Promise<Received<'publish'>[]> {
  s.send({ cmd: 'pingreq' });
  const out: Received<'publish'>[] = [];
  for (;;) {
    const p = await s.next();
    if (p.cmd === 'pingresp') return out;
    expect(p.cmd).toBe('publish');
    out.push(p as Received<'publish'>);
  }
}

/** PUBREC checks common to every test: fixed header 0x50, the packet id, a success code. */
function expectPubrec(p: Received<'pubrec'>, id: number): void {
  expect(p.raw[0]).toBe(0x50);
  expect(p.messageId).toBe(id);
  expect(p.reasonCode! < 0x80, `PUBREC reason 0x${p.reasonCode!.toString(16)}`).toBe(true);
}

describe('QoS 2 inbound exactly once [MQTT-4.3.3-9] [MQTT-4.3.3-10]', () => {
  it('the same PUBLISH sent twice before PUBREL (DUP=1 the second time): two PUBRECs, one delivery; PUBREL gets PUBCOMP 0x00', async () => {
    const s = await subscriber('q2/once');
    const c = await RawClient.connected(fx.port, uid('q2p'));
    c.send(qos2('q2/once', 10, 'exactly-once'));
    const first = await c.next('pubrec');
    expectPubrec(first, 10);
    expect(first.reasonCode).toBe(0x00); // one subscriber matched
    c.send(qos2('q2/once', 10, 'exactly-once', true));
    const second = await c.next('pubrec');
    expectPubrec(second, 10);
    expect(second.reasonCode).toBe(0x00);
    c.send({ cmd: 'pubrel', messageId: 10 });
    const comp = await c.next('pubcomp');
    expect(comp.raw[0]).toBe(0x70);
    expect(comp.messageId).toBe(10);
    expect(comp.reasonCode).toBe(0x00);

    const got = await deliveries(s);
    expect(got.map((p) => p.payload.toString())).toEqual(['exactly-once']);
    expect(got[0]!.qos).toBe(2);
    expect(got[0]!.dup).toBe(false);
  });

  it('once PUBCOMP is sent, the packet id is free: the same id with a new message is routed again [MQTT-4.3.3-10]', async () => {
    const s = await subscriber('q2/reuse');
    const c = await RawClient.connected(fx.port, uid('q2r'));
    for (const payload of ['first', 'second']) {
      c.send(qos2('q2/reuse', 77, payload));
      expectPubrec(await c.next('pubrec'), 77);
      c.send({ cmd: 'pubrel', messageId: 77 });
      expect((await c.next('pubcomp')).reasonCode).toBe(0x00);
    }
    expect((await deliveries(s)).map((p) => p.payload.toString())).toEqual(['first', 'second']);
  });

  it('PUBREL for an unknown packet id: PUBCOMP 0x92 (Packet Identifier not found), the connection stays up §3.7.2.1', async () => {
    const c = await RawClient.connected(fx.port, uid('q2u'));
    c.send({ cmd: 'pubrel', messageId: 4242 });
    const comp = await c.next('pubcomp');
    expect(comp.raw[0]).toBe(0x70);
    expect(comp.messageId).toBe(4242);
    expect(comp.reasonCode).toBe(PACKET_ID_NOT_FOUND);
    await c.barrier();
  });

  it('a second PUBREL for an id already completed gets PUBCOMP 0x92', async () => {
    const c = await RawClient.connected(fx.port, uid('q2pp'));
    c.send(qos2('q2/twice-rel', 5, 'x'));
    await c.next('pubrec');
    c.send({ cmd: 'pubrel', messageId: 5 });
    expect((await c.next('pubcomp')).reasonCode).toBe(0x00);
    c.send({ cmd: 'pubrel', messageId: 5 });
    expect((await c.next('pubcomp')).reasonCode).toBe(PACKET_ID_NOT_FOUND);
  });

  it('PUBREC reason 0x10 (No matching subscribers) when nobody subscribed §3.5.2.1', async () => {
    const c = await RawClient.connected(fx.port, uid('q2n'));
    c.send(qos2('q2/nobody/home', 3, 'x'));
    const rec = await c.next('pubrec');
    expect(rec.messageId).toBe(3);
    expect(rec.reasonCode).toBe(0x10);
  });

  it('across a reconnect (clean start 0, session expiry 60): the repeated PUBLISH id 7 gets PUBREC, no second delivery; PUBREL gets PUBCOMP [MQTT-4.3.3-9] [MQTT-4.4.0-1]', async () => {
    const s = await subscriber('q2/resume');
    const id = uid('q2res');
    const c = await RawClient.connected(fx.port, id, { connect: { clean: false, properties: { sessionExpiryInterval: 60 } } });
    c.send(qos2('q2/resume', 7, 'once-across-reconnect'));
    expectPubrec(await c.next('pubrec'), 7);
    c.destroy(); // lost before PUBREL
    await waitFor(() => fx.broker.session(id)?.connected === false, 2000, 'publisher session offline');

    const again = await RawClient.tcp(fx.port);
    const ack = await again.handshake({ clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(ack.raw[2], 'session present').toBe(0x01);
    again.send(qos2('q2/resume', 7, 'once-across-reconnect', true));
    const rec = await again.next('pubrec');
    expectPubrec(rec, 7);
    again.send({ cmd: 'pubrel', messageId: 7 });
    const comp = await again.next('pubcomp');
    expect(comp.messageId).toBe(7);
    expect(comp.reasonCode).toBe(0x00);

    expect((await deliveries(s)).map((p) => p.payload.toString())).toEqual(['once-across-reconnect']);
    // Clean up the persistent session.
    again.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
    await again.closed();
  });

  it('v3.1.1: the same QoS 2 PUBLISH twice before PUBREL: two PUBRECs (50 02 id), one delivery, PUBCOMP 70 02 id', async () => {
    const s = await subscriber('q2/v4', 4);
    const c = await RawClient.connected(fx.port, uid('q2v4'), { version: 4 });
    c.send(qos2('q2/v4', 0x1234, 'v4-once'));
    expect((await c.next('pubrec')).raw.toString('hex')).toBe('50021234');
    c.send(qos2('q2/v4', 0x1234, 'v4-once', true));
    expect((await c.next('pubrec')).raw.toString('hex')).toBe('50021234');
    c.send({ cmd: 'pubrel', messageId: 0x1234 });
    expect((await c.next('pubcomp')).raw.toString('hex')).toBe('70021234');
    expect((await deliveries(s)).map((p) => p.payload.toString())).toEqual(['v4-once']);
  });

  it('a QoS 2 PUBLISH does not block the connection: PUBLISH, PINGREQ, PUBREL in one write are answered in order', async () => {
    const c = await RawClient.connected(fx.port, uid('q2o'));
    c.sendRaw(Buffer.concat([c.encode(qos2('q2/order', 21, 'x')), c.encode({ cmd: 'pingreq' }), c.encode({ cmd: 'pubrel', messageId: 21 })]));
    expect((await c.next('pubrec')).messageId).toBe(21);
    await c.next('pingresp');
    expect((await c.next('pubcomp')).reasonCode).toBe(0x00);
  });
});
