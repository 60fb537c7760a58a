/**
 * WebTransport over HTTP/2 (for clients whose UDP is blocked): the Node WebTransport client of
 * @fails-components/webtransport (forceReliable) opens a session on /mqtt and runs MQTT.js over
 * a bidirectional stream, exchanging messages with a TCP client; another path is refused;
 * garbage on one stream closes only that MQTT connection.
 */
import type { ConnectInfo } from '@junction/broker-core';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFailsWebTransport } from '../src/webtransport/fails-loader.js';
import { WebStreamDuplex } from '../src/webtransport/index.js';
import { exchangeBulk, startWtBroker, type WtBroker } from './wt-helpers.js';

type FailsWebTransport = InstanceType<Awaited<ReturnType<typeof loadFailsWebTransport>>['WebTransport']>;

let b: WtBroker;
const open: FailsWebTransport[] = [];
beforeAll(async () => {
  b = await startWtBroker({ broker: { config: { allow_anonymous: true } } });
});
afterAll(async () => {
  for (const wt of open) {
    try {
      wt.close();
    } catch {
      // closed already
    }
  }
  await b?.stop();
});

async function session(path = '/mqtt'): Promise<FailsWebTransport> {
  const { WebTransport } = await loadFailsWebTransport();
  const wt = new WebTransport(`https://127.0.0.1:${b.h2Port}${path}`, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: b.cert.hash }],
    forceReliable: true,
  } as never);
  wt.closed.catch(() => {});
  open.push(wt);
  await wt.ready;
  return wt;
}

async function mqttOver(wt: FailsWebTransport, clientId: string): Promise<TestClient> {
  const stream = new WebStreamDuplex(await wt.createBidirectionalStream());
  return new TestClient(new mqtt.MqttClient(() => stream as never, { clientId, protocolVersion: 5, reconnectPeriod: 0 }), clientId);
}

describe('MQTT over WebTransport (HTTP/2, @fails-components/webtransport client)', () => {
  it('connects, subscribes and publishes; a TCP client receives it and answers', async () => {
    const wt = await session();
    const id = uid('h2');
    const connected = new Promise<ConnectInfo>((resolve) => {
      const off = b.broker.hooks.on('client.connected', (client, info) => {
        if (client.clientId !== id) return;
        off();
        resolve(info);
      });
    });
    const c = await mqttOver(wt, id);
    await c.connected;
    const info = await connected;
    expect(info.listener).toBe('wt:default');
    expect(info.peer).toMatch(/^127\.0\.0\.1:\d+$/);

    const tcpId = uid('tcp');
    const tcp = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { clientId: tcpId, protocolVersion: 5, reconnectPeriod: 0 }), tcpId);
    await tcp.connected;
    const up = topicFor('h2-up');
    const down = topicFor('h2-down');
    await tcp.client.subscribeAsync(up, { qos: 1 });
    await c.client.subscribeAsync(down, { qos: 1 });

    await c.client.publishAsync(up, 'over http/2', { qos: 1 });
    const [m1] = await tcp.waitMessages(1, up);
    expect(m1!.text).toBe('over http/2');
    expect(m1!.qos).toBe(1);

    await tcp.client.publishAsync(down, 'back over tcp', { qos: 1 });
    const [m2] = await c.waitMessages(1, down);
    expect(m2!.text).toBe('back over tcp');

    await c.client.endAsync();
    await tcp.client.endAsync();
  });

  it('moves more than the initial flow control windows both ways (300 KB each way, in 1 KB and 100 KB messages)', async () => {
    const wt = await session();
    const id = uid('bulk');
    const c = await mqttOver(wt, id);
    await c.connected;
    const tcpId = uid('tcp');
    const tcp = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { clientId: tcpId, protocolVersion: 5, reconnectPeriod: 0 }), tcpId);
    await tcp.connected;
    await exchangeBulk(c, tcp);
    await c.client.endAsync();
    await tcp.client.endAsync();
  });

  it('a session to another path is refused (404)', async () => {
    await expect(session('/not-mqtt')).rejects.toThrow();
  });

  it('garbage on one stream closes that MQTT connection only', async () => {
    const wt = await session();
    const id = uid('keep');
    const keep = await mqttOver(wt, id);
    await keep.connected;
    const t = topicFor('keep');
    await keep.client.subscribeAsync(t, { qos: 0 });

    const bad = new WebStreamDuplex(await wt.createBidirectionalStream());
    bad.on('error', () => {});
    bad.resume();
    const closed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    bad.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await closed;

    await keep.client.publishAsync(t, 'alive', { qos: 0 });
    const [m] = await keep.waitMessages(1, t);
    expect(m!.text).toBe('alive');
    expect(keep.isClosed).toBe(false);
    await keep.client.endAsync();
  });
});
