import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttSink, type MqttBridgeSink } from '../src/index.js';
import { freePort, output, startRemoteBroker, until, type RemoteBroker } from './helpers.js';

interface Got {
  topic: string;
  text: string;
  retain: boolean;
}

async function subscriber(url: string, filter: string): Promise<{ client: MqttClient; got: Got[] }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const got: Got[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, text: payload.toString('utf8'), retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

describe('MQTT bridge sink (egress) to a second Junction broker', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let sink: MqttBridgeSink | undefined;
  afterEach(async () => {
    await sink?.stop(200);
    sink = undefined;
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  it('publishes to templated topics with the templated payload', async () => {
    const remote = await startRemoteBroker();
    cleanup.push(() => remote.stop());
    const sub = await subscriber(remote.url, 'bridge/#');
    cleanup.push(() => sub.client.endAsync(true));
    const s = (sink = mqttSink(
      'up',
      { server: `127.0.0.1:${remote.port}`, proto_ver: 'v5' },
      { connector: 'remote', parameters: { topic: 'bridge/${clientid}/${topic}', payload: '${payload.temp}', qos: 1 }, resource_opts: { batch_size: 10, batch_time: 10 } },
    ));
    for (const [cid, t] of [['a', 1], ['b', 2], ['c', 3]] as const) {
      await s.send(output({ clientid: cid }, { topic: 'sensors/room', payload: JSON.stringify({ temp: t }) }));
    }
    await until(() => sub.got.length === 3, 5000, '3 bridged messages');
    expect(sub.got.map((m) => [m.topic, m.text]).sort()).toEqual([
      ['bridge/a/sensors/room', '1'],
      ['bridge/b/sensors/room', '2'],
      ['bridge/c/sensors/room', '3'],
    ]);
    expect(s.stats()).toMatchObject({ status: 'connected', metrics: { matched: 3, success: 3, failed: 0, queuing: 0 } });
  });

  it('buffers while the remote is down and delivers when it comes back', async () => {
    const port = await freePort();
    const s = (sink = mqttSink(
      'later',
      { server: `127.0.0.1:${port}`, reconnect_interval: 100, connect_timeout: 1000 },
      { connector: 'remote', parameters: { topic: 'later/${n}', retain: true } },
    ));
    for (const n of [1, 2, 3]) await s.send(output({ n }));
    await new Promise((r) => setTimeout(r, 250));
    expect(s.stats()).toMatchObject({ status: 'connecting', metrics: { matched: 3, success: 0, failed: 0, queuing: 3 } });

    let remote: RemoteBroker = await startRemoteBroker(port);
    cleanup.push(() => remote.stop());
    await until(() => s.stats().metrics.success === 3, 8000, 'delivery after reconnect');
    // Retained, so a subscriber arriving now sees all three.
    let sub = await subscriber(remote.url, 'later/#');
    await until(() => sub.got.length === 3, 5000, 'retained messages');
    expect(sub.got.map((m) => [m.topic, JSON.parse(m.text)]).sort()).toEqual([
      ['later/1', { n: 1 }],
      ['later/2', { n: 2 }],
      ['later/3', { n: 3 }],
    ]);
    await sub.client.endAsync(true);

    // Down again, then back: the next messages wait in the buffer.
    await remote.stop();
    await until(() => s.stats().status !== 'connected', 5000, 'disconnect seen');
    await s.send(output({ n: 4 }));
    expect(s.stats().metrics.queuing).toBe(1);
    remote = await startRemoteBroker(port);
    await until(() => s.stats().metrics.success === 4, 8000, 'delivery after second reconnect');
    sub = await subscriber(remote.url, 'later/#');
    cleanup.push(() => sub.client.endAsync(true));
    await until(() => sub.got.length === 1, 5000, 'retained message 4');
    expect(sub.got[0]!.topic).toBe('later/4');
    expect(s.stats().metrics).toMatchObject({ success: 4, failed: 0, dropped: 0 });
  });
});
