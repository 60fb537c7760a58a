/**
 * The webtransport listener as the gateway runs it: its config (schema defaults, a missing
 * certificate as a ConfigError naming the key), its session limit, and shutdown (MQTT 5
 * clients over WebTransport get DISCONNECT 0x8B Server shutting down, then the connection
 * closes with H3_NO_ERROR), and authentication through the core's hook as for TCP.
 */
import { BrokerCore, ConfigError, createAdapterContext } from '@junction/broker-core';
import { TestClient, uid } from '@junction/mqtt/testing';
import { Value } from '@sinclair/typebox/value';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { defaultWebTransportListenerConfig, H3, webtransportListenerSchema, webtransportListenersFactory } from '../src/webtransport/index.js';
import { loadFailsWebTransport } from '../src/webtransport/fails-loader.js';
import { WebStreamDuplex } from '../src/webtransport/index.js';
import { H3TestClient } from './wt-h3-client.js';
import { startWtBroker } from './wt-helpers.js';

describe('listeners.webtransport config', () => {
  it('schema defaults are the documented ones', () => {
    const parsed = Value.Default(webtransportListenerSchema, {}) as Record<string, unknown>;
    expect(parsed.path).toBe('/mqtt');
    expect(parsed.enable).toBe(true);
    expect(parsed.max_streams).toBe(defaultWebTransportListenerConfig.max_streams);
    expect(parsed.max_sessions).toBe(defaultWebTransportListenerConfig.max_sessions);
    expect(Value.Check(webtransportListenerSchema, { ...defaultWebTransportListenerConfig })).toBe(true);
    expect(Value.Check(webtransportListenerSchema, { ...defaultWebTransportListenerConfig, path: 'mqtt' })).toBe(false);
  });

  it('a listener without a certificate fails to start with a ConfigError naming the key', async () => {
    const broker = new BrokerCore();
    const adapter = webtransportListenersFactory.create(createAdapterContext(broker), {
      default: { ...defaultWebTransportListenerConfig, bind: { host: '127.0.0.1', port: 0 } },
    });
    const err = await adapter.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('listeners.webtransport.default.ssl_options.certfile');
    await adapter.stop();
    await broker.close();
  });
});

describe('session limit and shutdown', () => {
  it('max_sessions: a session beyond the limit gets 429; a closed one frees its place', async () => {
    const b = await startWtBroker({ broker: { config: { allow_anonymous: true } }, listener: { max_sessions: 1 } });
    try {
      const h3 = await H3TestClient.connect(b.h3Port);
      await h3.openControl();
      const first = await h3.session('/mqtt', b.h3Port);
      expect(first.status).toBe(200);
      expect((await h3.session('/mqtt', b.h3Port)).status).toBe(429);
      await first.connect.writable.close();
      // The place frees once the server has seen the CONNECT stream end.
      let status: number | undefined;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (b.wt.stats().sessions === 0) status = (await h3.session('/mqtt', b.h3Port)).status;
      }
      expect(status).toBe(200);
      await h3.close();
    } finally {
      await b.stop();
    }
  });

  it('stop(): an MQTT 5 client gets DISCONNECT 0x8B, the QUIC connection closes with H3_NO_ERROR', async () => {
    const b = await startWtBroker({ broker: { config: { allow_anonymous: true } } });
    const h3 = await H3TestClient.connect(b.h3Port);
    await h3.openControl();
    const s = await h3.session('/mqtt', b.h3Port);
    const stream = await h3.openStream(s.id);
    const id = uid('bye');
    const c = new TestClient(new mqtt.MqttClient(() => stream as never, { clientId: id, protocolVersion: 5, reconnectPeriod: 0 }), id);
    await c.connected;
    const disconnect = new Promise<number | undefined>((resolve) => c.client.once('disconnect', (p) => resolve(p.reasonCode)));
    await b.stop();
    expect(await disconnect).toBe(0x8b);
    expect(await h3.closed).toEqual({ isApp: true, errorCode: H3.NO_ERROR });
    await c.client.endAsync(true);
  });

  it('a stream that ends inside its WebTransport prefix is reset', async () => {
    const b = await startWtBroker({ broker: { config: { allow_anonymous: true } } });
    try {
      const h3 = await H3TestClient.connect(b.h3Port);
      await h3.openControl();
      const stream = h3.quic.connection.newStream('bidi');
      const w = stream.writable.getWriter();
      await w.write(Buffer.from([0x41]));
      await w.close();
      const r = stream.readable.getReader();
      await expect(r.read()).rejects.toThrow(`reset ${H3.REQUEST_INCOMPLETE}`);
      await h3.close();
    } finally {
      await b.stop();
    }
  });
});

describe('authentication', () => {
  it('runs through client.authenticate with the WebTransport peer; a refusal is CONNACK 0x86, over HTTP/3 and HTTP/2', async () => {
    const b = await startWtBroker({ broker: { config: { allow_anonymous: false } } });
    const seen: { listener: string | undefined; peer: string | undefined }[] = [];
    b.broker.hooks.intercept('client.authenticate', (info) => {
      seen.push({ listener: info.listener, peer: info.peer });
      return info.username === 'alice' && info.password?.toString() === 's3cret' ? { result: 'allow' } : { result: 'deny', reason: 'bad_credentials' };
    });
    const connack = (stream: unknown, password: string) =>
      new Promise<number>((resolve) => {
        const c = new mqtt.MqttClient(() => stream as never, { clientId: uid('auth'), protocolVersion: 5, reconnectPeriod: 0, username: 'alice', password });
        c.once('connect', (ack) => {
          resolve(ack.reasonCode ?? 0);
          c.end(true);
        });
        c.once('error', (err: Error & { code?: number }) => {
          resolve(typeof err.code === 'number' ? err.code : -1);
          c.end(true);
        });
      });
    try {
      const h3 = await H3TestClient.connect(b.h3Port);
      await h3.openControl();
      const s = await h3.session('/mqtt', b.h3Port);
      expect(await connack(await h3.openStream(s.id), 's3cret')).toBe(0);
      expect(await connack(await h3.openStream(s.id), 'wrong')).toBe(0x86);

      const { WebTransport } = await loadFailsWebTransport();
      const wt = new WebTransport(`https://127.0.0.1:${b.h2Port}/mqtt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: b.cert.hash }], forceReliable: true } as never);
      wt.closed.catch(() => {});
      await wt.ready;
      expect(await connack(new WebStreamDuplex(await wt.createBidirectionalStream()), 's3cret')).toBe(0);
      expect(await connack(new WebStreamDuplex(await wt.createBidirectionalStream()), 'wrong')).toBe(0x86);
      wt.close();
      await h3.close();
      expect(seen).toHaveLength(4);
      for (const s of seen) {
        expect(s.listener).toBe('wt:default');
        expect(s.peer).toMatch(/^127\.0\.0\.1:\d+$/);
      }
    } finally {
      await b.stop();
    }
  });
});
