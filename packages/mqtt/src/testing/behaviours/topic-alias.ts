/**
 * MQTT 5 Topic Aliases in both directions (§3.3.2.3.4). MQTT 5 only.
 */
import { describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import type { TransportFixture } from '../harness.js';
import { topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function topicAliasBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  if (version !== 5) return;
  describe('topic aliases', () => {
    const s = useScope(fixture, version);

    it('resolves aliases a client sets and then uses with an empty topic (client to server) (§3.3.2.3.4)', async () => {
      const t = topicFor('in');
      const sub = await s.connect();
      await sub.client.subscribeAsync(`${t}/#`, { qos: 1 });
      const pub = await s.connect();
      expect(pub.connack!.properties?.topicAliasMaximum).toBeGreaterThan(0);
      await pub.client.publishAsync(`${t}/a`, 'set alias 1', { qos: 1, properties: { topicAlias: 1 } });
      await pub.client.publishAsync('', 'use alias 1', { qos: 1, properties: { topicAlias: 1 } });
      await pub.client.publishAsync(`${t}/b`, 'remap alias 1', { qos: 0, properties: { topicAlias: 1 } });
      await pub.client.publishAsync('', 'use remapped alias 1', { qos: 1, properties: { topicAlias: 1 } });
      const got = await sub.waitMessages(4, t);
      expect(got.map((m) => [m.topic, m.text])).toEqual([
        [`${t}/a`, 'set alias 1'],
        [`${t}/a`, 'use alias 1'],
        [`${t}/b`, 'remap alias 1'],
        [`${t}/b`, 'use remapped alias 1'],
      ]);
      // The alias is not forwarded to a subscriber that did not ask for aliases [MQTT-3.1.2-27].
      expect(got.every((m) => m.properties?.topicAlias === undefined)).toBe(true);
    });

    it('uses topic aliases towards a client that announced a Topic Alias Maximum (server to client) [MQTT-3.1.2-26]', async () => {
      const t = topicFor('out');
      const sub = await s.connect({ properties: { topicAliasMaximum: 2 } });
      await sub.client.subscribeAsync(`${t}/#`, { qos: 1 });
      const pub = await s.connect();
      const topics = [`${t}/a`, `${t}/a`, `${t}/b`, `${t}/a`, `${t}/c`, `${t}/b`, `${t}/c`];
      for (const [i, topic] of topics.entries()) await pub.client.publishAsync(topic, `m${i}`, { qos: 1 });
      const got = await sub.waitMessages(topics.length, t);
      // What the application sees: full topics and payloads, in order.
      expect(got.map((m) => [m.topic, m.text])).toEqual(topics.map((topic, i) => [topic, `m${i}`]));
      // What went over the wire: aliases within 1..2, and at least one PUBLISH with an empty topic.
      const wire = sub.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
      expect(wire).toHaveLength(topics.length);
      const aliases = wire.map((p) => p.properties?.topicAlias).filter((a): a is number => a !== undefined);
      expect(aliases.length).toBeGreaterThan(0);
      expect(aliases.every((a) => a >= 1 && a <= 2)).toBe(true);
      expect(wire.filter((p) => p.topic === '').length).toBeGreaterThan(0);
      expect(sub.errors).toEqual([]);
    });

    // §3.3.2.3.4: a topic may be sent empty only after the alias was mapped on this connection.
    // A PUBLISH dropped for the client's Maximum Packet Size [MQTT-3.1.2-25] never mapped it.
    it('does not use an alias whose mapping was in a PUBLISH dropped for the Maximum Packet Size (§3.3.2.3.4) [MQTT-3.1.2-25]', async () => {
      const t = topicFor('dropalias');
      const sub = await s.connect({ properties: { topicAliasMaximum: 5, maximumPacketSize: 200 } });
      await sub.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(t, Buffer.alloc(1024), { qos: 1 }); // too large: dropped
      await pub.client.publishAsync(t, 'small', { qos: 1 });
      await sub.until(() => sub.on(t).length > 0 || sub.isClosed || sub.errors.length > 0, 'the small message, or a client error');
      // MQTT.js fails with "Received unregistered Topic Alias" when the mapping never arrived.
      expect(sub.errors.map((e) => e.message)).toEqual([]);
      // The first PUBLISH this client saw on the topic carries the topic name, not just an alias.
      expect(sub.wire().map((p) => p.topic)).toEqual([t]);
      expect(sub.on(t).map((m) => [m.topic, m.text])).toEqual([[t, 'small']]);
    });

    it('sends no topic aliases to a client that did not announce a Topic Alias Maximum [MQTT-3.1.2-27]', async () => {
      const t = topicFor('none');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      for (let i = 0; i < 3; i++) await pub.client.publishAsync(t, String(i), { qos: 1 });
      await sub.waitMessages(3, t);
      const wire = sub.packets.filter((p): p is IPublishPacket => p.cmd === 'publish');
      expect(wire.every((p) => p.topic !== '' && p.properties?.topicAlias === undefined)).toBe(true);
    });

    it('refuses a Topic Alias of 0 with DISCONNECT 0x94 [MQTT-3.3.2-8]', async () => {
      const r = await s.raw();
      await r.connect({ clientId: uid('ta0') });
      r.send({ cmd: 'publish', topic: topicFor('zero'), payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 0 } } as IPublishPacket);
      await r.waitClosed();
      expect(r.packets.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x94 });
    });

    it('treats an empty topic with an unknown alias as a protocol error: DISCONNECT 0x82 (§3.3.4)', async () => {
      const r = await s.raw();
      await r.connect({ clientId: uid('tau') });
      r.send({ cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, properties: { topicAlias: 9 } } as IPublishPacket);
      await r.waitClosed();
      expect(r.packets.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x82 });
    });
  });
}
