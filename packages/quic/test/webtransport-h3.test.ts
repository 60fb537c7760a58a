/**
 * WebTransport over HTTP/3 with a Node client speaking HTTP/3 the way Chromium does (see
 * wt-h3-client.ts): sessions on /mqtt, MQTT over each bidirectional stream, messages both ways
 * with a TCP client, refusals (wrong path, wrong ALPN, unknown session) and garbage at every
 * layer closing only what it must.
 */
import type { ConnectInfo } from '@junction/broker-core';
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H3 } from '../src/webtransport/index.js';
import { H3TestClient } from './wt-h3-client.js';
import { exchangeBulk, startWtBroker, type WtBroker } from './wt-helpers.js';

let b: WtBroker;
beforeAll(async () => {
  b = await startWtBroker({ broker: { config: { allow_anonymous: true } } });
});
afterAll(async () => {
  await b?.stop();
});

function tcpClient(): TestClient {
  const id = uid('tcp');
  return new TestClient(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }), id);
}

function connectedInfo(clientId: string): Promise<ConnectInfo> {
  return new Promise((resolve) => {
    const off = b.broker.hooks.on('client.connected', (client, info) => {
      if (client.clientId !== clientId) return;
      off();
      resolve(info);
    });
  });
}

describe('MQTT over WebTransport (HTTP/3)', () => {
  it('a session on /mqtt carries MQTT.js over a bidirectional stream, both ways with a TCP client', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const session = await h3.session('/mqtt', b.h3Port);
    expect(session.status).toBe(200);

    const wtId = uid('wt');
    const info = connectedInfo(wtId);
    const stream = await h3.openStream(session.id);
    const wt = new TestClient(new mqtt.MqttClient(() => stream as never, { clientId: wtId, protocolVersion: 5, reconnectPeriod: 0 }), wtId);
    await wt.connected;
    const seen = await info;
    expect(seen.listener).toBe('wt:default');
    expect(seen.peer).toMatch(/^127\.0\.0\.1:\d+$/);

    const tcp = tcpClient();
    await tcp.connected;
    const down = topicFor('down');
    const up = topicFor('up');
    await wt.client.subscribeAsync(down, { qos: 1 });
    await tcp.client.subscribeAsync(up, { qos: 1 });

    await tcp.client.publishAsync(down, 'to wt', { qos: 1 });
    const [m1] = await wt.waitMessages(1, down);
    expect(m1!.text).toBe('to wt');
    await wt.client.publishAsync(up, 'from wt', { qos: 1 });
    const [m2] = await tcp.waitMessages(1, up);
    expect(m2!.text).toBe('from wt');
    expect(b.wt.stats()).toMatchObject({ connections: 1, sessions: 1 });

    await wt.client.endAsync();
    await tcp.client.endAsync();
    await h3.close();
  });

  it('moves more than the initial flow control windows both ways (300 KB each way, in 1 KB and 100 KB messages)', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const session = await h3.session('/mqtt', b.h3Port);
    const id = uid('bulk');
    const stream = await h3.openStream(session.id);
    const c = new TestClient(new mqtt.MqttClient(() => stream as never, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }), id);
    await c.connected;
    const tcp = tcpClient();
    await tcp.connected;
    await exchangeBulk(c, tcp);
    await c.client.endAsync();
    await tcp.client.endAsync();
    await h3.close();
  });

  it('each stream of one session is its own MQTT connection; garbage on one closes only that one', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const session = await h3.session('/mqtt', b.h3Port);
    const goodId = uid('good');
    const goodStream = await h3.openStream(session.id);
    const good = new TestClient(new mqtt.MqttClient(() => goodStream as never, { clientId: goodId, protocolVersion: 4, reconnectPeriod: 0 }), goodId);
    await good.connected;
    const t = topicFor('g');
    await good.client.subscribeAsync(t, { qos: 0 });

    const bad = await h3.openStream(session.id);
    const badClosed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    bad.on('error', () => {});
    bad.on('data', () => {});
    bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]));
    await badClosed;

    // The session, its other stream and the connection are untouched.
    await good.client.publishAsync(t, 'still here', { qos: 0 });
    const [m] = await good.waitMessages(1, t);
    expect(m!.text).toBe('still here');
    expect(good.isClosed).toBe(false);
    await good.client.endAsync();
    await h3.close();
  });

  it('another path gets 404 and no session; a plain GET gets 404', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const refusedBefore = b.wt.stats().sessions_refused!;
    expect((await h3.session('/other', b.h3Port)).status).toBe(404);
    expect(b.wt.stats().sessions_refused).toBe(refusedBefore + 1);
    const get = await h3.request([
      [':method', 'GET'],
      [':scheme', 'https'],
      [':authority', '127.0.0.1'],
      [':path', '/mqtt'],
    ]);
    expect(get.status).toBe(404);
    // The connection still serves a good session.
    expect((await h3.session('/mqtt', b.h3Port)).status).toBe(200);
    await h3.close();
  });

  it('a WebTransport stream naming no open session is reset; the connection lives on', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const stray = await h3.openStream(4000);
    const closed = new Promise<void>((resolve) => stray.once('close', () => resolve()));
    stray.on('error', () => {});
    stray.resume();
    await closed;
    expect((await h3.session('/mqtt', b.h3Port)).status).toBe(200);
    await h3.close();
  });

  it('a wrong ALPN is refused at the handshake', async () => {
    await expect(H3TestClient.connect(b.h3Port, { alpn: 'mqtt' })).rejects.toThrow();
  });

  it('a control stream that does not start with SETTINGS closes the connection with H3_MISSING_SETTINGS', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl(Buffer.from([0x00, 0x07, 0x01, 0x00])); // control stream, GOAWAY first
    const close = await h3.closed;
    expect(close).toEqual({ isApp: true, errorCode: H3.MISSING_SETTINGS });
  });

  it('closing ends the session: the MQTT connection on it goes too', async () => {
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const session = await h3.session('/mqtt', b.h3Port);
    const id = uid('gone');
    const stream = await h3.openStream(session.id);
    const c = new TestClient(new mqtt.MqttClient(() => stream as never, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }), id);
    await c.connected;
    const gone = new Promise<void>((resolve) => {
      const off = b.broker.hooks.on('client.disconnected', (client) => {
        if (client.clientId !== id) return;
        off();
        resolve();
      });
    });
    // FIN on the CONNECT stream ends the session (draft-ietf-webtransport-http3 §6).
    await session.connect.writable.close();
    await gone;
    await c.client.endAsync(true);
    await h3.close();
  });
});
