/**
 * The listener's own settings and lifecycle: mqtt_piggyback, compression, a client that stops
 * reading, max_connections, and shutdown. A bystander client checks after every test that the
 * others were not affected.
 */
import type { IPublishPacket, ISubscribePacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { topicFor, uid } from '@junction/mqtt/testing';
import { wsFixture } from '../src/testing/index.js';
import { burst, useBroker } from './helpers.js';
import { FrameClient, handshake } from './ws-client.js';

describe('WebSocket mqtt_piggyback', () => {
  describe('multiple (default)', () => {
    const { state, open } = useBroker();

    it('sends several packets in one frame with mqtt_piggyback "multiple" (the default)', async () => {
      const c = await open();
      const frames = await burst(state.h, c, 20);
      expect(frames.packets).toBe(20);
      expect(frames.count).toBeLessThan(20);
    });
  });

  describe('single', () => {
    const { state, open } = useBroker({ websocket: { mqtt_piggyback: 'single' } });

    it('sends one MQTT packet per frame with mqtt_piggyback "single"', async () => {
      const c = await open();
      const frames = await burst(state.h, c, 20);
      expect(frames.packets).toBe(20);
      expect(frames.count).toBe(20);
    });
  });
});

describe('WebSocket client that stops reading', () => {
  const { state, open } = useBroker({ mqtt: { send_timeout: 400 } });

  it('is closed after send_timeout of back-pressure (backpressure_timeout), without stalling others', async () => {
    const c = await open();
    const id = uid('slow');
    await c.connect(id);
    const t = topicFor('flood');
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 0 }] } as ISubscribePacket);
    await c.next('suback');
    const gone = new Promise<string>((resolve) => {
      const off = state.h.broker.hooks.on('client.disconnected', (client, reason) => {
        if (client.clientId !== id) return;
        off();
        resolve(reason);
      });
    });
    // Stop reading: the kernel buffers fill, then the server's WebSocket stream reports back-pressure.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const payload = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 200; i++) state.h.broker.publish({ topic: t, payload, qos: 0, retain: false });
    const since = Date.now();
    expect(await gone).toBe('backpressure_timeout');
    expect(Date.now() - since).toBeLessThan(3000);
  });
});

describe('WebSocket compression', () => {
  it('negotiates permessage-deflate only when compress is true', async () => {
    const plain = await wsFixture.start({ broker: { config: { allow_anonymous: true } } });
    const deflate = await wsFixture.start({ broker: { config: { allow_anonymous: true } }, websocket: { compress: true } });
    try {
      const a = await handshake(plain.url, ['mqtt'], { perMessageDeflate: true });
      const b = await handshake(deflate.url, ['mqtt'], { perMessageDeflate: true });
      expect(a.ok && a.extensions).toBe('');
      expect(b.ok && b.extensions).toContain('permessage-deflate');
      if (!b.ok) return;
      // And MQTT works compressed, with a payload large enough to be compressed.
      const c = new FrameClient(b.ws);
      await c.connect(uid('zip'));
      const t = topicFor('zip');
      c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 0 }] } as ISubscribePacket);
      await c.next('suback');
      c.send({ cmd: 'publish', topic: t, payload: Buffer.alloc(8000, 0x7a), qos: 0, retain: false, dup: false } as IPublishPacket);
      const m = await c.next('publish');
      expect(m.payload).toEqual(Buffer.alloc(8000, 0x7a));
      if (a.ok) a.ws.terminate();
      b.ws.terminate();
    } finally {
      await plain.stop();
      await deflate.stop();
    }
  });
});

describe('WebSocket listener limits and shutdown', () => {
  it('drops connections beyond max_connections; the one admitted keeps working', async () => {
    const { BrokerCore, createAdapterContext } = await import('@junction/broker-core');
    const { wsListenersFactory, defaultWebsocketOptions } = await import('../src/index.js');
    const broker = new BrokerCore({ config: { allow_anonymous: true } });
    const adapter = wsListenersFactory.create(createAdapterContext(broker), {
      one: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1, mountpoint: '', websocket: defaultWebsocketOptions },
    });
    const [info] = await adapter.start();
    const url = `ws://127.0.0.1:${info!.port}/mqtt`;
    try {
      const first = await handshake(url, ['mqtt']);
      expect(first.ok).toBe(true);
      // The listener's server accepts no further TCP connection: it is closed before any HTTP.
      await expect(handshake(url, ['mqtt'])).rejects.toThrow(/socket hang up|ECONNRESET/);
      if (first.ok) {
        const c = new FrameClient(first.ws);
        await c.connect(uid('one'));
        expect(adapter.stats().connections).toBe(1);
        first.ws.terminate();
        await c.closed();
      }
    } finally {
      await adapter.stop({ drainMs: 200 });
      await broker.close();
    }
  });

  it('on stop, sends MQTT 5 clients DISCONNECT 0x8B and then closes the WebSocket with 1001 (going away)', async () => {
    const h = await wsFixture.start({ broker: { config: { allow_anonymous: true } } });
    const r = await handshake(h.url, ['mqtt']);
    if (!r.ok) throw new Error('refused');
    const c = new FrameClient(r.ws, 5);
    await c.connect(uid('bye'));
    await h.stop();
    expect(await c.next('disconnect')).toMatchObject({ reasonCode: 0x8b });
    expect(await c.closed()).toBe(1001);
    expect(await handshake(h.url, ['mqtt']).catch((e: NodeJS.ErrnoException) => e.code)).toBe('ECONNREFUSED');
  });
});
