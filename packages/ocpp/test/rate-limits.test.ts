/**
 * `messages_rate` on an OCPP listener: a charger sending more than its budget is not read for a
 * while (back-pressure on its socket), every CALL is still answered, and the pause, longer than
 * the silence its heartbeat interval allows, does not count as the charger's silence.
 */
import { BrokerCore, ConfigError, createAdapterContext } from '@junction/broker-core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { OcppGateway, resolveOcppConfig } from '../src/index.js';
import { eventually, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

describe('OCPP messages_rate', () => {
  it('sequential calls over the budget are slowed down, never refused', async () => {
    const rig = await startRig({ ocpp: { listeners: { ws: { default: { bind: { host: '127.0.0.1', port: 0 }, messages_rate: '20/s' } } } } });
    const backend = await rig.backend();
    backend.answer('Heartbeat', () => ({ currentTime: '2024-01-01T00:00:00Z' }));
    const cp = await rig.charger('CP-seq');
    for (let i = 0; i < 30; i++) expect(await cp.call('Heartbeat', {})).toEqual({ currentTime: '2024-01-01T00:00:00Z' });
    expect(rig.gateway.stats().rate_limited).toBeGreaterThan(0);
    expect(backend.on('ocpp/cp/CP-seq')).toHaveLength(30);
  });

  it('a burst is read, then the charger waits; the pause, longer than its heartbeat allows, is not silence', async () => {
    const rig = await startRig({
      ocpp: {
        default_heartbeat_interval: 1000,
        heartbeat_checking_times_backoff: 2,
        listeners: { ws: { default: { bind: { host: '127.0.0.1', port: 0 }, messages_rate: '10/s' } } },
      },
    });
    const backend = await rig.backend();
    backend.answer('Heartbeat', () => ({ currentTime: '2024-01-01T00:00:00Z' }));
    const ws = new WebSocket(`${rig.endpoint}/CP-burst`, ['ocpp1.6']);
    const replies: unknown[][] = [];
    const closes: number[] = [];
    ws.on('message', (data) => replies.push(JSON.parse(data.toString()) as unknown[]));
    ws.on('close', (code) => closes.push(code));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    try {
      // 40 CALLs in one go: 30 over a budget of 10 per second, about 3 s of pause, while the
      // heartbeat settings allow 2 s of silence. (One CALL at a time is OCPP's rule: the gateway
      // answers the extra ones with CALLERROR; they are messages all the same.)
      // One TCP write, so that the gateway reads the whole burst at once.
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      socket.cork();
      for (let i = 0; i < 40; i++) ws.send(JSON.stringify([2, `m${i}`, 'Heartbeat', {}]));
      socket.uncork();
      await eventually(() => rig.gateway.stats().rate_limited > 0, 'the charger paused');
      // The one CALL of the burst the gateway took is answered by the back end meanwhile.
      await eventually(() => replies.some((r) => r[0] === 3), 'the answer to the burst\'s CALL');
      // Sent during the pause: read, and answered, once it ends.
      ws.send(JSON.stringify([2, 'late', 'Heartbeat', {}]));
      await eventually(() => replies.some((r) => r[1] === 'late'), 'the answer to the late CALL', 8000);
      expect(replies.find((r) => r[1] === 'late')).toEqual([3, 'late', { currentTime: '2024-01-01T00:00:00Z' }]);
      expect(closes).toEqual([]);
    } finally {
      ws.terminate();
    }
  });

  it('a bad messages_rate is a ConfigError naming the key', () => {
    const broker = new BrokerCore();
    const config = resolveOcppConfig({ listeners: { ws: { default: { bind: { host: '127.0.0.1', port: 0 }, messages_rate: '10 per second' as never } } } });
    expect(() => new OcppGateway(createAdapterContext(broker), config)).toThrow(ConfigError);
    void broker.close();
  });
});
