/**
 * Connection migration: the client moves to another UDP port (as after a NAT rebinding or a
 * phone changing network) and its QUIC connection, so its MQTT connection and session, go on.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startQuicBroker, type QuicBroker } from './quic-harness.js';

let b: QuicBroker;
beforeAll(async () => {
  b = await startQuicBroker();
});
afterAll(() => b.stop());

describe.each(['single', 'multi'] as const)('MQTT over QUIC migration (%s-stream mode)', (mode) => {
  it('keeps the MQTT connection and session when the client changes its source port', async () => {
    const disconnected: string[] = [];
    const peers: string[] = [];
    const offD = b.broker.hooks.on('client.disconnected', (c) => void disconnected.push(c.clientId));
    const offC = b.broker.hooks.on('client.connected', (c) => void peers.push(c.peer));
    try {
      const moverId = `mover-${mode}`;
      const { client: mover, quic } = await b.mqttOverQuic({ clientId: moverId }, { mode });
      const { client: other } = await b.mqttOverQuic({ clientId: `other-${mode}` });
      const got: string[] = [];
      const otherGot: string[] = [];
      mover.on('message', (_t, p) => void got.push(p.toString()));
      other.on('message', (_t, p) => void otherGot.push(p.toString()));
      await mover.subscribeAsync(`mig/${mode}/in`, { qos: 1 });
      await other.subscribeAsync(`mig/${mode}/out`, { qos: 1 });
      await other.publishAsync(`mig/${mode}/in`, 'before', { qos: 1 });
      await vi.waitFor(() => expect(got).toEqual(['before']));

      const before = quic.localPort;
      const after = await quic.rebind();
      expect(after).not.toBe(before);

      // Both directions work from the new address, on the same MQTT connection.
      await mover.publishAsync(`mig/${mode}/out`, 'from-new-port', { qos: 1 });
      await other.publishAsync(`mig/${mode}/in`, 'after', { qos: 2 });
      await vi.waitFor(() => expect(got).toEqual(['before', 'after']));
      await vi.waitFor(() => expect(otherGot).toEqual(['from-new-port']));
      await mover.subscribeAsync(`mig/${mode}/more`, { qos: 0 });
      expect(mover.connected).toBe(true);
      expect(disconnected).not.toContain(moverId);
      expect(peers.filter((p) => p.endsWith(`:${before}`))).toHaveLength(1);
    } finally {
      offD();
      offC();
    }
  });
});
