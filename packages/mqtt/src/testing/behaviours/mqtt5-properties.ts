/**
 * MQTT 5 PUBLISH properties forwarded unaltered, Subscription Identifiers, and No Local.
 * MQTT 5 only.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { topicFor, useScope, type ProtocolVersion } from './helpers.js';

export function mqtt5PropertiesBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  if (version !== 5) return;
  describe('MQTT 5 properties', () => {
    const s = useScope(fixture, version);

    // [MQTT-3.3.2-4] payload format, [MQTT-3.3.2-15] response topic, [MQTT-3.3.2-16] correlation
    // data, [MQTT-3.3.2-17] [MQTT-3.3.2-18] user properties (all, in order), [MQTT-3.3.2-20] content type
    it('forwards payload format, content type, response topic, correlation data and user properties unaltered [MQTT-3.3.2-4] [MQTT-3.3.2-15..20]', async () => {
      const t = topicFor('props');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      const correlationData = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);
      await pub.client.publishAsync(t, '{"ok":true}', {
        qos: 1,
        properties: {
          payloadFormatIndicator: true,
          contentType: 'application/json',
          responseTopic: `${t}/reply`,
          correlationData,
          userProperties: { region: 'eu', tag: ['first', 'second'] },
        },
      });
      const [m] = await sub.waitMessages(1, t);
      const p = m!.properties!;
      expect(m!.text).toBe('{"ok":true}');
      expect(p.payloadFormatIndicator).toBe(true);
      expect(p.contentType).toBe('application/json');
      expect(p.responseTopic).toBe(`${t}/reply`);
      expect(Buffer.from(p.correlationData!).equals(correlationData)).toBe(true);
      expect(p.userProperties).toEqual({ region: 'eu', tag: ['first', 'second'] });
      // Nothing was invented: no expiry, alias or subscription identifier.
      expect(p.messageExpiryInterval).toBeUndefined();
      expect(p.topicAlias).toBeUndefined();
      expect(p.subscriptionIdentifier).toBeUndefined();
    });

    it('forwards properties of a QoS 0 message and of a retained message sent on subscribe', async () => {
      const t = topicFor('props0');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'r', { qos: 1, retain: true, properties: { contentType: 'text/plain', userProperties: { k: 'v' } } });
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 0 });
      const [r] = await sub.waitMessages(1, t);
      expect([r!.retain, r!.properties?.contentType, r!.properties?.userProperties]).toEqual([true, 'text/plain', { k: 'v' }]);
      await pub.client.publishAsync(t, 'q0', { qos: 0, properties: { responseTopic: 'reply/here' } });
      const got = await sub.waitMessages(2, t);
      expect(got[1]!.properties?.responseTopic).toBe('reply/here');
    });

    // [MQTT-3.3.4-3] the identifier of the matching subscription is sent with the message.
    it('sends the Subscription Identifier of the matching subscription [MQTT-3.3.4-3]', async () => {
      const t = topicFor('subid');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/a`, { qos: 1, properties: { subscriptionIdentifier: 42 } });
      await sub.client.subscribeAsync(`${t}/b`, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(`${t}/a`, 'with id', { qos: 1 });
      await pub.client.publishAsync(`${t}/b`, 'without id', { qos: 1 });
      const got = await sub.waitMessages(2, t);
      expect(got.map((m) => [m.text, m.properties?.subscriptionIdentifier])).toEqual([
        ['with id', 42],
        ['without id', undefined],
      ]);
    });

    // [MQTT-3.3.4-4] [MQTT-3.3.4-5]: one message, the identifiers of every matching subscription.
    it('sends the identifiers of all overlapping subscriptions in one PUBLISH [MQTT-3.3.4-4] [MQTT-3.3.4-5]', async () => {
      const t = topicFor('subids');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/+/x`, { qos: 1, properties: { subscriptionIdentifier: 7 } });
      await sub.client.subscribeAsync(`${t}/#`, { qos: 1, properties: { subscriptionIdentifier: 300000 } });
      const pub = await s.connect();
      await pub.client.publishAsync(`${t}/a/x`, 'both', { qos: 1 });
      const [m] = await sub.waitMessages(1, t);
      const ids = ([] as number[]).concat(m!.properties?.subscriptionIdentifier ?? []);
      expect(ids.sort((x, y) => x - y)).toEqual([7, 300000]);
      await s.flush(sub, pub);
      expect(sub.on(t)).toHaveLength(1);
    });

    it('sends the Subscription Identifier with retained messages delivered on subscribe (§3.8.2.1.2)', async () => {
      const t = topicFor('subidr');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'kept', { qos: 1, retain: true });
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1, properties: { subscriptionIdentifier: 5 } });
      const [m] = await sub.waitMessages(1, t);
      expect([m!.retain, m!.properties?.subscriptionIdentifier]).toEqual([true, 5]);
    });

    // [MQTT-3.8.3-3]: No Local: not forwarded to the connection that published it.
    it('does not send a client its own messages on a No Local subscription [MQTT-3.8.3-3]', async () => {
      const t = topicFor('nl');
      const me = await s.connect();
      await me.client.subscribeAsync(t, { qos: 1, nl: true });
      const other = await s.connect();
      await other.client.subscribeAsync(t, { qos: 1 });
      await me.client.publishAsync(t, 'mine', { qos: 1 });
      await other.client.publishAsync(t, 'theirs', { qos: 1 });
      await s.flush(me, other);
      expect(me.on(t).map((m) => m.text)).toEqual(['theirs']);
      // Without No Local the publisher does get its own message.
      const got = await other.waitMessages(2, t);
      expect(got.map((m) => m.text)).toEqual(['mine', 'theirs']);
    });
  });
}
