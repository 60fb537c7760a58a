/**
 * Shared subscriptions (MQTT 5.0 §4.8.2; EMQX also offers them to MQTT 3.1.1 clients, and the
 * `$queue/{filter}` form): each message goes to exactly one member of a group, round robin by
 * default, and retained messages are not sent on subscribe.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { topicFor, useScope, type ProtocolVersion } from './helpers.js';

export function sharedSubscriptionsBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('shared subscriptions', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    it('delivers each message to exactly one member of a $share group, alternating round robin (§4.8.2)', async () => {
      const t = topicFor('share');
      const a = await s.connect();
      const b = await s.connect();
      await a.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      await b.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      const pub = await s.connect();
      for (let i = 0; i < 6; i++) await pub.client.publishAsync(t, String(i), { qos: 1 });
      await a.waitMessages(3, t);
      await b.waitMessages(3, t);
      await s.flush(a, pub);
      await s.flush(b, pub);
      const ga = a.on(t).map((m) => Number(m.text));
      const gb = b.on(t).map((m) => Number(m.text));
      // Every message exactly once across the group, and the topic is the real one.
      expect([...ga, ...gb].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(a.on(t).every((m) => m.topic === t)).toBe(true);
      // Round robin: the members alternate.
      const [even, odd] = ga[0]! % 2 === 0 ? [ga, gb] : [gb, ga];
      expect({ even, odd }).toEqual({ even: [0, 2, 4], odd: [1, 3, 5] });
    });

    it('gives one copy to each group and to each ordinary subscriber (§4.8.2)', async () => {
      const t = topicFor('groups');
      const g1 = await s.connect();
      const g2 = await s.connect();
      const plain = await s.connect();
      await g1.client.subscribeAsync(`$share/one/${t}`, { qos: 1 });
      await g2.client.subscribeAsync(`$share/two/${t}`, { qos: 1 });
      await plain.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'fan out', { qos: 1 });
      for (const c of [g1, g2, plain]) {
        await c.waitMessages(1, t);
        await s.flush(c, pub);
        expect(c.on(t).map((m) => m.text)).toEqual(['fan out']);
      }
    });

    it('stops sending to a member that unsubscribed; the rest of the group gets everything (§4.8.2)', async () => {
      const t = topicFor('shunsub');
      const a = await s.connect();
      const b = await s.connect();
      await a.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      await b.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      await a.client.unsubscribeAsync(`$share/g/${t}`);
      const pub = await s.connect();
      for (let i = 0; i < 4; i++) await pub.client.publishAsync(t, String(i), { qos: 1 });
      await b.waitMessages(4, t);
      await s.flush(a, pub);
      expect(a.on(t)).toEqual([]);
      expect(b.on(t).map((m) => m.text)).toEqual(['0', '1', '2', '3']);
    });

    it('prefers connected members over a member whose persistent session is offline (EMQX)', async () => {
      const t = topicFor('shoffline');
      const away = await s.connect(s.persistent());
      await away.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      const here = await s.connect();
      await here.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      const gone = s.waitHook('client.disconnected', (c) => c.clientId === away.clientId);
      await away.disconnect();
      await gone;
      const pub = await s.connect();
      for (let i = 0; i < 4; i++) await pub.client.publishAsync(t, String(i), { qos: 1 });
      const got = await here.waitMessages(4, t);
      expect(got.map((m) => m.text)).toEqual(['0', '1', '2', '3']);
      expect(s.h.broker.session(away.clientId)?.queued).toBe(0);
    });

    it('supports the EMQX $queue/{filter} form: each message to exactly one member', async () => {
      const t = topicFor('queue');
      const a = await s.connect();
      const b = await s.connect();
      await a.client.subscribeAsync(`$queue/${t}/+`, { qos: 1 });
      await b.client.subscribeAsync(`$queue/${t}/+`, { qos: 1 });
      const pub = await s.connect();
      for (let i = 0; i < 4; i++) await pub.client.publishAsync(`${t}/x`, String(i), { qos: 1 });
      await s.flush(a, pub);
      await s.flush(b, pub);
      const all = [...a.on(t), ...b.on(t)];
      expect(all.map((m) => m.text).sort()).toEqual(['0', '1', '2', '3']);
      expect(all.every((m) => m.topic === `${t}/x`)).toBe(true);
      expect(a.on(t).length).toBe(2);
    });

    it('does not send retained messages to a new shared subscription (§4.8.2)', async () => {
      const t = topicFor('shretain');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'retained', { qos: 1, retain: true });
      const member = await s.connect();
      await member.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
      await pub.client.publishAsync(t, 'live', { qos: 1 });
      const [m] = await member.waitMessages(1, t);
      await s.flush(member, pub);
      expect(member.on(t).map((x) => x.text)).toEqual(['live']);
      expect(m!.retain).toBe(false);
    });

    if (v5) {
      it('treats No Local on a shared subscription as a protocol error: DISCONNECT 0x82 [MQTT-3.8.3-4]', async () => {
        const c = await s.connect();
        c.client.subscribe(`$share/g/${topicFor('nl')}`, { qos: 1, nl: true });
        await c.waitClosed();
        expect(c.disconnectPacket?.reasonCode).toBe(0x82);
      });
    }
  });
}
