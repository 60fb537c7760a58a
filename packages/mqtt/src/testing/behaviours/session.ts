/**
 * Persistent sessions: subscriptions and queued QoS 1/2 messages survive a disconnect, clean
 * start discards them, unacknowledged deliveries are resent with DUP, and the MQTT 5 Session
 * Expiry Interval really ends the session.
 *
 * MQTT 3.x: clean session 0 (the broker's default expiry, 2 h). MQTT 5: clean start 0 with a
 * Session Expiry Interval.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { codeOf, sleep, topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function sessionBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('session', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    /** Connect with a persistent session, subscribe to `t` at QoS `qos`, and go away cleanly. */
    async function leaveSubscribed(t: string, clientId: string, qos: 1 | 2 = 1, expiry = 300) {
      const c = await s.connect({ clientId, ...s.persistent(expiry) });
      await c.client.subscribeAsync(t, { qos });
      const gone = s.waitHook('client.disconnected', (cl) => cl.clientId === clientId);
      await c.disconnect();
      await gone;
    }

    // 5.0 [MQTT-3.1.2-5]; 3.1.1 [MQTT-3.1.2-4]
    it('keeps subscriptions across a disconnect and resumes them [MQTT-3.1.2-5]', async () => {
      const t = topicFor('subs');
      const clientId = uid('ps');
      await leaveSubscribed(t, clientId);
      const back = await s.connect({ clientId, ...s.persistent() });
      expect(back.connack!.sessionPresent).toBe(true);
      // No new SUBSCRIBE: the stored subscription still routes.
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'still subscribed', { qos: 1 });
      const [m] = await back.waitMessages(1, t);
      expect([m!.text, m!.qos]).toEqual(['still subscribed', 1]);
    });

    // 5.0 §4.1 (Session State includes queued QoS 1/2 messages); 3.1.1 [MQTT-3.1.2-5]
    it('delivers QoS 1 and QoS 2 messages published while the client was offline, in order, on reconnect (§4.1)', async () => {
      const t = topicFor('offline');
      const clientId = uid('po');
      await leaveSubscribed(t, clientId, 2);
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'one', { qos: 1 });
      await pub.client.publishAsync(t, 'two', { qos: 2 });
      await pub.client.publishAsync(t, 'three', { qos: 1 });
      const back = await s.connect({ clientId, ...s.persistent() });
      expect(back.connack!.sessionPresent).toBe(true);
      await back.waitMessages(3, t);
      // Wire order is publish order [MQTT-4.6.0-6].
      expect(back.wire(t).map((p) => [p.payload.toString(), p.qos])).toEqual([
        ['one', 1],
        ['two', 2],
        ['three', 1],
      ]);
      await s.flush(back, pub);
      expect(back.on(t).map((m) => m.text).sort()).toEqual(['one', 'three', 'two']);
    });

    // 5.0 [MQTT-3.1.2-4]; 3.1.1 [MQTT-3.1.2-6]
    it('discards the stored session, its subscriptions and queued messages on a clean start [MQTT-3.1.2-4]', async () => {
      const t = topicFor('clean');
      const clientId = uid('pc');
      await leaveSubscribed(t, clientId);
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'queued', { qos: 1 });
      const back = await s.connect({ clientId, clean: true });
      expect(back.connack!.sessionPresent).toBe(false);
      // Nothing queued arrives, and the old subscription is gone.
      const ack = await pub.publishAcked(t, 'after', { qos: 1 });
      if (v5) expect(codeOf(ack)).toBe(0x10);
      await s.flush(back, pub);
      expect(back.on(t)).toEqual([]);
    });

    // 5.0 [MQTT-4.4.0-1]; 3.1.1 [MQTT-4.4.0-1]
    it('resends an unacknowledged QoS 1 delivery with DUP 1 after the client reconnects [MQTT-4.4.0-1]', async () => {
      const t = topicFor('dup');
      const clientId = uid('pd');
      // A raw client never acknowledges anything.
      const raw = await s.raw();
      const ack = await raw.connect({ clientId, clean: false, ...(v5 ? { properties: { sessionExpiryInterval: 300 } } : {}) });
      expect(codeOf(ack)).toBe(0);
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 1 }] });
      await raw.next('suback');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'unacked', { qos: 1 });
      const first = await raw.next('publish');
      expect(first.dup).toBe(false);
      const gone = s.waitHook('client.disconnected', (cl) => cl.clientId === clientId);
      raw.destroy();
      await gone;
      const back = await s.connect({ clientId, ...s.persistent() });
      const [m] = await back.waitMessages(1, t);
      expect([m!.text, m!.qos, m!.dup]).toEqual(['unacked', 1, true]);
      expect(m!.packet.messageId).toBe(first.messageId);
    });

    // 5.0 [MQTT-4.4.0-1]: after PUBREC the server resends PUBREL, not the PUBLISH, on resume.
    it('resends PUBREL for a QoS 2 delivery that got PUBREC but no PUBCOMP before the client went away [MQTT-4.4.0-1]', async () => {
      const t = topicFor('pubrel');
      const clientId = uid('pr');
      const props = v5 ? { properties: { sessionExpiryInterval: 300 } } : {};
      const raw = await s.raw();
      await raw.connect({ clientId, clean: false, ...props });
      raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 2 }] });
      await raw.next('suback');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'half done', { qos: 2 });
      const delivery = await raw.next('publish');
      raw.send({ cmd: 'pubrec', messageId: delivery.messageId });
      await raw.next('pubrel');
      const gone = s.waitHook('client.disconnected', (cl) => cl.clientId === clientId);
      raw.destroy();
      await gone;
      const again = await s.raw();
      const ack = await again.connect({ clientId, clean: false, ...props });
      expect(ack.sessionPresent).toBe(true);
      const rel = await again.next('pubrel');
      expect(rel.messageId).toBe(delivery.messageId);
      again.send({ cmd: 'pubcomp', messageId: delivery.messageId });
      await s.flush(pub);
      // The message itself is not sent again.
      expect(again.packets.filter((p) => p.cmd === 'publish')).toEqual([]);
    });

    // 5.0 [MQTT-4.3.3-10] with [MQTT-4.4.0-1]: the inbound QoS 2 state is part of the session, so a
    // PUBLISH resent after reconnecting (before PUBREL) is not delivered a second time.
    it('keeps inbound QoS 2 state across a reconnect: a resent PUBLISH is not delivered twice [MQTT-4.3.3-10] [MQTT-4.4.0-1]', async () => {
      const t = topicFor('q2resume');
      const clientId = uid('qr');
      const props = v5 ? { properties: { sessionExpiryInterval: 300 } } : {};
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 2 });
      const publish = { cmd: 'publish' as const, topic: t, payload: Buffer.from('exactly once'), qos: 2 as const, messageId: 9, retain: false, dup: false };
      const first = await s.raw();
      await first.connect({ clientId, clean: false, ...props });
      first.send(publish);
      await first.next('pubrec');
      const gone = s.waitHook('client.disconnected', (cl) => cl.clientId === clientId);
      first.destroy();
      await gone;
      const again = await s.raw();
      expect((await again.connect({ clientId, clean: false, ...props })).sessionPresent).toBe(true);
      again.send({ ...publish, dup: true });
      await again.next('pubrec');
      again.send({ cmd: 'pubrel', messageId: 9 });
      expect(codeOf(await again.next('pubcomp')) ?? 0).toBe(0);
      await sub.waitMessages(1, t);
      await s.flush(sub);
      expect(sub.on(t).map((m) => m.text)).toEqual(['exactly once']);
    });

    if (v5) {
      // §3.1.2.11.2: the session ends when the Session Expiry Interval passes.
      it('ends the session when its Session Expiry Interval (1 s) has passed (§3.1.2.11.2)', async () => {
        const t = topicFor('expiry');
        const clientId = uid('pe');
        await leaveSubscribed(t, clientId, 1, 1);
        const pub = await s.connect();
        await pub.client.publishAsync(t, 'queued before expiry', { qos: 1 });
        const ended = s.waitHook('session.terminated', (id) => id === clientId, 3000);
        await sleep(1300);
        const [, why] = await ended;
        expect(why).toBe('expired');
        const back = await s.connect({ clientId, clean: false, properties: { sessionExpiryInterval: 300 } });
        expect(back.connack!.sessionPresent).toBe(false);
        expect(codeOf(await pub.publishAcked(t, 'after expiry', { qos: 1 }))).toBe(0x10);
        await s.flush(back, pub);
        expect(back.on(t)).toEqual([]);
      });

      it('ends the session with the connection when the Session Expiry Interval is absent (0) (§3.1.2.11.2)', async () => {
        const t = topicFor('noexpiry');
        const clientId = uid('p0');
        const c = await s.connect({ clientId, clean: false });
        await c.client.subscribeAsync(t, { qos: 1 });
        const gone = s.waitHook('client.disconnected', (cl) => cl.clientId === clientId);
        await c.disconnect();
        await gone;
        const back = await s.connect({ clientId, clean: false });
        expect(back.connack!.sessionPresent).toBe(false);
      });

      it('treats a non-zero Session Expiry Interval on DISCONNECT after 0 on CONNECT as a protocol error: DISCONNECT 0x82 [MQTT-3.14.2-2]', async () => {
        const c = await s.connect({ clean: true });
        c.client.end(false, { properties: { sessionExpiryInterval: 60 } });
        await c.until(() => c.disconnectPacket ?? (c.isClosed ? 'closed' : undefined), 'DISCONNECT or close');
        await c.waitClosed();
        expect(c.disconnectPacket?.reasonCode).toBe(0x82);
      });

      it('applies a Session Expiry Interval set on DISCONNECT (§3.14.2.2.2)', async () => {
        const t = topicFor('discexpiry');
        const clientId = uid('px');
        const c = await s.connect({ clientId, clean: false, properties: { sessionExpiryInterval: 300 } });
        await c.client.subscribeAsync(t, { qos: 1 });
        const ended = s.waitHook('session.terminated', (id) => id === clientId, 2000);
        await c.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
        expect((await ended)[1]).toBe('clean');
        const back = await s.connect({ clientId, clean: false, properties: { sessionExpiryInterval: 300 } });
        expect(back.connack!.sessionPresent).toBe(false);
      });
    }
  });
}
