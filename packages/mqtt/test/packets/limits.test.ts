/**
 * Packet size limits (MQTT 5.0 §3.2.2.3.6 [MQTT-3.2.2-15], §3.1.2.11.4 [MQTT-3.1.2-24]
 * [MQTT-3.1.2-25], §4.13). The broker runs with max_packet_size 1024; the Maximum Packet Size
 * counts the whole packet: fixed header, remaining length bytes and body (§3.1.2.11.4).
 */
import { describe, expect, it } from 'vitest';
import { expectClosedWithoutReply, expectDisconnect, useFixture } from './fixture.js';
import { frame, RawClient, str, uid, varint } from './raw-client.js';

const MAX = 1024;
const fx = useFixture({ mqtt: { max_packet_size: MAX } });

const PACKET_TOO_LARGE = 0x95;

/** A v5 QoS 1 PUBLISH whose whole encoding is exactly `total` bytes. */
function publishOfTotalSize(total: number, topic = 'lim/a', id = 2): Buffer {
  const head = [...str(topic), id >> 8, id & 0xff, 0x00]; // topic, packet id, no properties
  const remaining = total - 1 - varint(total).length; // close enough to find the right length
  for (let rem = remaining - 2; rem <= remaining + 2; rem++) {
    if (1 + varint(rem).length + rem === total) return frame(0x32, [...head, ...Buffer.alloc(rem - head.length, 0x61)]);
  }
  throw new Error(`cannot build a packet of ${total} bytes`);
}

describe('inbound Maximum Packet Size', () => {
  it('CONNACK announces Maximum Packet Size 1024 §3.2.2.3.6', async () => {
    const c = await RawClient.tcp(fx.port);
    const ack = await c.handshake({ clientId: uid('lim') });
    expect(ack.properties?.maximumPacketSize).toBe(MAX);
  });

  it('a PUBLISH of 2000 bytes: DISCONNECT 0x95, then close [MQTT-3.2.2-15]', async () => {
    const c = await RawClient.connected(fx.port, uid('lim'));
    c.sendRaw(publishOfTotalSize(2000));
    await expectDisconnect(c, PACKET_TOO_LARGE);
  });

  it('a SUBSCRIBE over the limit is refused the same way', async () => {
    const c = await RawClient.connected(fx.port, uid('lim'));
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: Array.from({ length: 60 }, (_, i) => ({ topic: `lim/many/filters/${i}`, qos: 0 as const })) });
    await expectDisconnect(c, PACKET_TOO_LARGE);
  });

  it('100 MB announced, only the fixed header sent: DISCONNECT 0x95 at once, without waiting for (or buffering) the body', async () => {
    const c = await RawClient.connected(fx.port, uid('lim'));
    c.sendRaw([0x32, ...varint(100 * 1024 * 1024)]);
    await expectDisconnect(c, PACKET_TOO_LARGE, 500);
  });

  it('the same with the remaining length split across two writes', async () => {
    const c = await RawClient.connected(fx.port, uid('lim'));
    const len = varint(100 * 1024 * 1024);
    c.sendRaw([0x30, len[0]!]);
    await new Promise((r) => setTimeout(r, 20)); // let the server take the first part alone
    c.sendRaw(len.slice(1));
    await expectDisconnect(c, PACKET_TOO_LARGE, 500);
  });

  it('a PUBLISH of exactly 1024 bytes in total is accepted (PUBACK)', async () => {
    const c = await RawClient.connected(fx.port, uid('lim'));
    const p = publishOfTotalSize(MAX, 'lim/exact', 3);
    expect(p.length).toBe(MAX);
    c.sendRaw(p);
    const ack = await c.next('puback');
    expect(ack.messageId).toBe(3);
  });

  it('a PUBLISH of 1025 bytes in total (remaining length 1022) exceeds the limit: DISCONNECT 0x95 [MQTT-3.2.2-15]', async () => {
    const c = await RawClient.connected(fx.port, uid('lim'));
    const p = publishOfTotalSize(MAX + 1, 'lim/over', 4);
    expect(p.length).toBe(MAX + 1);
    c.sendRaw(p);
    await expectDisconnect(c, PACKET_TOO_LARGE);
  });

  it('v3.1.1: an oversize packet closes the connection without any packet', async () => {
    const c = await RawClient.connected(fx.port, uid('lim4'), { version: 4 });
    c.sendRaw([0x30, ...varint(5000)]);
    await expectClosedWithoutReply(c);
  });
});

describe("the client's Maximum Packet Size [MQTT-3.1.2-24] [MQTT-3.1.2-25]", () => {
  it('a message too large for the subscriber is not sent to it; smaller ones before and after are, and the inflight window moves on', async () => {
    const s = await RawClient.connected(fx.port, uid('limsub'), { connect: { properties: { maximumPacketSize: 200, receiveMaximum: 1 } } });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'limc/#', qos: 1 }] });
    await s.next('suback');
    const p = await RawClient.connected(fx.port, uid('limpub'));
    const send = async (payload: string, id: number) => {
      p.send({ cmd: 'publish', topic: 'limc/t', payload: Buffer.from(payload), qos: 1, messageId: id, retain: false, dup: false });
      await p.next('puback');
    };
    await send('before', 1);
    const first = await s.next('publish');
    expect(first.payload.toString()).toBe('before');
    s.send({ cmd: 'puback', messageId: first.messageId });
    await send('x'.repeat(400), 2); // 400 > 200: dropped as if delivered
    await send('after', 3);
    const next = await s.next('publish');
    expect(next.payload.toString()).toBe('after');
    expect(next.raw.length).toBeLessThanOrEqual(200);
    for (const q of s.received) expect(q.raw.length).toBeLessThanOrEqual(200);
  });
});
