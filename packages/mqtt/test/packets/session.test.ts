/**
 * Keepalive, PINGREQ, stray acknowledgements and session takeover at the packet level.
 */
import { describe, expect, it } from 'vitest';
import { expectClosedWithoutReply, expectDisconnect, useFixture } from './fixture.js';
import { RawClient, uid } from './raw-client.js';

const fx = useFixture();

describe('PINGREQ', () => {
  it.each([5, 4, 3] as const)('MQTT %s: PINGREQ gets PINGRESP, exactly d0 00 [MQTT-3.12.4-1]', async (version) => {
    const c = await RawClient.connected(fx.port, uid(`ping${version}`), { version });
    c.sendRaw([0xc0, 0x00]);
    expect((await c.next('pingresp')).raw.toString('hex')).toBe('d000');
  });
});

describe('acknowledgements for unknown packet ids (MQTT 5)', () => {
  it('PUBACK, PUBCOMP for unknown ids are ignored: the connection keeps working', async () => {
    const c = await RawClient.connected(fx.port, uid('ack'));
    c.send({ cmd: 'puback', messageId: 77 });
    c.send({ cmd: 'pubcomp', messageId: 78 });
    c.send({ cmd: 'puback', messageId: 79, reasonCode: 0x80 });
    await c.barrier();
  });

  it('PUBREC for an unknown id: PUBREL 0x92 (Packet Identifier not found), the connection keeps working §3.6.2.1', async () => {
    const c = await RawClient.connected(fx.port, uid('ackrec'));
    c.send({ cmd: 'pubrec', messageId: 80 });
    const rel = await c.next('pubrel');
    expect(rel.raw[0]).toBe(0x62);
    expect(rel.messageId).toBe(80);
    expect(rel.reasonCode).toBe(0x92);
    await c.barrier();
  });

  it('a PUBACK for a QoS 2 delivery (wrong kind) does not complete it; the PUBLISH is still in flight', async () => {
    const s = await RawClient.connected(fx.port, uid('ackk'), { connect: { properties: { receiveMaximum: 1 } } });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ackk/t', qos: 2 }] });
    await s.next('suback');
    const p = await RawClient.connected(fx.port, uid('ackkp'));
    for (const id of [1, 2]) {
      p.send({ cmd: 'publish', topic: 'ackk/t', payload: Buffer.from(`m${id}`), qos: 2, messageId: id, retain: false, dup: false });
      await p.next('pubrec');
    }
    const first = await s.next('publish');
    s.send({ cmd: 'puback', messageId: first.messageId });
    await s.barrier(); // m2 still held back: m1 is not complete
    s.send({ cmd: 'pubrec', messageId: first.messageId });
    await s.next('pubrel');
    s.send({ cmd: 'pubcomp', messageId: first.messageId });
    expect((await s.next('publish')).payload.toString()).toBe('m2');
  });
});

describe('keepalive [MQTT-3.1.2-22]', () => {
  it('v5: no packet within 1.5 x keepalive (1 s): DISCONNECT 0x8D, then close', async () => {
    const c = await RawClient.connected(fx.port, uid('ka'), { connect: { keepalive: 1 } });
    const started = Date.now();
    await expectDisconnect(c, 0x8d, 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('v3.1.1: the connection is closed without any packet [MQTT-3.1.2-24 in 3.1.1]', async () => {
    const c = await RawClient.connected(fx.port, uid('ka4'), { version: 4, connect: { keepalive: 1 } });
    await expectClosedWithoutReply(c, 3000);
  });
});

describe('session takeover [MQTT-3.1.4-3]', () => {
  it('v5: a new connection with the same client id: the old one gets DISCONNECT 0x8E, then close', async () => {
    const id = uid('take');
    const old = await RawClient.connected(fx.port, id);
    const fresh = await RawClient.connected(fx.port, id);
    await expectDisconnect(old, 0x8e);
    await fresh.barrier();
  });

  it('v3.1.1: the old connection is closed without any packet', async () => {
    const id = uid('take4');
    const old = await RawClient.connected(fx.port, id, { version: 4 });
    const fresh = await RawClient.connected(fx.port, id, { version: 4 });
    await expectClosedWithoutReply(old);
    await fresh.barrier();
  });
});
