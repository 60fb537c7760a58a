/**
 * Listener limits over real TCP and TLS sockets: max_connections, max_conn_rate (connections over
 * the rate wait unread, then get in), and per-client messages_rate / bytes_rate enforced by not
 * reading the client's socket, so every message still arrives, in order.
 */
import { BrokerCore, ConfigError, createAdapterContext } from '@junction/broker-core';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { sslListenersFactory } from '../src/adapter.js';
import { defaultMqttOptions, type TcpListenerConfig } from '../src/config.js';
import type { StreamListener } from '../src/transport/listener.js';
import { createTcpListener } from '../src/transport/tcp.js';
import { testPki } from '../src/testing/index.js';
import { RawClient, uid } from './packets/raw-client.js';

interface Rig {
  broker: BrokerCore;
  listener: StreamListener;
  port: number;
  url: string;
}

const rigs: Rig[] = [];
const clients: MqttClient[] = [];

async function startRig(over: Partial<TcpListenerConfig>): Promise<Rig> {
  const broker = new BrokerCore({ config: { allow_anonymous: true } });
  const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
  const listener = createTcpListener('default', { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 10_000, mountpoint: '', ...over }, ctx);
  const { port } = await listener.start();
  const rig = { broker, listener, port, url: `mqtt://127.0.0.1:${port}` };
  rigs.push(rig);
  return rig;
}

function client(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId: uid('rl'), reconnectPeriod: 0, protocolVersion: 5, ...opts });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  RawClient.destroyAll();
  for (const r of rigs.splice(0)) {
    await r.listener.stop(200);
    await r.broker.close();
  }
});

describe('max_connections', () => {
  it('closes connections beyond it; the admitted ones keep working', async () => {
    const rig = await startRig({ max_connections: 2 });
    const a = await client(rig.url);
    await client(rig.url);
    const third = await RawClient.tcp(rig.port);
    await third.closed();
    expect(rig.listener.connections.size).toBe(2);
    await a.publishAsync('t', 'still here', { qos: 1 });
  });
});

describe('max_conn_rate', () => {
  it('lets a burst of one period in, holds the rest unread, then admits them in order', async () => {
    const rig = await startRig({ max_conn_rate: '3/s' });
    const raws = await Promise.all(Array.from({ length: 6 }, () => RawClient.tcp(rig.port)));
    raws.forEach((r, i) => r.send(r.connectPacket({ clientId: `held-${i}` })));
    await eventually(() => rig.listener.waiting === 3, 'three connections waiting');
    // The waiting ones have not been read: no CONNACK, no session yet.
    expect(raws.filter((r) => r.received.some((p) => p.cmd === 'connack')).length).toBeLessThanOrEqual(3);
    expect(rig.broker.stats().connections).toBeLessThanOrEqual(3);
    const acks = await Promise.all(raws.map((r) => r.next('connack', 5000)));
    expect(acks.map((a) => a.reasonCode)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(rig.listener.waiting).toBe(0);
  });

  it('a held connection that goes away is skipped; stop closes the ones still waiting', async () => {
    const rig = await startRig({ max_conn_rate: '1/m' });
    const first = await RawClient.connected(rig.port, uid('first'));
    const leaver = await RawClient.tcp(rig.port);
    const stayer = await RawClient.tcp(rig.port);
    await eventually(() => rig.listener.waiting === 2, 'two connections waiting');
    leaver.destroy();
    stayer.send(stayer.connectPacket({ clientId: uid('stayer') }));
    await rig.listener.stop(200);
    await stayer.closed();
    expect(stayer.received).toEqual([]);
    first.destroy();
  });

  it('a bad rate is a ConfigError naming the key', () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker);
    expect(() => createTcpListener('x', { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1, mountpoint: '', max_conn_rate: 'fast' }, ctx)).toThrow(ConfigError);
    expect(() => createTcpListener('x', { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1, mountpoint: '', bytes_rate: '1MB' }, ctx)).toThrow(/listeners\.tcp\.x\.bytes_rate/);
    void broker.close();
  });
});

