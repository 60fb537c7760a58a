/**
 * SUBSCRIBE options and Subscription Identifiers at the packet level (MQTT 5.0 §3.8, §3.3.4).
 */
import { describe, expect, it } from 'vitest';
import { expectClosedMaybeDisconnect, expectDisconnect, useFixture } from './fixture.js';
import { frame, RawClient, str, uid } from './raw-client.js';

const fx = useFixture();
const PROTOCOL_ERROR = 0x82;

async function client(): Promise<RawClient> {
  return RawClient.connected(fx.port, uid('sub'));
}

describe('Subscription Identifier', () => {
  it('a client PUBLISH carrying a Subscription Identifier is a Protocol Error: DISCONNECT 0x82 [MQTT-3.3.4-6]', async () => {
    const c = await client();
    c.send({ cmd: 'publish', topic: 'sid/t', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifier: 5 } });
    await expectDisconnect(c, PROTOCOL_ERROR);
  });

  it('Subscription Identifier 0 in SUBSCRIBE is a Protocol Error: DISCONNECT 0x82 §3.8.2.1.2', async () => {
    const c = await client();
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sid/#', qos: 0 }], properties: { subscriptionIdentifier: 0 } });
    await expectDisconnect(c, PROTOCOL_ERROR);
  });

  it('Subscription Identifier 0 as hand-made bytes (0x0B 0x00) is refused the same way', async () => {
    const c = await client();
    c.sendRaw(frame(0x82, [0x00, 0x01, 0x02, 0x0b, 0x00, ...str('sid/#'), 0x00]));
    await expectDisconnect(c, PROTOCOL_ERROR);
  });

  it('Subscription Identifier included twice in SUBSCRIBE is a Protocol Error: closed §3.8.2.1.2', async () => {
    const c = await client();
    c.sendRaw(frame(0x82, [0x00, 0x01, 0x04, 0x0b, 0x01, 0x0b, 0x02, ...str('sid2/#'), 0x00]));
    await expectClosedMaybeDisconnect(c, [0x81, PROTOCOL_ERROR]);
  });

  it('deliveries carry the identifier of the matching subscription [MQTT-3.3.4-3], all of them for overlapping ones [MQTT-3.3.4-4]', async () => {
    const s = await client();
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sidd/a/#', qos: 1 }], properties: { subscriptionIdentifier: 42 } });
    await s.next('suback');
    s.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'sidd/+/b', qos: 1 }], properties: { subscriptionIdentifier: 7 } });
    await s.next('suback');
    const p = await client();
    p.send({ cmd: 'publish', topic: 'sidd/a/c', payload: Buffer.from('1'), qos: 0, retain: false, dup: false });
    p.send({ cmd: 'publish', topic: 'sidd/a/b', payload: Buffer.from('2'), qos: 0, retain: false, dup: false });
    const one = await s.next('publish');
    expect(one.properties?.subscriptionIdentifier).toBe(42);
    const two = await s.next('publish');
    const ids = two.properties?.subscriptionIdentifier;
    expect([ids].flat().sort((a, b) => a! - b!)).toEqual([7, 42]);
    await s.barrier(); // one copy only [MQTT-3.3.4-2]
  });
});

describe('No Local, shared subscriptions', () => {
  it('No Local on a $share/ subscription is a Protocol Error: DISCONNECT 0x82 [MQTT-3.8.3-4]', async () => {
    const c = await client();
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '$share/g/nl/#', qos: 1, nl: true }] });
    await expectDisconnect(c, PROTOCOL_ERROR);
  });

  it('No Local (hand-made option byte 0x05) on $share/ is refused the same way', async () => {
    const c = await client();
    c.sendRaw(frame(0x82, [0x00, 0x01, 0x00, ...str('$share/grp/nl2'), 0x05]));
    await expectDisconnect(c, PROTOCOL_ERROR);
  });

  it('No Local on an ordinary subscription: the client does not get its own messages, others do [MQTT-3.8.3-3]', async () => {
    const a = await client();
    a.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'nl/t', qos: 1, nl: true }] });
    await a.next('suback');
    const b = await client();
    b.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'nl/t', qos: 1 }] });
    await b.next('suback');
    a.send({ cmd: 'publish', topic: 'nl/t', payload: Buffer.from('from a'), qos: 1, messageId: 3, retain: false, dup: false });
    await a.next('puback');
    expect((await b.next('publish')).payload.toString()).toBe('from a');
    await a.barrier();
  });

  it('SUBACK carries one code per filter, in order, with the packet id of the SUBSCRIBE [MQTT-3.8.4-1] [MQTT-3.9.3-1]', async () => {
    const c = await client();
    c.send({ cmd: 'subscribe', messageId: 0xbeef, subscriptions: [{ topic: 'sa/0', qos: 0 }, { topic: 'sa/2', qos: 2 }, { topic: 'sa/1', qos: 1 }, { topic: '$share/g/sa/x', qos: 1 }] });
    const ack = await c.next('suback');
    expect(ack.raw[0]).toBe(0x90);
    expect(ack.messageId).toBe(0xbeef);
    expect(ack.granted).toEqual([0, 2, 1, 1]);
  });

  it('v3.1.1: SUBACK is 90 03 <id> <qos>, and a refused filter gets 0x80', async () => {
    const c = await RawClient.connected(fx.port, uid('sub4'), { version: 4 });
    c.send({ cmd: 'subscribe', messageId: 0x0102, subscriptions: [{ topic: 'v4/+', qos: 1 }] });
    expect((await c.next('suback')).raw.toString('hex')).toBe('9003010201');
    c.send({ cmd: 'subscribe', messageId: 0x0103, subscriptions: [{ topic: 'v4/#/x', qos: 1 }] });
    expect((await c.next('suback')).raw.toString('hex')).toBe('9003010380');
  });
});
