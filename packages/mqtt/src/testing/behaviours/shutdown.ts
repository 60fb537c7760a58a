/**
 * Server shutdown: stopping the listener tells MQTT 5 clients why (DISCONNECT 0x8B) and closes
 * every connection.
 */
import { describe, expect, it } from 'vitest';
import type { TransportFixture } from '../harness.js';
import { useScope, type ProtocolVersion } from './helpers.js';

export function shutdownBehaviour(fixture: TransportFixture, version: ProtocolVersion): void {
  describe('shutdown', () => {
    const s = useScope(fixture, version);
    const v5 = version === 5;

    it(`closes every connection on stop${v5 ? ' with DISCONNECT 0x8B (Server shutting down)' : ''} (§3.14)`, async () => {
      const h = await s.startHarness();
      const a = await s.connect({ harness: h });
      const b = await s.connect({ harness: h, ...s.persistent() });
      await h.stop();
      await a.waitClosed();
      await b.waitClosed();
      for (const c of [a, b]) {
        if (v5) expect(c.disconnectPacket?.reasonCode).toBe(0x8b);
        else expect(c.disconnectPacket).toBeUndefined();
      }
      // Nothing listens any more.
      const late = s.open({ harness: h, connectTimeout: 1000 });
      await expect(late.connected).rejects.toThrow();
    });

    it("reports the connections' end to the core as 'server_shutdown' (client.disconnected hook)", async () => {
      const h = await s.startHarness();
      const c = await s.connect({ harness: h });
      const closed = s.waitHook('client.disconnected', (cl) => cl.clientId === c.clientId, 3000, h.broker.hooks);
      await h.stop();
      const [, reason] = await closed;
      expect(reason).toBe('server_shutdown');
    });
  });
}
