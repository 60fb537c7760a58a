/**
 * Malformed packets and protocol errors from a connected MQTT 5 client (MQTT 5.0 §1.5, §2, §4.13).
 * On a Malformed Packet or Protocol Error the server closes the connection; it may send a
 * DISCONNECT with the reason code first [MQTT-4.13.1-1].
 */
import { describe, expect, it } from 'vitest';
import { expectClosedMaybeDisconnect, expectDisconnect, useFixture } from './fixture.js';
import { describe as show, frame, RawClient, str, uid, varint } from './raw-client.js';

const fx = useFixture();

const MALFORMED = 0x81;
const PROTOCOL_ERROR = 0x82;
const TOPIC_NAME_INVALID = 0x90;

/** A v5 PUBLISH by hand. */
function publish5(o: { topic: string | Buffer; qos?: number; id?: number; flags?: number; props?: number[]; payload?: number[] | string }): Buffer {
  const qos = o.qos ?? 0;
  const props = o.props ?? [];
  const payload = typeof o.payload === 'string' ? [...Buffer.from(o.payload)] : (o.payload ?? []);
  return frame(0x30 | (qos << 1) | (o.flags ?? 0), [...str(o.topic), ...(qos > 0 ? [(o.id ?? 1) >> 8, (o.id ?? 1) & 0xff] : []), ...varint(props.length), ...props, ...payload]);
}

async function client(): Promise<RawClient> {
  return RawClient.connected(fx.port, uid('mal'));
}

describe('reserved fixed header flags [MQTT-2.2.2-1] [MQTT-2.2.2-2]', () => {
  it.each([
    ['SUBSCRIBE with flags 0 instead of 2', [...frame(0x80, [0x00, 0x01, 0x00, ...str('a/#'), 0x00])]],
    ['SUBSCRIBE with flags 3', [...frame(0x83, [0x00, 0x01, 0x00, ...str('a/#'), 0x00])]],
    ['UNSUBSCRIBE with flags 0 instead of 2', [...frame(0xa0, [0x00, 0x01, 0x00, ...str('a/#')])]],
    ['PUBREL with flags 0 instead of 2', [0x60, 0x02, 0x00, 0x01]],
    ['PUBACK with flags 2 instead of 0', [0x42, 0x02, 0x00, 0x01]],
    ['PUBREC with flags 1', [0x51, 0x02, 0x00, 0x01]],
    ['PUBCOMP with flags 8', [0x78, 0x02, 0x00, 0x01]],
    ['PINGREQ with flags 1', [0xc1, 0x00]],
    ['DISCONNECT with flags 2', [0xe2, 0x00]],
  ])('%s: the connection is closed (DISCONNECT 0x81 allowed)', async (_name, bytes) => {
    const c = await client();
    c.sendRaw(bytes);
    await expectClosedMaybeDisconnect(c, [MALFORMED]);
  });

  it('PUBLISH with QoS 3 (both QoS bits set) is malformed: closed [MQTT-3.3.1-4]', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'q/3', flags: 0x06, payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED]);
  });

  it('PUBLISH QoS 0 with DUP set is malformed: closed [MQTT-3.3.1-2]', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'q/dup0', flags: 0x08, payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });
});

describe('topic names in PUBLISH [MQTT-3.3.2-2] [MQTT-1.5.4-1] [MQTT-1.5.4-2]', () => {
  it.each(['a/+', 'a/#', '#', '+', 'a/b+c', 'x#'])('topic %j contains a wildcard: DISCONNECT 0x90, then close [MQTT-3.3.2-2]', async (topic) => {
    const c = await client();
    c.send({ cmd: 'publish', topic, payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
    await expectDisconnect(c, TOPIC_NAME_INVALID);
  });

  it('a QoS 1 PUBLISH with a wildcard topic gets no PUBACK: DISCONNECT 0x90 [MQTT-3.3.2-2]', async () => {
    const c = await client();
    c.send({ cmd: 'publish', topic: 'w/+', payload: Buffer.from('x'), qos: 1, messageId: 5, retain: false, dup: false });
    await expectDisconnect(c, TOPIC_NAME_INVALID);
  });

  it('ill-formed UTF-8 in the topic is a Malformed Packet: closed [MQTT-1.5.4-1]', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: Buffer.from([0x75, 0x2f, 0xc3, 0x28]), payload: 'x' })); // "u/" + an invalid 2-byte sequence
    await expectClosedMaybeDisconnect(c, [MALFORMED, TOPIC_NAME_INVALID]);
  });

  it('a UTF-16 surrogate (U+D800) encoded in the topic is malformed: closed [MQTT-1.5.4-1]', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: Buffer.from([0x75, 0x2f, 0xed, 0xa0, 0x80]), payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, TOPIC_NAME_INVALID]);
  });

  it('U+0000 in the topic: closed [MQTT-1.5.4-2] [MQTT-4.7.3-2]', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: Buffer.from([0x61, 0x00, 0x62]), payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, TOPIC_NAME_INVALID]);
  });

  it('a zero-length topic without Topic Alias is a Protocol Error: closed §3.3.2.3.4', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: '', payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [PROTOCOL_ERROR, TOPIC_NAME_INVALID]);
  });
});