describe('messages_rate and bytes_rate (back-pressure)', () => {
  /**
   * Publish `n` QoS 0 messages at once, far more than the budget and many socket reads' worth;
   * see the publisher's connection paused while messages are still missing, then all of them
   * arrive, in order.
   */
  async function pump(rig: Rig, n: number, payload: Buffer): Promise<void> {
    const sub = await client(rig.url, { clientId: uid('sub') });
    await sub.subscribeAsync('rate/t', { qos: 0 });
    const received: string[] = [];
    sub.on('message', (_t, p) => received.push(p.subarray(0, 8).toString()));
    const pubId = uid('pub');
    const pub = await client(rig.url, { clientId: pubId });
    const conn = [...rig.listener.connections].find((c) => c.clientId === pubId)!;
    for (let i = 0; i < n; i++) pub.publish('rate/t', Buffer.concat([Buffer.from(String(i).padStart(8, '0')), payload]), { qos: 0 });
    await eventually(() => conn.limiter!.paused && conn.stream.isPaused(), 'the publisher paused');
    expect(received.length).toBeLessThan(n);
    await eventually(() => received.length === n, `${n} messages`, 15_000);
    expect(received).toEqual(Array.from({ length: n }, (_, i) => String(i).padStart(8, '0')));
    expect(conn.limiter!.pauses).toBeGreaterThan(0);
  }

  it('messages_rate pauses the publisher; every message arrives, in order', async () => {
    const rig = await startRig({ messages_rate: '100/s' });
    await pump(rig, 300, Buffer.alloc(1000));
  });

  it('bytes_rate pauses the publisher; every byte arrives, in order', async () => {
    const rig = await startRig({ bytes_rate: '64KB/s' });
    await pump(rig, 12, Buffer.alloc(16 * 1024));
  });

  it('a pause longer than the keepalive allows does not count as the client\'s silence', async () => {
    const rig = await startRig({ messages_rate: '10/s' });
    const raw = await RawClient.connected(rig.port, uid('slow'), { connect: { keepalive: 1 } });
    const conn = [...rig.listener.connections].at(-1)!;
    // 30 publishes in one write: 20 over the budget, a pause of about 2 s (keepalive 1 s allows 1.5 s).
    raw.sendRaw(Buffer.concat(Array.from({ length: 30 }, (_, i) => raw.encode({ cmd: 'publish', topic: 'rate/k', payload: String(i), qos: 0, retain: false, dup: false } as never))));
    await eventually(() => conn.limiter!.pauses === 1, 'a pause');
    await eventually(() => !conn.limiter!.paused, 'the pause to end', 5000);
    raw.send({ cmd: 'pingreq' } as never);
    expect((await raw.next('pingresp')).cmd).toBe('pingresp');
    expect(conn.closed).toBe(false);
  });

  it('works over TLS too', async () => {
    const pki = testPki();
    const broker = new BrokerCore({ config: { allow_anonymous: true } });
    const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
    const group = sslListenersFactory.create(ctx, {
      default: {
        enable: true,
        bind: { host: '127.0.0.1', port: 0 },
        max_connections: 100,
        mountpoint: '',
        messages_rate: '20/s',
        max_conn_rate: '100/s',
        ssl_options: { certfile: pki.certFile, keyfile: pki.keyFile, verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3', 'tlsv1.2'] },
      },
    });
    const [info] = await group.start();
    try {
      const url = `mqtts://127.0.0.1:${info!.port}`;
      const opts = { ca: pki.ca, servername: 'localhost', rejectUnauthorized: true };
      const sub = await client(url, opts);
      await sub.subscribeAsync('tls/t', { qos: 0 });
      const got: string[] = [];
      sub.on('message', (_t, p) => got.push(p.toString()));
      const pub = await client(url, opts);
      for (let i = 0; i < 40; i++) pub.publish('tls/t', String(i), { qos: 0 });
      await eventually(() => got.length === 40, '40 messages over TLS', 10_000);
      expect(got).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
      const pauses = [...group.listeners[0]!.connections].reduce((n, c) => n + (c.limiter?.pauses ?? 0), 0);
      expect(pauses).toBeGreaterThan(0);
    } finally {
      for (const c of clients.splice(0)) c.end(true);
      await group.stop({ drainMs: 200 });
      await broker.close();
    }
  });
});
