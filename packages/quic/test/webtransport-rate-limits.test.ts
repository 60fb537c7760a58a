/**
 * EMQX's listener limiters on `listeners.webtransport`, per MQTT connection (one per
 * WebTransport stream), over HTTP/3: max_conn_rate holds new MQTT streams unread and lets them
 * in as the rate allows; messages_rate stops reading a publisher's stream until its budget
 * refills, every message still arrives in order, and another MQTT connection on the same session
 * and QUIC connection goes on meanwhile.
 */
import { TestClient, topicFor, uid } from '@junction/mqtt/testing';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebTransportListenerConfig, WebTransportListenerGroup } from '../src/webtransport/index.js';
import { H3TestClient } from './wt-h3-client.js';
import { startWtBroker, type WtBroker } from './wt-helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
});

async function setup(listener: Partial<WebTransportListenerConfig>): Promise<{ b: WtBroker; h3: H3TestClient; session: number }> {
  const b = await startWtBroker({ broker: { config: { allow_anonymous: true } }, listener: { http2: { enable: false, bind: { host: '127.0.0.1', port: 0 } }, ...listener } });
  cleanups.push(() => b.stop());
  const h3 = await H3TestClient.connect(b.h3Port);
  cleanups.push(() => h3.close());
  await h3.openControl();
  const s = await h3.session('/mqtt', b.h3Port);
  expect(s.status).toBe(200);
  return { b, h3, session: s.id };
}

async function mqttOverStream(h3: H3TestClient, session: number, clientId = uid('wt')): Promise<TestClient> {
  const stream = await h3.openStream(session);
  const c = new TestClient(new mqtt.MqttClient(() => stream as never, { clientId, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 8000 }), clientId);
  cleanups.push(() => c.client.endAsync(true));
  return c;
}

const endpointOf = (b: WtBroker) => (b.wt as WebTransportListenerGroup).listeners[0]!.endpoint;

describe('listeners.webtransport rate limits (HTTP/3)', () => {
  it('max_conn_rate holds MQTT streams over the rate unread, then admits them all', async () => {
    const { b, h3, session } = await setup({ max_conn_rate: '2/s' });
    const clients = await Promise.all(Array.from({ length: 4 }, () => mqttOverStream(h3, session)));
    const until = Date.now() + 5000;
    while (endpointOf(b).waiting !== 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(endpointOf(b).waiting).toBe(2);
    expect(b.broker.stats().connections).toBeLessThanOrEqual(2);
    const acks = await Promise.all(clients.map((c) => c.connected));
    expect(acks.map((a) => a.reasonCode ?? 0)).toEqual([0, 0, 0, 0]);
    expect(endpointOf(b).waiting).toBe(0);
  });

  it('messages_rate pauses a publisher; another stream goes on; every message arrives, in order', async () => {
    const { b, h3, session } = await setup({ messages_rate: '100/s' });
    const subId = uid('sub');
    const sub = new TestClient(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { clientId: subId, protocolVersion: 5, reconnectPeriod: 0 }), subId);
    cleanups.push(() => sub.client.endAsync(true));
    await sub.connected;
    const t = topicFor('wt-rate');
    await sub.client.subscribeAsync(t, { qos: 0 });
    const pub = await mqttOverStream(h3, session);
    await pub.connected;
    const conn = [...endpointOf(b).connections].find((c) => c.clientId === pub.clientId)!;
    const n = 250;
    for (let i = 0; i < n; i++) pub.client.publish(t, `${String(i).padStart(8, '0')}${'x'.repeat(200)}`, { qos: 0 });
    const until = Date.now() + 5000;
    while (!(conn.limiter!.paused && conn.stream.isPaused()) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(conn.limiter!.paused).toBe(true);
    // Another MQTT connection on the same session (and QUIC connection) is not held back.
    const other = await mqttOverStream(h3, session);
    await other.connected;
    await other.client.publishAsync(topicFor('other'), 'still flowing', { qos: 1 });
    expect(sub.on(t).length).toBeLessThan(n);
    const got = await sub.waitMessages(n, t, 15_000);
    expect(got.map((m) => m.text.slice(0, 8))).toEqual(Array.from({ length: n }, (_, i) => String(i).padStart(8, '0')));
    expect(conn.limiter!.pauses).toBeGreaterThan(0);
  });
});
