/**
 * MQTT 5 Message Expiry Interval: expired messages are not delivered, and a delivered message
 * carries the remaining lifetime. MQTT 5 only.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { sleep, topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function messageExpiryBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  if (version !== 5) return;
  describe('message expiry', () => {
    const s = useScope(fixture, version);

    // [MQTT-3.3.2-5] an expired message is not delivered; [MQTT-3.3.2-6] the interval is lowered
    // by the time the message waited.
    it('drops a queued message whose expiry (1 s) passed while the client was offline, and forwards the remaining interval of one that did not [MQTT-3.3.2-5] [MQTT-3.3.2-6]', async () => {
      const t = topicFor('offline');
      const clientId = uid('me');
      const persistent = { clean: false, properties: { sessionExpiryInterval: 300 } };
      const c = await s.connect({ clientId, ...persistent });
      await c.client.subscribeAsync(t, { qos: 1 });
      const gone = s.waitHook('client.disconnected', (cl) => cl.clientId === clientId);
      await c.disconnect();
      await gone;
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'short-lived', { qos: 1, properties: { messageExpiryInterval: 1 } });
      await pub.client.publishAsync(t, 'long-lived', { qos: 1, properties: { messageExpiryInterval: 60 } });
      await pub.client.publishAsync(t, 'immortal', { qos: 1 });
      await sleep(2000);
      const back = await s.connect({ clientId, ...persistent });
      expect(back.connack!.sessionPresent).toBe(true);
      const got = await back.waitMessages(2, t);
      await s.flush(back, pub);
      expect(back.on(t).map((m) => m.text)).toEqual(['long-lived', 'immortal']);
      const left = got[0]!.properties?.messageExpiryInterval;
      expect(left).toBeDefined();
      expect(left!).toBeLessThanOrEqual(58);
      expect(left!).toBeGreaterThan(50);
      expect(got[1]!.properties?.messageExpiryInterval).toBeUndefined();
    });

    it('forwards a live message with a remaining interval no greater than the original [MQTT-3.3.2-6]', async () => {
      const t = topicFor('live');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'fresh', { qos: 1, properties: { messageExpiryInterval: 30 } });
      const [m] = await sub.waitMessages(1, t);
      const left = m!.properties?.messageExpiryInterval;
      expect(left).toBeDefined();
      expect(left!).toBeLessThanOrEqual(30);
      expect(left!).toBeGreaterThanOrEqual(29);
    });

    it('stops sending a retained message once its expiry has passed [MQTT-3.3.2-5]', async () => {
      const t = topicFor('retained');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'soon stale', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
      const early = await s.connect();
      await early.client.subscribeAsync(t, { qos: 1 });
      const [m] = await early.waitMessages(1, t);
      expect([m!.text, m!.retain]).toEqual(['soon stale', true]);
      expect(m!.properties?.messageExpiryInterval).toBeLessThanOrEqual(1);
      await sleep(1200);
      const late = await s.connect();
      await late.client.subscribeAsync(t, { qos: 1 });
      await s.flush(late, pub);
      expect(late.on(t)).toEqual([]);
    });
  });
}