describe('packet identifiers [MQTT-2.2.1-3]', () => {
  it('PUBLISH QoS 1 with packet identifier 0: closed (no PUBACK)', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'pid/0', qos: 1, id: 0, payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('PUBLISH QoS 2 with packet identifier 0: closed (no PUBREC)', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'pid/0', qos: 2, id: 0, payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('SUBSCRIBE with packet identifier 0: closed (no SUBACK)', async () => {
    const c = await client();
    c.sendRaw(frame(0x82, [0x00, 0x00, 0x00, ...str('pid/#'), 0x00]));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });
});

describe('SUBSCRIBE and UNSUBSCRIBE payloads', () => {
  it('SUBSCRIBE without any topic filter is a Protocol Error: closed [MQTT-3.8.3-2]', async () => {
    const c = await client();
    c.sendRaw(frame(0x82, [0x00, 0x07, 0x00]));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('UNSUBSCRIBE without any topic filter is a Protocol Error: closed [MQTT-3.10.3-2]', async () => {
    const c = await client();
    c.sendRaw(frame(0xa2, [0x00, 0x08, 0x00]));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it.each([
    ['reserved bits 6-7 set', 0xc1],
    ['Retain Handling 3', 0x31],
    ['QoS 3', 0x03],
  ])('subscription options with %s: closed [MQTT-3.8.3-5] §3.8.3.1', async (_n, options) => {
    const c = await client();
    c.sendRaw(frame(0x82, [0x00, 0x09, 0x00, ...str('opt/#'), options]));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('an invalid topic filter is refused in the SUBACK with 0x8F, the connection stays up §3.9.3', async () => {
    const c = await client();
    c.send({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/#/b', qos: 1 }, { topic: 'ok/+', qos: 1 }, { topic: 'x+', qos: 0 }] });
    const ack = await c.next('suback');
    expect(ack.messageId).toBe(3);
    expect(ack.granted).toEqual([0x8f, 0x01, 0x8f]);
    await c.barrier();
  });
});

describe('properties (§2.2.2.2)', () => {
  it('an unknown property identifier is malformed: closed', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'p/unknown', props: [0x7f, 0x00], payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('a property not defined for PUBLISH (Session Expiry Interval) is malformed: closed', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'p/sei', props: [0x11, 0x00, 0x00, 0x00, 0x0a], payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('Content Type included twice is a Protocol Error: closed §3.3.2.3.9', async () => {
    const c = await client();
    c.sendRaw(publish5({ topic: 'p/ct2', props: [0x03, ...str('a'), 0x03, ...str('b')], payload: 'x' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('a property block longer than the packet is malformed: closed', async () => {
    const c = await client();
    // Property length 127, but only 2 bytes (Payload Format Indicator = 1) follow.
    c.sendRaw(frame(0x30, [...str('p/long'), 0x7f, 0x01, 0x01]));
    await expectClosedMaybeDisconnect(c, [MALFORMED]);
  });


  it('a string property cut short inside the property block is malformed: closed with 0x81', async () => {
    const c = await client();
    // Property block of 3 bytes: Content Type (0x03) announcing a 16-byte string the block does
    // not hold. (Consequences for subscribers: property-poison.test.ts.)
    c.sendRaw(publish5({ topic: 'cut/a', qos: 1, id: 9, props: [0x03, 0x00, 0x10], payload: 'payload!' }));
    await expectClosedMaybeDisconnect(c, [MALFORMED]);
  });
});

describe('framing', () => {
  it('a remaining length of more than 4 bytes is malformed: closed §1.5.5', async () => {
    const c = await client();
    c.sendRaw([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]);
    await expectClosedMaybeDisconnect(c, [MALFORMED]);
  });

  it('packet type 0 (reserved) is malformed: closed §2.1.2', async () => {
    const c = await client();
    c.sendRaw([0x00, 0x00]);
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it.each([
    ['CONNACK', [0x20, 0x03, 0x00, 0x00, 0x00]],
    ['SUBACK', [0x90, 0x04, 0x00, 0x01, 0x00, 0x00]],
    ['UNSUBACK', [0xb0, 0x04, 0x00, 0x01, 0x00, 0x00]],
    ['PINGRESP', [0xd0, 0x00]],
  ])('a server-only packet (%s) from the client is a Protocol Error: closed', async (_n, bytes) => {
    const c = await client();
    c.sendRaw(bytes);
    await expectClosedMaybeDisconnect(c, [MALFORMED, PROTOCOL_ERROR]);
  });

  it('a DISCONNECT from the client with a reason code not allowed for DISCONNECT is malformed: closed', async () => {
    const c = await client();
    c.sendRaw([0xe0, 0x01, 0x05]);
    await c.closed();
    expect(c.pending.map(show).filter((s) => !s.startsWith('disconnect code=0x81'))).toEqual([]);
  });

  it('a PUBACK with an invalid reason code is malformed: closed', async () => {
    const c = await client();
    c.sendRaw([0x40, 0x03, 0x00, 0x01, 0x05]);
    await expectClosedMaybeDisconnect(c, [MALFORMED]);
  });
});
