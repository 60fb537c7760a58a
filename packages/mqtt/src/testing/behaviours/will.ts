/**
 * Will messages: published on an abnormal close, not on a normal DISCONNECT, on MQTT 5
 * DISCONNECT 0x04, and after the MQTT 5 Will Delay Interval unless the client reconnects first.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { sleep, topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function willBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('will', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    /** A subscriber on the will topic, and a will for it. */
    async function watch(name: string) {
      const t = topicFor(name);
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      return { t, sub };
    }

    // 5.0 [MQTT-3.1.2-8]; 3.1.1 [MQTT-3.1.2-8]
    it('publishes the will when the connection drops without DISCONNECT [MQTT-3.1.2-8]', async () => {
      const { t, sub } = await watch('drop');
      const properties = v5 ? { contentType: 'text/plain', userProperties: { why: 'lost' }, payloadFormatIndicator: true } : undefined;
      const dying = await s.connect({ will: { topic: t, payload: Buffer.from('gone'), qos: 1, retain: false, ...(properties ? { properties } : {}) } });
      dying.kill();
      const [m] = await sub.waitMessages(1, t);
      expect([m!.topic, m!.text, m!.qos, m!.retain]).toEqual([t, 'gone', 1, false]);
      if (v5) {
        // Will properties travel with the will message (§3.1.3.2).
        expect(m!.properties?.contentType).toBe('text/plain');
        expect(m!.properties?.userProperties).toEqual({ why: 'lost' });
        expect(m!.properties?.payloadFormatIndicator).toBe(true);
      }
    });

    it('stores a will published with Will Retain 1 as a retained message [MQTT-3.1.2-15] (3.1.1: [MQTT-3.1.2-17])', async () => {
      const t = topicFor('willretain');
      const dying = await s.connect({ will: { topic: t, payload: Buffer.from('last words'), qos: 1, retain: true } });
      const gone = s.waitHook('client.disconnected', (c) => c.clientId === dying.clientId);
      dying.kill();
      await gone;
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const [m] = await sub.waitMessages(1, t);
      expect([m!.text, m!.retain]).toEqual(['last words', true]);
    });

    // 5.0 [MQTT-3.1.2-10] / [MQTT-3.14.4-3]; 3.1.1 [MQTT-3.1.2-10] / [MQTT-3.14.4-3]
    it('discards the will on a normal DISCONNECT [MQTT-3.1.2-10]', async () => {
      const { t, sub } = await watch('normal');
      const leaving = await s.connect({ will: { topic: t, payload: Buffer.from('should not appear'), qos: 1, retain: false } });
      const gone = s.waitHook('client.disconnected', (c) => c.clientId === leaving.clientId);
      await leaving.disconnect();
      const [, reason] = await gone;
      expect(reason).toBe('normal');
      await s.flush(sub);
      expect(sub.on(t)).toEqual([]);
    });

    if (v5) {
      it('publishes the will on DISCONNECT with reason 0x04 (Disconnect with Will Message) (§3.14.2.1)', async () => {
        const { t, sub } = await watch('rc4');
        const leaving = await s.connect({ will: { topic: t, payload: Buffer.from('asked for it'), qos: 1, retain: false } });
        await leaving.disconnect(0x04);
        const [m] = await sub.waitMessages(1, t);
        expect(m!.text).toBe('asked for it');
      });

      // [MQTT-3.1.3-9]: a new connection to the session before the delay ends: no will.
      it('does not publish a delayed will when the client reconnects within the Will Delay Interval [MQTT-3.1.3-9]', async () => {
        const { t, sub } = await watch('delaycancel');
        const clientId = uid('wd');
        const will = { topic: t, payload: Buffer.from('cancelled'), qos: 1 as const, retain: false, properties: { willDelayInterval: 1 } };
        const first = await s.connect({ clientId, clean: false, properties: { sessionExpiryInterval: 30 }, will });
        first.kill();
        await first.waitClosed();
        const again = await s.connect({ clientId, clean: false, properties: { sessionExpiryInterval: 30 } });
        expect(again.connack!.sessionPresent).toBe(true);
        await sleep(1500); // past the delay
        await s.flush(sub);
        expect(sub.on(t)).toEqual([]);
      });

      it('publishes a delayed will only after the Will Delay Interval (§3.1.3.2.2)', async () => {
        const { t, sub } = await watch('delay');
        const will = { topic: t, payload: Buffer.from('late'), qos: 1 as const, retain: false, properties: { willDelayInterval: 1 } };
        const dying = await s.connect({ clean: false, properties: { sessionExpiryInterval: 30 }, will });
        const gone = s.waitHook('client.disconnected', (c) => c.clientId === dying.clientId);
        dying.kill();
        await gone;
        const lostAt = Date.now();
        await sleep(600);
        await s.flush(sub);
        expect(sub.on(t)).toEqual([]); // not yet
        const [m] = await sub.waitMessages(1, t, 3000);
        expect(m!.text).toBe('late');
        expect(Date.now() - lostAt).toBeGreaterThanOrEqual(900);
      });

      it('publishes a delayed will when the session ends before the delay (session expiry 0) [MQTT-3.1.3-9]', async () => {
        const { t, sub } = await watch('delayexpiry');
        const will = { topic: t, payload: Buffer.from('session over'), qos: 1 as const, retain: false, properties: { willDelayInterval: 30 } };
        const dying = await s.connect({ will });
        dying.kill();
        const [m] = await sub.waitMessages(1, t, 2000);
        expect(m!.text).toBe('session over');
      });
    }
  });
}
