/**
 * Multi-stream mode as EMQX does it, looked at stream by stream: the first stream is the control
 * stream; SUBSCRIBE and PUBLISH on further streams are answered, and subscriptions delivered, on
 * the stream that carried them; losing a data stream keeps the connection.
 */
import type { ConnectInfo } from '@junction/broker-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQuicBroker, type QuicBroker } from './quic-harness.js';
import { payloads, RawStream } from './quic-raw.js';

let b: QuicBroker;
beforeAll(async () => {
  b = await startQuicBroker();
});
afterAll(() => b.stop());

/** A QUIC connection with CONNECT/CONNACK done on its control stream. */
async function connected(clientId: string): Promise<{ control: RawStream; open: () => RawStream }> {
  const q = await b.quic();
  const control = new RawStream(q.stream);
  control.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId, clean: true, keepalive: 60 });
  const ack = await control.next('connack');
  expect(ack.reasonCode).toBe(0);
  return { control, open: () => new RawStream(q.newStream()) };
}

describe('MQTT over QUIC, multi-stream mode', () => {
  it('acknowledges and delivers each subscription on the stream that carried its SUBSCRIBE; PUBACK on the PUBLISH stream', async () => {
    const { control, open } = await connected('ms-route');
    const subA = open();
    const subB = open();
    const pub = open();
    subA.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ms/a/#', qos: 1 }] });
    subB.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'ms/b', qos: 0 }] });
    expect((await subA.next('suback')).granted).toEqual([1]);
    expect((await subB.next('suback')).granted).toEqual([0]);

    pub.send({ cmd: 'publish', topic: 'ms/a/1', payload: Buffer.from('to-a'), qos: 1, messageId: 7, retain: false, dup: false });
    pub.send({ cmd: 'publish', topic: 'ms/b', payload: Buffer.from('to-b'), qos: 0, retain: false, dup: false });
    await pub.next('puback', (p) => p.messageId === 7);
    const delivered = await subA.next('publish');
    await subB.next('publish');
    subA.send({ cmd: 'puback', messageId: delivered.messageId, reasonCode: 0 });

    expect(payloads(subA)).toEqual(['to-a']);
    expect(payloads(subB)).toEqual(['to-b']);
    expect(payloads(pub)).toEqual([]);
    expect(control.packets.map((p) => p.cmd)).toEqual(['connack']);
    control.send({ cmd: 'pingreq' });
    await control.next('pingresp');
    // UNSUBACK goes back on the stream of the UNSUBSCRIBE.
    subB.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['ms/b'] });
    await subB.next('unsuback');
  });

  it('runs a QoS 2 exchange from start to end on the stream of the PUBLISH', async () => {
    const { open } = await connected('ms-qos2');
    const sub = open();
    const pub = open();
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'ms/q2', qos: 2 }] });
    await sub.next('suback');
    pub.send({ cmd: 'publish', topic: 'ms/q2', payload: Buffer.from('once'), qos: 2, messageId: 9, retain: false, dup: false });
    await pub.next('pubrec', (p) => p.messageId === 9);
    pub.send({ cmd: 'pubrel', messageId: 9 });
    await pub.next('pubcomp', (p) => p.messageId === 9);
    const d = await sub.next('publish');
    sub.send({ cmd: 'pubrec', messageId: d.messageId });
    await sub.next('pubrel', (p) => p.messageId === d.messageId);
    sub.send({ cmd: 'pubcomp', messageId: d.messageId });
    expect(payloads(sub)).toEqual(['once']);
  });

  it('keeps the connection and the session when a data stream ends or is reset', async () => {
    const disconnected: string[] = [];
    const off = b.broker.hooks.on('client.disconnected', (c) => void disconnected.push(c.clientId));
    try {
      const { control, open } = await connected('ms-lose');
      const kept = open();
      const reset = open();
      const finished = open();
      kept.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'lose/kept', qos: 0 }] });
      reset.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'lose/reset', qos: 0 }] });
      finished.send({ cmd: 'publish', topic: 'lose/kept', payload: Buffer.from('one'), qos: 1, messageId: 3, retain: false, dup: false });
      await kept.next('suback');
      await reset.next('suback');
      await finished.next('puback');

      reset.stream.destroy(); // RESET_STREAM / STOP_SENDING
      finished.stream.end(); // FIN
      await reset.waitClosed();

      control.send({ cmd: 'pingreq' });
      await control.next('pingresp');
      const { client: other } = await b.mqttOverQuic({ clientId: 'ms-lose-pub' });
      await other.publishAsync('lose/kept', 'two', { qos: 1 });
      // The stream of this subscription is gone: its deliveries come on the control stream.
      await other.publishAsync('lose/reset', 'orphan', { qos: 1 });
      await kept.until(() => payloads(kept).length === 2, 'two messages');
      await control.until(() => payloads(control).length === 1, 'the orphan on the control stream');
      expect(payloads(kept)).toEqual(['one', 'two']);
      expect(payloads(control)).toEqual(['orphan']);
      // A new data stream works as the first ones did.
      const again = open();
      again.send({ cmd: 'publish', topic: 'lose/kept', payload: Buffer.from('three'), qos: 1, messageId: 4, retain: false, dup: false });
      await again.next('puback');
      await kept.until(() => payloads(kept).length === 3, 'three messages');
      expect(control.isClosed).toBe(false);
      expect(disconnected).not.toContain('ms-lose');
    } finally {
      off();
    }
  });

  it('gives the peer address and the listener to the core, as TCP does', async () => {
    let seen: ConnectInfo | undefined;
    const off = b.broker.hooks.on('client.connected', (_c, info) => {
      if (info.clientId === 'ms-peer') seen = info;
    });
    try {
      await connected('ms-peer');
      expect(seen?.listener).toBe('quic:default');
      expect(seen?.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      off();
    }
  });
});
