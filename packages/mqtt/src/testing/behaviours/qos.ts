/**
 * QoS 0, 1 and 2 end to end: delivery, the QoS 2 handshake, downgrade to the subscription's
 * QoS, overlapping subscriptions, ordering, and the MQTT 5 "no matching subscribers" reason code.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { codeOf, topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function qosBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('qos', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    it('delivers QoS 0, 1 and 2 messages end to end with topic, payload and QoS intact', async () => {
      const t = topicFor('qos');
      const sub = await s.connect();
      const granted = await sub.client.subscribeAsync(`${t}/#`, { qos: 2 });
      expect(granted.map((g) => g.qos)).toEqual([2]);
      const pub = await s.connect();
      await pub.client.publishAsync(`${t}/0`, 'zero', { qos: 0 });
      await pub.client.publishAsync(`${t}/1`, 'one', { qos: 1 });
      await pub.client.publishAsync(`${t}/2`, Buffer.from([0, 1, 2, 255]), { qos: 2 });
      const got = await sub.waitMessages(3, t);
      expect(got.map((m) => [m.topic, m.qos, m.retain, m.dup])).toEqual([
        [`${t}/0`, 0, false, false],
        [`${t}/1`, 1, false, false],
        [`${t}/2`, 2, false, false],
      ]);
      expect(got[0]!.text).toBe('zero');
      expect(got[1]!.text).toBe('one');
      expect([...got[2]!.payload]).toEqual([0, 1, 2, 255]);
    });

    it('completes the QoS 2 handshake on both sides: PUBREC/PUBCOMP to the publisher, PUBREL to the subscriber [MQTT-4.3.3]', async () => {
      const t = topicFor('qos2');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 2 });
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'exactly once', { qos: 2 });
      const [m] = await sub.waitMessages(1, t);
      expect(m!.qos).toBe(2);
      // Publisher side: PUBREC then PUBCOMP with the PUBLISH's packet id.
      const acks = pub.packets.filter((p) => p.cmd === 'pubrec' || p.cmd === 'pubcomp');
      expect(acks.map((p) => p.cmd)).toEqual(['pubrec', 'pubcomp']);
      expect(acks[0]!.messageId).toBe(acks[1]!.messageId);
      // Subscriber side: the server releases with PUBREL for the delivery's packet id (§4.3.3).
      const rel = await sub.waitPacket('pubrel');
      expect(rel.messageId).toBe(m!.packet.messageId);
      // Delivered exactly once.
      await s.flush(sub, pub);
      expect(sub.on(t)).toHaveLength(1);
    });

    // MQTT 5.0 [MQTT-3.8.4-8]; 3.1.1 §3.8.4: delivered at min(published QoS, granted QoS).
    it('downgrades delivery to the QoS of the subscription [MQTT-3.8.4-8]', async () => {
      const t = topicFor('down');
      const sub0 = await s.connect();
      await sub0.client.subscribeAsync(t, { qos: 0 });
      const sub1 = await s.connect();
      await sub1.client.subscribeAsync(t, { qos: 1 });
      const sub2 = await s.connect();
      await sub2.client.subscribeAsync(t, { qos: 2 });
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'q2', { qos: 2 });
      await pub.client.publishAsync(t, 'q1', { qos: 1 });
      await pub.client.publishAsync(t, 'q0', { qos: 0 });
      const qos = async (c: typeof sub0) => {
        await c.waitMessages(3, t);
        return c.wire(t).map((p) => `${p.payload.toString()}@${p.qos}`);
      };
      expect(await qos(sub0)).toEqual(['q2@0', 'q1@0', 'q0@0']);
      expect(await qos(sub1)).toEqual(['q2@1', 'q1@1', 'q0@0']);
      // Never upgraded either (upgrade_qos is off by default, as in EMQX).
      expect(await qos(sub2)).toEqual(['q2@2', 'q1@1', 'q0@0']);
    });

    // MQTT 5.0 [MQTT-3.3.4-2]: one delivery at the maximum QoS of the overlapping subscriptions.
    it('delivers a message matching overlapping subscriptions once, at the highest granted QoS [MQTT-3.3.4-2]', async () => {
      const t = topicFor('overlap');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/+`, { qos: 0 });
      await sub.client.subscribeAsync(`${t}/#`, { qos: 2 });
      await sub.client.subscribeAsync(`${t}/a`, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(`${t}/a`, 'overlap', { qos: 2 });
      await s.flush(sub, pub);
      const got = sub.on(t);
      expect(got.map((m) => [m.topic, m.text, m.qos])).toEqual([[`${t}/a`, 'overlap', 2]]);
    });

    // MQTT 5.0 [MQTT-4.6.0-6] / 3.1.1 [MQTT-4.6.0-6]: ordered topic per publisher.
    it('preserves the order of many QoS 1 messages from one publisher [MQTT-4.6.0-6]', async () => {
      const t = topicFor('order');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      const n = 200;
      await Promise.all(Array.from({ length: n }, (_, i) => pub.client.publishAsync(t, String(i), { qos: 1 })));
      const got = await sub.waitMessages(n, t, 8000);
      expect(got.map((m) => Number(m.text))).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(got.every((m) => m.qos === 1 && !m.dup)).toBe(true);
    });

    if (v5) {
      it('answers PUBACK / PUBREC 0x10 (no matching subscribers) when nobody subscribed, 0x00 otherwise (§3.4.2.1)', async () => {
        const t = topicFor('nomatch');
        const pub = await s.connect();
        expect(codeOf(await pub.publishAcked(t, 'nobody', { qos: 1 }))).toBe(0x10);
        expect(codeOf(await pub.publishAcked(t, 'nobody', { qos: 2 }))).toBe(0x10);
        const sub = await s.connect();
        await sub.client.subscribeAsync(t, { qos: 1 });
        expect(codeOf(await pub.publishAcked(t, 'somebody', { qos: 1 }))).toBe(0);
        expect(codeOf(await pub.publishAcked(t, 'somebody', { qos: 2 }))).toBe(0);
        const got = await sub.waitMessages(2, t);
        expect(got.map((m) => m.text)).toEqual(['somebody', 'somebody']);
      });
    } else {
      it('acknowledges QoS 1 and 2 without a reason code in MQTT 3 even when nobody subscribed', async () => {
        const t = topicFor('nomatch');
        const pub = await s.connect();
        const puback = await pub.publishAcked(t, 'nobody', { qos: 1 });
        expect(puback.cmd).toBe('puback');
        expect(codeOf(puback) ?? 0).toBe(0);
        const pubrec = await pub.publishAcked(t, 'nobody', { qos: 2 });
        expect(pubrec.cmd).toBe('pubrec');
        expect(codeOf(pubrec) ?? 0).toBe(0);
      });
    }

    // 5.0 [MQTT-4.3.3-10] / 3.1.1 [MQTT-4.3.3-2]: a QoS 2 PUBLISH resent (DUP) before PUBREL is
    // acknowledged again but not delivered onwards again.
    it('delivers a QoS 2 message once even when the publisher resends it with DUP before PUBREL [MQTT-4.3.3-10]', async () => {
      const t = topicFor('q2dup');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 2 });
      const r = await s.raw();
      await r.connect({ clientId: uid('q2') });
      const publish = { cmd: 'publish' as const, topic: t, payload: Buffer.from('once'), qos: 2 as const, messageId: 11, retain: false, dup: false };
      r.send(publish);
      await r.next('pubrec');
      r.send({ ...publish, dup: true });
      await r.until(() => r.packets.filter((p) => p.cmd === 'pubrec').length === 2, 'the second PUBREC');
      r.send({ cmd: 'pubrel', messageId: 11 });
      const comp = await r.next('pubcomp');
      expect(comp.messageId).toBe(11);
      // After PUBCOMP the packet id is free again: a new message with it is a new message.
      r.send({ ...publish, payload: Buffer.from('again') });
      await r.until(() => r.packets.filter((p) => p.cmd === 'pubrec').length === 3, 'the third PUBREC');
      r.send({ cmd: 'pubrel', messageId: 11 });
      await r.until(() => r.packets.filter((p) => p.cmd === 'pubcomp').length === 2, 'the second PUBCOMP');
      await sub.waitMessages(2, t);
      await s.flush(sub);
      expect(sub.on(t).map((m) => m.text)).toEqual(['once', 'again']);
    });

    if (v5) {
      it('answers PUBREL for an unknown packet identifier with PUBCOMP 0x92 (§3.7.2.1)', async () => {
        const r = await s.raw();
        await r.connect({ clientId: uid('rel') });
        r.send({ cmd: 'pubrel', messageId: 4242 });
        const comp = await r.next('pubcomp');
        expect([comp.messageId, comp.reasonCode]).toEqual([4242, 0x92]);
      });

      // [MQTT-3.3.4-9]: the server sends no more than the client's Receive Maximum unacknowledged.
      it('never has more QoS 1 deliveries unacknowledged than the client\'s Receive Maximum [MQTT-3.3.4-9]', async () => {
        const t = topicFor('rmax');
        const r = await s.raw();
        await r.connect({ clientId: uid('rm'), properties: { receiveMaximum: 2 } });
        r.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 1 }] });
        await r.next('suback');
        const pub = await s.connect();
        for (let i = 0; i < 5; i++) await pub.client.publishAsync(t, String(i), { qos: 1 });
        const publishes = () => r.packets.filter((p) => p.cmd === 'publish');
        await r.until(() => publishes().length >= 2, 'two PUBLISH');
        await s.flush(pub); // everything published has been routed by now
        expect(publishes()).toHaveLength(2);
        // Each PUBACK opens the window for exactly one more.
        r.send({ cmd: 'puback', messageId: publishes()[0]!.messageId });
        await r.until(() => publishes().length >= 3, 'the third PUBLISH');
        await s.flush(pub);
        expect(publishes()).toHaveLength(3);
        for (const p of publishes().slice(1)) r.send({ cmd: 'puback', messageId: p.messageId });
        await r.until(() => publishes().length >= 5, 'all five PUBLISH');
        expect(publishes().map((p) => p.payload.toString())).toEqual(['0', '1', '2', '3', '4']);
      });
    }

    // 5.0 [MQTT-3.3.2-2]: wildcards in a PUBLISH topic name; the server closes the connection
    // (MQTT 5: DISCONNECT 0x90 Topic Name invalid).
    it(`closes a connection that publishes to a topic name with wildcards${v5 ? ': DISCONNECT 0x90' : ''} [MQTT-3.3.2-2]`, async () => {
      const t = topicFor('wildpub');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/#`, { qos: 0 });
      const r = await s.raw();
      await r.connect({ clientId: uid('wp') });
      r.send({ cmd: 'publish', topic: `${t}/+`, payload: Buffer.from('bad'), qos: 1, messageId: 3, retain: false, dup: false });
      await r.waitClosed();
      if (v5) expect(r.packets.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x90 });
      expect(r.packets.filter((p) => p.cmd === 'puback')).toEqual([]);
      await s.flush(sub);
      expect(sub.on(t)).toEqual([]);
    });

    it('routes a message published by a client to its own matching subscription', async () => {
      const t = topicFor('self');
      const c = await s.connect();
      await c.client.subscribeAsync(t, { qos: 1 });
      await c.client.publishAsync(t, 'to myself', { qos: 1 });
      const [m] = await c.waitMessages(1, t);
      expect((m!.packet as IPublishPacket).topic).toBe(t);
      expect(m!.text).toBe('to myself');
    });
  });
}
