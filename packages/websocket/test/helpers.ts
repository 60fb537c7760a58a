/**
 * Shared plumbing of the WebSocket listener tests: a broker per describe block with a bystander
 * client that must keep working whatever a test does to its own connection, the connect info the
 * broker saw, and a burst of deliveries counted in WebSocket messages.
 */
import type { ConnectInfo } from '@junction/broker-core';
import { TestClient, topicFor, uid, type BrokerHarness } from '@junction/mqtt/testing';
import mqtt from 'mqtt';
import type { ISubscribePacket } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { wsFixture, type WsHarnessOptions } from '../src/testing/index.js';
import { FrameClient, handshake } from './ws-client.js';

/** A broker with a ws listener for one describe block, and a client that must stay unharmed. */
export function useBroker(opts: WsHarnessOptions = {}, bystanderOptions: mqtt.IClientOptions = {}) {
  const state = {} as { h: BrokerHarness; bystander: TestClient; topic: string; clients: FrameClient[] };
  beforeAll(async () => {
    state.h = await wsFixture.start({ broker: { config: { allow_anonymous: true } }, ...opts });
    state.topic = topicFor('bystander');
    const id = uid('by');
    state.bystander = new TestClient(mqtt.connect(state.h.url, { clientId: id, reconnectPeriod: 0, protocolVersion: 5, ...bystanderOptions }), id);
    await state.bystander.connected;
    await state.bystander.client.subscribeAsync(state.topic, { qos: 1 });
    state.clients = [];
  });
  afterEach(async () => {
    for (const c of state.clients.splice(0)) c.ws.terminate();
    // Whatever the test did to its own connection, the bystander still publishes and receives.
    const payload = uid('alive');
    await state.bystander.client.publishAsync(state.topic, payload, { qos: 1 });
    await state.bystander.waitMessage((m) => m.text === payload, `the bystander's own message ${payload}`);
    expect(state.bystander.isClosed).toBe(false);
  });
  afterAll(async () => {
    await state.bystander?.client.endAsync(true);
    await state.h?.stop();
  });
  /** A raw frame client with subprotocol `mqtt` (or the given ones), closed after the test. */
  const open = async (protocols: string[] = ['mqtt'], version: 3 | 4 | 5 = 4, headers: Record<string, string> = {}): Promise<FrameClient> => {
    const r = await handshake(state.h.url, protocols, { headers });
    if (!r.ok) throw new Error(`handshake refused with HTTP ${r.status}`);
    const c = new FrameClient(r.ws, version);
    state.clients.push(c);
    return c;
  };
  return { state, open };
}

/** Resolves with the ConnectInfo of the next `client.connected` of `clientId`. */
export function waitConnected(h: BrokerHarness): (clientId: string) => Promise<ConnectInfo> {
  const seen = new Map<string, ConnectInfo>();
  const waiters = new Map<string, (i: ConnectInfo) => void>();
  const off = h.broker.hooks.on('client.connected', (client, info) => {
    const w = waiters.get(client.clientId);
    if (w) w(info);
    else seen.set(client.clientId, info);
  });
  return (clientId) =>
    new Promise<ConnectInfo>((resolve, reject) => {
      const done = (i: ConnectInfo) => {
        clearTimeout(t);
        off();
        resolve(i);
      };
      const t = setTimeout(() => {
        off();
        reject(new Error(`no client.connected for ${clientId}`));
      }, 3000);
      const early = seen.get(clientId);
      if (early) done(early);
      else waiters.set(clientId, done);
    });
}

/**
 * Subscribe `c`, publish `n` QoS 0 messages to it from the broker in one tick, and count the
 * WebSocket messages that carried them.
 */
export async function burst(h: BrokerHarness, c: FrameClient, n: number): Promise<{ count: number; packets: number }> {
  const t = topicFor('burst');
  await c.connect(uid('burst'));
  c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 0 }] } as ISubscribePacket);
  await c.next('suback');
  const before = c.frames.length;
  const packetsBefore = c.packets.length;
  for (let i = 0; i < n; i++) h.broker.publish({ topic: t, payload: Buffer.from(`m${i}`), qos: 0, retain: false });
  await c.until(() => c.packets.filter((p) => p.cmd === 'publish').length === n, `${n} publishes`);
  return { count: c.frames.length - before, packets: c.packets.length - packetsBefore };
}
