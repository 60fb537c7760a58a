/**
 * SUBSCRIBE / SUBACK: one code per filter in order, invalid filters refused (MQTT 5: 0x8F,
 * MQTT 3.1.1: 0x80) without affecting valid ones, and a repeated subscription replacing the
 * first. Invalid filters go out raw: MQTT.js refuses to send them.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function subscribeBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('subscribe', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;
    const refused = v5 ? 0x8f : 0x80;

    // [MQTT-4.7.1-1] '#' must be last; [MQTT-4.7.1-2] '+' must occupy a whole level;
    // 5.0 [MQTT-3.9.3-1] / 3.1.1 [MQTT-3.9.3-1]: one return code per filter, in order.
    it(`refuses invalid filters (a/#/b, a/b+) with SUBACK 0x${refused.toString(16)} and grants the valid ones in the same SUBSCRIBE [MQTT-4.7.1-1] [MQTT-3.9.3-1]`, async () => {
      const t = topicFor('invalid');
      const r = await s.raw();
      await r.connect({ clientId: uid('sb') });
      r.send({
        cmd: 'subscribe',
        messageId: 7,
        subscriptions: [
          { topic: 'a/#/b', qos: 1 },
          { topic: `${t}/ok`, qos: 2 },
          { topic: 'a/b+', qos: 0 },
          { topic: `${t}/+/x`, qos: 1 },
        ],
      });
      const ack = await r.next('suback');
      expect(ack.messageId).toBe(7);
      expect(ack.granted).toEqual([refused, 2, refused, 1]);
      // The connection stays usable and the valid subscriptions work.
      expect(r.isClosed).toBe(false);
      const pub = await s.connect();
      await pub.client.publishAsync(`${t}/ok`, 'valid', { qos: 1 });
      const m = await r.next('publish');
      expect([m.topic, m.payload.toString(), m.qos]).toEqual([`${t}/ok`, 'valid', 1]);
    });

    // 5.0 [MQTT-3.8.4-3] / 3.1.1 [MQTT-3.8.4-3]: a repeated filter replaces the subscription.
    it('replaces an existing subscription on a repeated SUBSCRIBE of the same filter [MQTT-3.8.4-3]', async () => {
      const t = topicFor('replace');
      const sub = await s.connect();
      expect((await sub.client.subscribeAsync(t, { qos: 0 })).map((g) => g.qos)).toEqual([0]);
      expect((await sub.client.subscribeAsync(t, { qos: 2 })).map((g) => g.qos)).toEqual([2]);
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'once at QoS 2', { qos: 2 });
      await sub.waitMessages(1, t);
      await s.flush(sub, pub);
      expect(sub.on(t).map((m) => [m.text, m.qos])).toEqual([['once at QoS 2', 2]]);
    });

    it('matches + and # wildcards as specified, including the parent level for # (§4.7.1)', async () => {
      const t = topicFor('wild');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/+/x`, { qos: 1 });
      await sub.client.subscribeAsync(`${t}/h/#`, { qos: 1 });
      const pub = await s.connect();
      const topics = [`${t}/a/x`, `${t}/a/y`, `${t}/a/x/z`, `${t}//x`, `${t}/h`, `${t}/h/1/2/3`, `${t}/hx`];
      for (const topic of topics) await pub.client.publishAsync(topic, topic, { qos: 1 });
      await s.flush(sub, pub);
      expect(sub.on(t).map((m) => m.topic)).toEqual([`${t}/a/x`, `${t}//x`, `${t}/h`, `${t}/h/1/2/3`]);
    });
  });
}
