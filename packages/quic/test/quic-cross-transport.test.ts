/**
 * One BrokerCore behind a TCP listener and a QUIC listener: MQTT.js over QUIC (through
 * `quicStreamBuilder`, in both stream modes) and MQTT.js over TCP exchange messages both ways.
 * A client running @matrixai/quic as it ships (`tune: false`, as any foreign QUIC stack would
 * behave) works with the listener's tuned connections, including the DISCONNECT the broker
 * writes just before it closes the connection.
 */
import mqtt, { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { quicStreamBuilder } from '../src/quic/index.js';
import { RawStream } from './quic-raw.js';
import { quicClientOptions } from './quic-fixture.js';
import { startQuicBroker, type QuicBroker } from './quic-harness.js';

let b: QuicBroker;
const clients: MqttClient[] = [];
beforeAll(async () => {
  b = await startQuicBroker({ tcp: true });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await b.stop();
});

function connected(c: MqttClient): Promise<MqttClient> {
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

describe.each([
  ['single', true],
  ['multi', true],
  ['single', false],
] as const)('QUIC (%s-stream, client tuned: %s) and TCP clients on one broker', (mode, tune) => {
  it('exchange messages both ways at every QoS, retained included', async () => {
    const tag = tune ? mode : `${mode}-plain`;
    const quic = await connected(new MqttClient(quicStreamBuilder(quicClientOptions(b.quicPort, { mode, tune })), { protocolVersion: 5, clientId: `q-${mode}-${tune}`, reconnectPeriod: 0 }));
    const tcp = await connected(mqtt.connect(`mqtt://127.0.0.1:${b.tcpPort}`, { protocolVersion: 4, clientId: `t-${mode}-${tune}`, reconnectPeriod: 0 }));
    const atQuic: string[] = [];
    const atTcp: string[] = [];
    quic.on('message', (t, p) => void atQuic.push(`${t}=${p}`));
    tcp.on('message', (t, p) => void atTcp.push(`${t}=${p}`));
    await tcp.publishAsync(`x/${tag}/retained`, 'kept', { qos: 1, retain: true });
    await quic.subscribeAsync(`x/${tag}/to-quic/#`, { qos: 2 });
    await quic.subscribeAsync(`x/${tag}/retained`, { qos: 1 });
    await tcp.subscribeAsync(`x/${tag}/to-tcp/#`, { qos: 2 });
    for (const qos of [0, 1, 2] as const) {
      await tcp.publishAsync(`x/${tag}/to-quic/${qos}`, `hello-quic-${qos}`, { qos });
      await quic.publishAsync(`x/${tag}/to-tcp/${qos}`, `hello-tcp-${qos}`, { qos });
    }
    await vi.waitFor(() => expect(atQuic).toHaveLength(4));
    await vi.waitFor(() => expect(atTcp).toHaveLength(3));
    expect([...atQuic].sort()).toEqual([`x/${tag}/retained=kept`, ...[0, 1, 2].map((q) => `x/${tag}/to-quic/${q}=hello-quic-${q}`)].sort());
    expect(atTcp).toEqual([0, 1, 2].map((q) => `x/${tag}/to-tcp/${q}=hello-tcp-${q}`));
  });
});

describe('quicStreamBuilder', () => {
  it('closes the MQTT.js client, never connected, when the handshake is refused', async () => {
    const c = new MqttClient(quicStreamBuilder(quicClientOptions(b.quicPort, { alpn: 'h3' })), { reconnectPeriod: 0, connectTimeout: 4000 });
    clients.push(c);
    let connectedOnce = false;
    c.on('connect', () => (connectedOnce = true));
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    expect(connectedOnce).toBe(false);
  });
});

describe('a client running @matrixai/quic as it ships', () => {
  it('receives the DISCONNECT the broker sends right before closing the connection', async () => {
    const q = await b.quic({ tune: false });
    const raw = new RawStream(q.stream);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'plain-disconnect', clean: true, keepalive: 60 });
    await raw.next('connack');
    // Session Expiry Interval 0 on CONNECT, then non-zero on DISCONNECT: a protocol error.
    raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } });
    expect((await raw.next('disconnect')).reasonCode).toBe(0x82);
  });
});
