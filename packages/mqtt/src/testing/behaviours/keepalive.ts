/**
 * Keep alive: the broker closes a client that stays silent for 1.5 x its keepalive (MQTT 5:
 * DISCONNECT 0x8D) and publishes its will; PINGREQ keeps the connection open. Uses a raw client,
 * which sends nothing unless told to.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { codeOf, sleep, topicFor, uid, useScope, type ProtocolVersion } from './helpers.js';

export function keepaliveBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('keepalive', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    // 5.0 [MQTT-3.1.2-22]; 3.1.1 [MQTT-3.1.2-24]; will: [MQTT-3.1.2-8]
    it(`closes a client silent for 1.5 x keepalive${v5 ? ' with DISCONNECT 0x8D' : ''} and publishes its will [MQTT-3.1.2-22]`, async () => {
      const t = topicFor('ka');
      const sub = await s.connect();
      await sub.client.subscribeAsync(t, { qos: 1 });
      const raw = await s.raw();
      const ack = await raw.connect({
        clientId: uid('ka'),
        keepalive: 1,
        will: { topic: t, payload: Buffer.from('timed out'), qos: 1, retain: false },
      });
      expect(codeOf(ack)).toBe(0);
      const since = Date.now();
      await raw.waitClosed(4000);
      const elapsed = raw.closedAt - since;
      expect(elapsed).toBeGreaterThanOrEqual(1400);
      expect(elapsed).toBeLessThan(3000);
      if (v5) {
        const d = raw.packets.find((p) => p.cmd === 'disconnect');
        expect(d && codeOf(d)).toBe(0x8d);
      } else {
        expect(raw.packets.map((p) => p.cmd)).toEqual(['connack']);
      }
      const [m] = await sub.waitMessages(1, t);
      expect(m!.text).toBe('timed out');
    });

    // 5.0 [MQTT-3.12.4-1]: the server answers PINGREQ with PINGRESP; traffic resets the timer.
    it('keeps a client that sends PINGREQ within the keepalive, answering each with PINGRESP [MQTT-3.12.4-1]', async () => {
      const raw = await s.raw();
      await raw.connect({ clientId: uid('kp'), keepalive: 1 });
      for (let i = 0; i < 3; i++) {
        await sleep(600);
        raw.send({ cmd: 'pingreq' });
        await raw.until(() => raw.packets.filter((p) => p.cmd === 'pingresp').length === i + 1, `pingresp ${i + 1}`);
      }
      // 1.8 s > 1.5 x keepalive, yet still open.
      expect(raw.isClosed).toBe(false);
      expect(raw.packets.filter((p) => p.cmd === 'disconnect')).toEqual([]);
    });

    if (v5) {
      it('overrides the keepalive with Server Keep Alive when server_keepalive is set [MQTT-3.2.2-21]', async () => {
        const h = await s.startHarness({ mqtt: { server_keepalive: 7 } });
        const c = await s.connect({ harness: h, keepalive: 60 });
        expect(c.connack!.properties?.serverKeepAlive).toBe(7);
        const same = await s.connect({ harness: h, keepalive: 7 });
        expect(same.connack!.properties?.serverKeepAlive).toBeUndefined();
      });
    }

    // EMQX reports the disconnect reason (`keepalive_timeout`) to hooks and events.
    it("reports the keepalive timeout to the core as 'keepalive_timeout' (client.disconnected hook)", async () => {
      const raw = await s.raw();
      const clientId = uid('kr');
      await raw.connect({ clientId, keepalive: 1 });
      const [, reason] = await s.waitHook('client.disconnected', (c) => c.clientId === clientId, 4000);
      expect(reason).toBe('keepalive_timeout');
    });
  });
}
