/**
 * EMQX's listener limiters on `listeners.quic`, with the TCP listener's semantics:
 * max_conn_rate holds QUIC connections over the rate (handshake done, streams unread) and lets
 * them in as the rate allows; messages_rate / bytes_rate stop reading a client's streams until
 * its budget refills, so every message still arrives, in order, while other connections of the
 * same listener (and UDP socket) go on.
 */
import { BrokerCore, ConfigError, createAdapterContext, type ConnectInfo } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import { uid } from '@junction/mqtt/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { quicListenersFactory } from '../src/quic/index.js';
import { quicListenerConfig } from './quic-fixture.js';
import { startQuicBroker, type QuicBroker } from './quic-harness.js';
import { RawStream } from './quic-raw.js';

const brokers: QuicBroker[] = [];

async function start(listener: Parameters<typeof startQuicBroker>[0]['listener']): Promise<QuicBroker> {
  const b = await startQuicBroker({ listener, broker: { config: { allow_anonymous: true } } });
  brokers.push(b);
  return b;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop();
});

describe('listeners.quic max_conn_rate', () => {
  it('admits a burst of one period, holds the rest unread, then admits them all', async () => {
    const b = await start({ max_conn_rate: '2/s' });
    const quics = await Promise.all(Array.from({ length: 4 }, () => b.quic()));
    const raws = quics.map((q) => new RawStream(q.stream));
    raws.forEach((r, i) => r.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: `held-${i}`, clean: true, keepalive: 60 }));
    await eventually(() => b.listener.waiting === 2, 'two connections waiting');
    // The waiting ones have not been read: no session yet.
    expect(b.broker.stats().connections).toBeLessThanOrEqual(2);
    const acks = await Promise.all(raws.map((r) => r.next('connack', undefined, 5000)));
    expect(acks.map((a) => a.reasonCode)).toEqual([0, 0, 0, 0]);
    expect(b.listener.waiting).toBe(0);
  });

  it('stop closes the connections still waiting', async () => {
    const b = await start({ max_conn_rate: '1/m' });
    const first = new RawStream((await b.quic()).stream);
    first.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: uid('first'), clean: true, keepalive: 60 });
    await first.next('connack');
    const waiting = new RawStream((await b.quic()).stream);
    waiting.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: uid('waiting'), clean: true, keepalive: 60 });
    await eventually(() => b.listener.waiting === 1, 'one connection waiting');
    await b.listener.stop(200);
    await waiting.waitClosed();
    expect(waiting.packets).toEqual([]);
  });

  it('a bad rate is a ConfigError naming the key', () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
    expect(() => quicListenersFactory.create(ctx, { x: quicListenerConfig({ messages_rate: 'lots' }) })).toThrow(ConfigError);
    expect(() => quicListenersFactory.create(ctx, { x: quicListenerConfig({ bytes_rate: '1MB' }) })).toThrow(/listeners\.quic\.x\.bytes_rate/);
    void broker.close();
  });
});

describe.each(['single', 'multi'] as const)('listeners.quic messages_rate and bytes_rate (%s-stream)', (mode) => {
  /**
   * Publish `n` QoS 0 messages at once, far over the budget; see the publisher paused while
   * another client of the listener completes a QoS 1 round trip, then every message arrive, in
   * order.
   */
  async function pump(b: QuicBroker, n: number, payload: Buffer): Promise<void> {
    const { client: sub } = await b.mqttOverQuic({ clientId: uid('sub') });
    await sub.subscribeAsync('rate/q', { qos: 0 });
    const received: string[] = [];
    sub.on('message', (_t, p) => received.push(p.subarray(0, 8).toString()));
    const pubId = uid('pub');
    const { client: pub } = await b.mqttOverQuic({ clientId: pubId }, { mode });
    const conn = [...b.listener.connections].find((c) => c.clientId === pubId)!;
    for (let i = 0; i < n; i++) pub.publish('rate/q', Buffer.concat([Buffer.from(String(i).padStart(8, '0')), payload]), { qos: 0 });
    await eventually(() => conn.limiter!.paused && conn.stream.isPaused(), 'the publisher paused');
    // The paused client holds back nobody else on the listener.
    const { client: other } = await b.mqttOverQuic({ clientId: uid('other') }, { mode });
    await other.publishAsync('rate/other', 'still flowing', { qos: 1 });
    expect(received.length).toBeLessThan(n);
    await eventually(() => received.length === n, `${n} messages`, 15_000);
    expect(received).toEqual(Array.from({ length: n }, (_, i) => String(i).padStart(8, '0')));
    expect(conn.limiter!.pauses).toBeGreaterThan(0);
  }

  it('messages_rate pauses the publisher; every message arrives, in order', async () => {
    const b = await start({ messages_rate: '100/s' });
    await pump(b, 250, Buffer.alloc(200));
  });

  it.runIf(mode === 'single')('bytes_rate pauses the publisher; every byte arrives, in order', async () => {
    const b = await start({ bytes_rate: '64KB/s' });
    await pump(b, 10, Buffer.alloc(16 * 1024));
  });
});

describe('listeners.quic clients as the core sees them', () => {
  it('protocol mqtt, listener quic:<name> (EMQX: listener type quic, proto_name MQTT)', async () => {
    const b = await start({});
    const id = uid('who');
    const seen = new Promise<ConnectInfo>((resolve) => {
      const off = b.broker.hooks.on('client.connected', (_c, info) => {
        if (info.clientId !== id) return;
        off();
        resolve(info);
      });
    });
    await b.mqttOverQuic({ clientId: id });
    const info = await seen;
    expect(info).toMatchObject({ protocol: 'mqtt', protocolVersion: 5, listener: 'quic:default' });
    expect(info.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});
