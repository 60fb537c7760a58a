/** The listener's lifecycle and limits: max_connections, stats, idempotent stop, a busy port. */
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import { describe, expect, it } from 'vitest';
import { MqttQuicClient, quicListenersFactory } from '../src/quic/index.js';
import { quicClientOptions, quicListenerConfig } from './quic-fixture.js';
import { RawStream } from './quic-raw.js';

describe('listeners.quic', () => {
  it('closes connections over max_connections and counts them; stop is idempotent', async () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
    const adapter = quicListenersFactory.create(ctx, { default: quicListenerConfig({ max_connections: 1 }) });
    const [info] = await adapter.start();
    expect(info).toMatchObject({ type: 'quic', name: 'default', host: '127.0.0.1' });
    const clients: MqttQuicClient[] = [];
    try {
      const first = await MqttQuicClient.connect(quicClientOptions(info!.port));
      clients.push(first);
      const raw1 = new RawStream(first.stream);
      raw1.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'first', clean: true, keepalive: 60 });
      await raw1.next('connack');
      expect(adapter.stats()).toMatchObject({ connections: 1, connections_refused: 0 });

      const second = await MqttQuicClient.connect(quicClientOptions(info!.port)).catch((err: unknown) => err as Error);
      if (!(second instanceof Error)) {
        clients.push(second);
        const raw2 = new RawStream(second.stream);
        raw2.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'second', clean: true, keepalive: 60 });
        await raw2.waitClosed();
        expect(raw2.packets).toEqual([]);
      }
      expect(adapter.stats()).toMatchObject({ connections: 1, connections_refused: 1 });
      raw1.send({ cmd: 'pingreq' });
      await raw1.next('pingresp');
    } finally {
      for (const c of clients) await c.close();
      await adapter.stop({ drainMs: 200 });
      await adapter.stop({ drainMs: 200 });
      await broker.close();
    }
  });

  it('fails to start on a UDP port in use, and can be stopped after', async () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
    const a = quicListenersFactory.create(ctx, { default: quicListenerConfig() });
    const [info] = await a.start();
    const b = quicListenersFactory.create(ctx, { default: quicListenerConfig({ bind: { host: '127.0.0.1', port: info!.port } }) });
    await expect(b.start()).rejects.toThrow();
    await b.stop();
    await a.stop({ drainMs: 100 });
    await broker.close();
  });
});
