/**
 * UNSUBSCRIBE: UNSUBACK reason codes (MQTT 5) and no deliveries after unsubscribing.
 */
import type { IUnsubackPacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { topicFor, useScope, type ProtocolVersion } from './helpers.js';

export function unsubscribeBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('unsubscribe', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    // 5.0 [MQTT-3.10.4-4] [MQTT-3.11.3-1]; 3.1.1 [MQTT-3.10.4-4]
    it(`answers UNSUBACK${v5 ? ' with 0x00 for a subscribed filter and 0x11 for one that was not' : ''} [MQTT-3.10.4-4]`, async () => {
      const t = topicFor('unsuback');
      const c = await s.connect();
      await c.client.subscribeAsync(`${t}/yes`, { qos: 1 });
      await c.client.unsubscribeAsync([`${t}/yes`, `${t}/no`]);
      const ack = (await c.waitPacket('unsuback')) as IUnsubackPacket & { granted?: number[] };
      if (v5) expect(ack.granted).toEqual([0x00, 0x11]);
      // Unsubscribing again: nothing left.
      await c.client.unsubscribeAsync(`${t}/yes`);
      const again = (await c.until(() => c.packets.filter((p) => p.cmd === 'unsuback')[1], 'second UNSUBACK')) as IUnsubackPacket & { granted?: number[] };
      if (v5) expect(again.granted).toEqual([0x11]);
      expect(again.messageId).not.toBeUndefined();
    });

    // 5.0 [MQTT-3.10.4-2]: the server stops adding messages for the removed subscription.
    it('stops delivering after UNSUBSCRIBE, keeping the other subscriptions [MQTT-3.10.4-2]', async () => {
      const t = topicFor('stop');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/a`, { qos: 1 });
      await sub.client.subscribeAsync(`${t}/b`, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(`${t}/a`, 'before', { qos: 1 });
      await sub.waitMessages(1, t);
      await sub.client.unsubscribeAsync(`${t}/a`);
      await pub.client.publishAsync(`${t}/a`, 'after', { qos: 1 });
      await pub.client.publishAsync(`${t}/b`, 'other', { qos: 1 });
      await sub.waitMessage((m) => m.text === 'other', 'the message on the kept subscription');
      await s.flush(sub, pub);
      expect(sub.on(t).map((m) => m.text)).toEqual(['before', 'other']);
    });
  });
}
