/**
 * Retained messages: store, replace, clear, wildcard matching on subscribe, the RETAIN flag on
 * delivery, MQTT 5 Retain As Published and Retain Handling, and `$` topics kept out of `#`.
 *
 * Clauses: MQTT 5.0 numbering first; MQTT 3.1.1 where it differs.
 */
import { SysPublisher } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function retainBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('retain', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    // 5.0 [MQTT-3.3.1-5], [MQTT-3.3.1-9]; 3.1.1 [MQTT-3.3.1-5], [MQTT-3.3.1-8]
    it('stores a retained message and sends it to a new subscription with RETAIN 1 [MQTT-3.3.1-5] [MQTT-3.3.1-9]', async () => {
      const t = topicFor('set');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'kept', { qos: 1, retain: true });
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const [m] = await sub.waitMessages(1, t);
      expect([m!.topic, m!.text, m!.retain, m!.qos]).toEqual([t, 'kept', true, 1]);
      await s.flush(sub, pub);
      expect(sub.on(t)).toHaveLength(1);
    });

    it('replaces the retained message of a topic with the newer one [MQTT-3.3.1-5]', async () => {
      const t = topicFor('replace');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'first', { qos: 1, retain: true });
      await pub.client.publishAsync(t, 'second', { qos: 1, retain: true });
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      await sub.waitMessages(1, t);
      await s.flush(sub, pub);
      expect(sub.on(t).map((m) => [m.text, m.retain])).toEqual([['second', true]]);
    });

    // 5.0 [MQTT-3.3.1-6] [MQTT-3.3.1-7]; 3.1.1 [MQTT-3.3.1-10] [MQTT-3.3.1-11]
    it('clears the retained message on an empty retained payload, which existing subscribers still receive [MQTT-3.3.1-6]', async () => {
      const t = topicFor('clear');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'soon gone', { qos: 1, retain: true });
      const live = await s.connect();
      await live.client.subscribeAsync(t, { qos: 1 });
      await live.waitMessages(1, t);
      await pub.client.publishAsync(t, '', { qos: 1, retain: true });
      const got = await live.waitMessages(2, t);
      expect(got[1]!.payload.length).toBe(0);
      // A new subscription finds nothing: the empty message is not stored either.
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      await s.flush(sub, pub);
      expect(sub.on(t)).toEqual([]);
    });

    // 5.0 [MQTT-3.3.1-8]; 3.1.1 [MQTT-3.3.1-12]
    it('keeps the retained message when a non-retained message is published on the topic [MQTT-3.3.1-8]', async () => {
      const t = topicFor('keep');
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'retained', { qos: 1, retain: true });
      await pub.client.publishAsync(t, 'not retained', { qos: 1, retain: false });
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      await sub.waitMessages(1, t);
      await s.flush(sub, pub);
      expect(sub.on(t).map((m) => m.text)).toEqual(['retained']);
    });

    it('sends the retained messages matching a wildcard filter, and only those (§4.7)', async () => {
      const t = topicFor('wild');
      const pub = await s.connect();
      for (const leaf of ['a/1', 'b/1', 'a/2', 'a/1/deep']) await pub.client.publishAsync(`${t}/${leaf}`, leaf, { qos: 1, retain: true });
      const plus = await s.connect();
      await plus.client.subscribeAsync(`${t}/+/1`, { qos: 1 });
      await plus.waitMessages(2, t);
      await s.flush(plus, pub);
      expect(plus.on(t).map((m) => m.text).sort()).toEqual(['a/1', 'b/1']);
      expect(plus.on(t).every((m) => m.retain)).toBe(true);

      const hash = await s.connect();
      await hash.client.subscribeAsync(`${t}/a/#`, { qos: 1 });
      await hash.waitMessages(3, t);
      await s.flush(hash, pub);
      expect(hash.on(t).map((m) => m.text).sort()).toEqual(['a/1', 'a/1/deep', 'a/2']);
    });

    // 5.0 [MQTT-3.3.1-12]; 3.1.1 [MQTT-3.3.1-9]
    it('clears RETAIN on delivery to an established subscription [MQTT-3.3.1-12]', async () => {
      const t = topicFor('live');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const pub = await s.connect();
      await pub.client.publishAsync(t, 'live retained', { qos: 1, retain: true });
      const [m] = await sub.waitMessages(1, t);
      expect([m!.text, m!.retain]).toEqual(['live retained', false]);
    });

    if (v5) {
      it('keeps RETAIN on live delivery for a Retain As Published subscription [MQTT-3.3.1-13]', async () => {
        const t = topicFor('rap');
        const sub = await s.connect();
        await sub.client.subscribeAsync(t, { qos: 1, rap: true });
        const pub = await s.connect();
        await pub.client.publishAsync(t, 'flagged', { qos: 1, retain: true });
        await pub.client.publishAsync(t, 'plain', { qos: 1, retain: false });
        const got = await sub.waitMessages(2, t);
        expect(got.map((m) => [m.text, m.retain])).toEqual([
          ['flagged', true],
          ['plain', false],
        ]);
      });

      it('Retain Handling 0 sends retained messages on every subscribe [MQTT-3.3.1-9]', async () => {
        const t = topicFor('rh0');
        const pub = await s.connect();
        await pub.client.publishAsync(t, 'r', { qos: 1, retain: true });
        const sub = await s.connect();
        await sub.client.subscribeAsync(t, { qos: 1, rh: 0 });
        await sub.waitMessages(1, t);
        await sub.client.subscribeAsync(t, { qos: 1, rh: 0 });
        const got = await sub.waitMessages(2, t);
        expect(got.map((m) => [m.text, m.retain])).toEqual([
          ['r', true],
          ['r', true],
        ]);
      });

      it('Retain Handling 1 sends retained messages only when the subscription is new [MQTT-3.3.1-10]', async () => {
        const t = topicFor('rh1');
        const pub = await s.connect();
        await pub.client.publishAsync(t, 'r', { qos: 1, retain: true });
        const sub = await s.connect();
        await sub.client.subscribeAsync(t, { qos: 1, rh: 1 });
        await sub.waitMessages(1, t);
        await sub.client.subscribeAsync(t, { qos: 1, rh: 1 });
        await s.flush(sub, pub);
        expect(sub.on(t).map((m) => [m.text, m.retain])).toEqual([['r', true]]);
      });

      it('Retain Handling 2 never sends retained messages on subscribe [MQTT-3.3.1-11]', async () => {
        const t = topicFor('rh2');
        const pub = await s.connect();
        await pub.client.publishAsync(t, 'r', { qos: 1, retain: true });
        const sub = await s.connect();
        await sub.client.subscribeAsync(t, { qos: 1, rh: 2 });
        await s.flush(sub, pub);
        expect(sub.on(t)).toEqual([]);
        // The subscription itself works.
        await pub.client.publishAsync(t, 'live', { qos: 1 });
        const [m] = await sub.waitMessages(1, t);
        expect([m!.text, m!.retain]).toEqual(['live', false]);
      });
    }

    // [MQTT-4.7.2-1]: wildcards at the first level do not match topics starting with `$`.
    it('does not send $SYS retained messages to # or + subscriptions, only to $SYS filters [MQTT-4.7.2-1]', async () => {
      const sys = new SysPublisher(s.h.broker, { sys_msg_interval: 60_000 });
      sys.start(); // publishes `$SYS/brokers/{node}/version` and `sysdescr` retained
      s.defer(() => sys.stop());
      const own = `$SYS/test/${uid('r')}`;
      s.h.broker.publish({ topic: own, payload: Buffer.from('sys retained'), qos: 0, retain: true });

      const hash = await s.connect();
      await hash.client.subscribeAsync('#', { qos: 0 });
      await hash.client.subscribeAsync('+/test/+', { qos: 0 });
      await s.flush(hash);
      expect(hash.messages.filter((m) => m.topic.startsWith('$'))).toEqual([]);

      const dollar = await s.connect();
      await dollar.client.subscribeAsync('$SYS/#', { qos: 0 });
      const version = `$SYS/brokers/${s.h.broker.nodeName}/version`;
      await dollar.waitMessage((m) => m.topic === version, version);
      await dollar.waitMessage((m) => m.topic === own, own);
      expect(dollar.messages.find((m) => m.topic === own)!.retain).toBe(true);
    });
  });
}
