/**
 * MQTT 5 Maximum Packet Size, both ways: the broker never sends a client a packet larger than the
 * client announced, and refuses packets larger than its own limit. MQTT 5 only for the client
 * limit; the broker limit applies to every version.
 */
import { describe, expect, it } from 'vitest';
import type { IPublishPacket } from 'mqtt-packet';
import type { TransportFixture } from '../harness.js';
import { topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function maximumPacketSizeBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('maximum packet size', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    if (v5) {
      // [MQTT-3.1.2-24] the server must not send packets exceeding the client's Maximum Packet
      // Size; [MQTT-3.1.2-25] it discards them as if delivered.
      it('does not send a 1 KiB message to a client with Maximum Packet Size 100, but does send a small one after it [MQTT-3.1.2-24] [MQTT-3.1.2-25]', async () => {
        const t = topicFor('mps');
        const small = await s.connect({ properties: { maximumPacketSize: 100 } });
        await small.client.subscribeAsync(t, { qos: 1 });
        const big = await s.connect();
        await big.client.subscribeAsync(t, { qos: 1 });
        const pub = await s.connect();
        await pub.client.publishAsync(t, Buffer.alloc(1024, 0x61), { qos: 1 });
        await pub.client.publishAsync(t, 'tiny', { qos: 1 });
        await pub.client.publishAsync(t, Buffer.alloc(1024, 0x62), { qos: 0 });
        await pub.client.publishAsync(t, 'tiny again', { qos: 0 });
        const got = await small.waitMessages(2, t);
        expect(got.map((m) => m.text)).toEqual(['tiny', 'tiny again']);
        // MQTT.js would have failed with 0x95 had an oversized packet arrived.
        expect(small.errors).toEqual([]);
        expect(small.isClosed).toBe(false);
        // A client without the limit gets everything.
        const all = await big.waitMessages(4, t);
        expect(all.map((m) => m.payload.length)).toEqual([1024, 4, 1024, 10]);
        // The dropped QoS 1 message does not block the inflight window: more still flows.
        for (let i = 0; i < 40; i++) await pub.client.publishAsync(t, Buffer.alloc(200), { qos: 1 });
        await pub.client.publishAsync(t, 'last', { qos: 1 });
        await small.waitMessage((m) => m.text === 'last', 'the message after 40 oversized ones');
      });
    }

    if (v5) {
      // [MQTT-3.4.2-2] (PUBACK), [MQTT-3.14.2-3] (DISCONNECT): the Reason String is left out when
      // it would take the packet over the receiver's Maximum Packet Size [MQTT-3.1.2-24].
      it('leaves out a Reason String that would exceed the client\'s Maximum Packet Size (PUBACK 0x87) [MQTT-3.4.2-2] [MQTT-3.1.2-24]', async () => {
        const c = await s.connect({ properties: { maximumPacketSize: 32 } });
        c.client.publish(`$SYS/${uid('mps')}`, 'x', { qos: 1 }, () => {});
        await c.until(() => c.packets.some((p) => p.cmd === 'puback') || c.isClosed || c.errors.length > 0, 'PUBACK, or a client error');
        // MQTT.js drops the connection with 0x95 when a packet exceeds the size it announced.
        expect(c.errors.map((e) => e.message)).toEqual([]);
        expect(c.packets.find((p) => p.cmd === 'puback')).toMatchObject({ reasonCode: 0x87 });
        expect(c.isClosed).toBe(false);
      });

      it('leaves out a Reason String that would exceed the client\'s Maximum Packet Size (DISCONNECT 0x82) [MQTT-3.14.2-3]', async () => {
        const c = await s.connect({ properties: { maximumPacketSize: 32 } });
        c.client.subscribe(`$share/g/${topicFor('nl')}`, { qos: 1, nl: true }); // protocol error
        await c.waitClosed();
        expect(c.errors.map((e) => e.message)).toEqual([]);
        expect(c.disconnectPacket?.reasonCode).toBe(0x82);
      });
    }

    it(`closes the connection of a client sending a packet over the broker's maximum${v5 ? ' with DISCONNECT 0x95' : ''} (§3.1.2.11.4)`, async () => {
      const h = await s.startHarness({ mqtt: { max_packet_size: 1024 } });
      if (v5) {
        const c = await s.connect({ harness: h });
        expect(c.connack!.properties?.maximumPacketSize).toBe(1024);
      }
      const r = await s.raw(h);
      await r.connect({ clientId: uid('big') });
      r.send({ cmd: 'publish', topic: topicFor('big'), payload: Buffer.alloc(2000), qos: 0, retain: false, dup: false } as IPublishPacket);
      await r.waitClosed();
      if (v5) expect(r.packets.find((p) => p.cmd === 'disconnect')).toMatchObject({ reasonCode: 0x95 });
    });
  });
}
