/**
 * MQTT 3.1.1 (OASIS, level 4) and MQTT 3.1 (MQIsdp, level 3) at the packet level. These versions
 * have no DISCONNECT from the server: any violation just closes the connection [MQTT-4.8.0-1].
 */
import { describe, expect, it } from 'vitest';
import { expectClosedWithoutReply, useFixture } from './fixture.js';
import { frame, RawClient, str, uid } from './raw-client.js';

const fx = useFixture();

async function client(version: 3 | 4 = 4): Promise<RawClient> {
  return RawClient.connected(fx.port, uid(`v${version}`), { version });
}

describe('MQTT 3.1.1: malformed packets close the connection without any packet', () => {
  it.each([
    ['SUBSCRIBE with header flags 0 [MQTT-3.8.1-1]', [...frame(0x80, [0x00, 0x01, ...str('a/#'), 0x00])]],
    ['PUBREL with header flags 0 [MQTT-3.6.1-1]', [0x60, 0x02, 0x00, 0x01]],
    ['UNSUBSCRIBE with header flags 0 [MQTT-3.10.1-1]', [...frame(0xa0, [0x00, 0x01, ...str('a/#')])]],
    ['PUBLISH QoS 3 [MQTT-3.3.1-4]', [...frame(0x36, [...str('q3'), 0x00, 0x01, 0x78])]],
    ['a remaining length of 5 bytes', [0x30, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['SUBSCRIBE options with reserved bits set [MQTT-3.8.3-4]', [...frame(0x82, [0x00, 0x01, ...str('a/#'), 0x04])]],
    ['SUBSCRIBE requesting QoS 3 [MQTT-3.8.3-4]', [...frame(0x82, [0x00, 0x01, ...str('a/#'), 0x03])]],
    ['AUTH (MQTT 5 only)', [0xf0, 0x00]],
    ['packet type 0', [0x00, 0x00]],
  ])('%s', async (_n, bytes) => {
    const c = await client();
    c.sendRaw(bytes);
    await expectClosedWithoutReply(c);
  });

  it.each(['a/+', 'a/#', '#'])('PUBLISH to %j (wildcard in a topic name) closes the connection [MQTT-3.3.2-2]', async (topic) => {
    const c = await client();
    c.send({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 1, messageId: 1, retain: false, dup: false });
    await expectClosedWithoutReply(c);
  });

  it('SUBSCRIBE without any topic filter closes the connection [MQTT-3.8.3-3]', async () => {
    const c = await client();
    c.sendRaw([0x82, 0x02, 0x00, 0x01]);
    await expectClosedWithoutReply(c);
  });

  it('UNSUBSCRIBE without any topic filter closes the connection [MQTT-3.10.3-2]', async () => {
    const c = await client();
    c.sendRaw([0xa2, 0x02, 0x00, 0x01]);
    await expectClosedWithoutReply(c);
  });

  it('ill-formed UTF-8 in a topic name closes the connection [MQTT-1.5.3-1]', async () => {
    const c = await client();
    c.sendRaw(frame(0x30, [...str(Buffer.from([0x61, 0xff, 0x62])), 0x78]));
    await expectClosedWithoutReply(c);
  });
});

describe('MQTT 3.1.1 acknowledgements, byte-exact', () => {
  it('PUBLISH QoS 1 gets 40 02 <id>; UNSUBSCRIBE gets b0 02 <id>', async () => {
    const c = await client();
    c.send({ cmd: 'publish', topic: 'v4/ack', payload: Buffer.from('x'), qos: 1, messageId: 0xabcd, retain: false, dup: false });
    expect((await c.next('puback')).raw.toString('hex')).toBe('4002abcd');
    c.send({ cmd: 'unsubscribe', messageId: 0x0a0b, unsubscriptions: ['v4/none'] });
    expect((await c.next('unsuback')).raw.toString('hex')).toBe('b0020a0b');
  });

  it('a delivery to a 3.1.1 subscriber has no properties and the granted QoS in its header', async () => {
    const s = await client();
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'v4/d', qos: 1 }] });
    await s.next('suback');
    const p = await RawClient.connected(fx.port, uid('v5pub'));
    p.send({ cmd: 'publish', topic: 'v4/d', payload: Buffer.from('hey'), qos: 2, messageId: 1, retain: false, dup: false, properties: { contentType: 'text/plain', userProperties: { a: 'b' } } });
    await p.next('pubrec');
    const got = await s.next('publish');
    // 32 <len> 00 04 'v4/d' <id> 'hey': QoS 1 (downgraded), no property block.
    expect(got.raw[0]).toBe(0x32);
    expect(got.raw.subarray(2, 8).toString('hex')).toBe('0004' + Buffer.from('v4/d').toString('hex'));
    expect(got.raw.subarray(10).toString()).toBe('hey');
    expect(got.raw.length).toBe(2 + 6 + 2 + 3);
  });
});

describe('MQTT 3.1 (MQIsdp, protocol level 3)', () => {
  it('connects: CONNACK 20 02 00 00', async () => {
    const c = await RawClient.tcp(fx.port, 3);
    c.sendRaw(frame(0x10, [...str('MQIsdp'), 0x03, 0x02, 0x00, 0x3c, ...str(uid('mqisdp'))]));
    expect((await c.next('connack')).raw.toString('hex')).toBe('20020000');
    await c.barrier();
  });

  it('publishes and subscribes like 3.1.1', async () => {
    const s = await client(3);
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'v3/t', qos: 1 }] });
    expect((await s.next('suback')).raw.toString('hex')).toBe('9003000101');
    const p = await client(3);
    p.send({ cmd: 'publish', topic: 'v3/t', payload: Buffer.from('old'), qos: 1, messageId: 9, retain: false, dup: false });
    expect((await p.next('puback')).raw.toString('hex')).toBe('40020009');
    const got = await s.next('publish');
    expect([got.topic, got.payload.toString(), got.qos]).toEqual(['v3/t', 'old', 1]);
  });

  it('an empty client id is rejected: CONNACK 0x02 (Identifier Rejected), then close', async () => {
    const c = await RawClient.tcp(fx.port, 3);
    c.sendRaw(frame(0x10, [...str('MQIsdp'), 0x03, 0x02, 0x00, 0x3c, ...str('')]));
    expect((await c.next('connack')).raw.toString('hex')).toBe('20020002');
    await expectClosedWithoutReply(c);
  });

  it('MQIsdp with protocol level 4 (name/level mismatch) is not accepted as a session', async () => {
    const c = await RawClient.tcp(fx.port, 4);
    c.sendRaw(frame(0x10, [...str('MQIsdp'), 0x04, 0x02, 0x00, 0x3c, ...str(uid('mix'))]));
    await c.closed();
    for (const p of c.received) expect(p.raw.toString('hex')).not.toBe('20020000');
  });
});
