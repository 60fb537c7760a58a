/**
 * Session takeover: a second connection with the same client identifier closes the first
 * (MQTT 5: DISCONNECT 0x8E) and, for a persistent session, carries on with it.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function takeoverBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('takeover', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    // 5.0 [MQTT-3.1.4-3]; 3.1.1 [MQTT-3.1.4-2]
    it(`closes the existing connection when the same client id connects again${v5 ? ', with DISCONNECT 0x8E' : ''} [MQTT-3.1.4-3]`, async () => {
      const clientId = uid('to');
      const first = await s.connect({ clientId });
      const second = await s.connect({ clientId });
      expect(second.connack!.sessionPresent).toBe(false);
      await first.waitClosed();
      if (v5) {
        expect(first.disconnectPacket?.reasonCode).toBe(0x8e);
      } else {
        expect(first.disconnectPacket).toBeUndefined();
      }
      // The new connection is the live one.
      expect(second.isClosed).toBe(false);
      expect(s.h.broker.session(clientId)?.connected).toBe(true);
      const t = topicFor('alive');
      await second.client.subscribeAsync(t, { qos: 1 });
      await second.client.publishAsync(t, 'still here', { qos: 1 });
      const [m] = await second.waitMessages(1, t);
      expect(m!.text).toBe('still here');
    });

    it('hands a persistent session, with its subscriptions, to the new connection [MQTT-3.1.4-3] [MQTT-3.2.2-3]', async () => {
      const clientId = uid('tp');
      const t = topicFor('handover');
      const first = await s.connect({ clientId, ...s.persistent() });
      await first.client.subscribeAsync(t, { qos: 1 });
      const second = await s.connect({ clientId, ...s.persistent() });
      expect(second.connack!.sessionPresent).toBe(true);
      await first.waitClosed();
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'to the new one', { qos: 1 });
      const [m] = await second.waitMessages(1, t);
      expect(m!.text).toBe('to the new one');
      expect(first.on(t)).toEqual([]);
    });

    // The core's CloseReason for the old connection decides hooks and events (EMQX: `takenover`).
    it("reports the old connection's end to the core as 'takeover' (client.disconnected hook)", async () => {
      const clientId = uid('tr');
      const first = await s.connect({ clientId });
      const closed = s.waitHook('client.disconnected', (c) => c.clientId === clientId);
      await s.connect({ clientId });
      await first.waitClosed();
      const [, reason] = await closed;
      expect(reason).toBe('takeover');
    });
  });
}
