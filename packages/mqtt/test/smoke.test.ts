import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { tcpListenersFactory } from '../src/index.js';

it('publishes and receives over TCP, v4 and v5', async () => {
  const broker = new BrokerCore();
  const adapter = tcpListenersFactory.create(createAdapterContext(broker), { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' } });
  const [info] = await adapter.start();
  for (const protocolVersion of [4, 5] as const) {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${info!.port}`, { protocolVersion, clientId: `s${protocolVersion}` });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${info!.port}`, { protocolVersion });
    await sub.subscribeAsync('a/+', { qos: 1 });
    const got = new Promise<[string, string]>((r) => sub.once('message', (t, p) => r([t, p.toString()])));
    await pub.publishAsync('a/b', 'hello', { qos: 1 });
    expect(await got).toEqual(['a/b', 'hello']);
    await pub.endAsync();
    await sub.endAsync();
  }
  await adapter.stop();
});
