/**
 * What a WebSocket client can get wrong, and what the listener does about it: each bad input
 * closes (or refuses) that one connection with the right code, and a client connected beforehand
 * keeps working (checked after every test). Also the framing that is not an error: one MQTT packet
 * across many frames, many packets in one frame.
 */
import type { IPublishPacket, ISubscribePacket } from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { topicFor, uid } from '@junction/mqtt/testing';
import { wsFixture } from '../src/testing/index.js';
import { useBroker, waitConnected } from './helpers.js';
import { connectPacket, encode, FrameClient, handshake, httpGet } from './ws-client.js';

describe('WebSocket bad input, default settings', () => {
  const { state, open } = useBroker();

  it('closes a connection that sends a text frame with 1003 (unsupported data), even after CONNECT', async () => {
    const before = await open();
    before.ws.send('CONNECT please');
    expect(await before.closed()).toBe(1003);
    expect(before.packets).toEqual([]);

    const after = await open();
    await after.connect(uid('tx'));
    after.ws.send('{"not":"mqtt"}');
    expect(await after.closed()).toBe(1003);
  });

  it('closes a connection whose first packet is not MQTT, without a CONNACK', async () => {
    const c = await open();
    c.sendBinary(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    // The engine ends the stream; the WebSocket closes normally (MQTT 3 has no reason to send).
    expect(await c.closed()).toBe(1000);
    expect(c.packets.filter((p) => p.cmd === 'connack')).toEqual([]);

    // A well-formed MQTT packet that is not CONNECT is refused the same way [MQTT-3.1.0-1].
    const d = await open();
    d.send({ cmd: 'publish', topic: 'x', payload: Buffer.from('y'), qos: 0, retain: false, dup: false } as IPublishPacket);
    expect(await d.closed()).toBe(1000);
    expect(d.packets).toEqual([]);
  });

  it('refuses a handshake with a wrong subprotocol, or none, with HTTP 400 (fail_if_no_subprotocol)', async () => {
    expect(await handshake(state.h.url, ['stomp'])).toEqual({ ok: false, status: 400 });
    expect(await handshake(state.h.url, ['MQTT'])).toEqual({ ok: false, status: 400 });
    expect(await handshake(state.h.url, undefined)).toEqual({ ok: false, status: 400 });
  });

  it('accepts every supported subprotocol and selects the first supported one the client offers', async () => {
    for (const p of ['mqtt', 'mqttv3.1', 'mqttv5', 'mqtt-v3', 'mqtt-v3.1.1', 'mqtt-v5']) {
      const r = await handshake(state.h.url, [p]);
      expect(r.ok && r.protocol, p).toBe(p);
      if (r.ok) r.ws.terminate();
    }
    const r = await handshake(state.h.url, ['chat', 'mqttv3.1', 'mqtt']);
    expect(r.ok && r.protocol).toBe('mqttv3.1');
    if (r.ok) r.ws.terminate();
  });

  it('answers 404 to other paths, upgrade or not, and 426 to plain HTTP on the MQTT path', async () => {
    const base = state.h.url.replace(/\/mqtt$/, '');
    expect(await handshake(`${base}/other`, ['mqtt'])).toEqual({ ok: false, status: 404 });
    expect(await handshake(`${base}/mqtt/x`, ['mqtt'])).toEqual({ ok: false, status: 404 });
    expect((await httpGet(`${base.replace('ws:', 'http:')}/other`)).status).toBe(404);
    expect((await httpGet(`${base.replace('ws:', 'http:')}/mqtt`)).status).toBe(426);
    // A query string does not change the path.
    const r = await handshake(`${state.h.url}?token=abc`, ['mqtt']);
    expect(r.ok).toBe(true);
    if (r.ok) r.ws.terminate();
  });

  it('reassembles one MQTT packet sent across many frames (one byte per frame)', async () => {
    const c = await open();
    const bytes = encode(connectPacket(uid('split')));
    for (const b of bytes) c.sendBinary(Buffer.from([b]));
    const ack = await c.next('connack');
    expect(ack.returnCode).toBe(0);
    // And a PUBLISH to itself cut at arbitrary points.
    const t = topicFor('split');
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 0 }] } as ISubscribePacket);
    await c.next('suback');
    const pub = encode({ cmd: 'publish', topic: t, payload: Buffer.from('reassembled'), qos: 0, retain: false, dup: false } as IPublishPacket);
    c.sendBinary(pub.subarray(0, 1));
    c.sendBinary(pub.subarray(1, 5));
    c.sendBinary(pub.subarray(5));
    const m = await c.next('publish');
    expect(m.topic).toBe(t);
    expect(m.payload.toString()).toBe('reassembled');
  });

  it('handles several MQTT packets in one frame, in order (CONNECT, SUBSCRIBE, PUBLISH)', async () => {
    const c = await open();
    const t = topicFor('batch');
    c.sendBinary(
      Buffer.concat([
        encode(connectPacket(uid('batch'))),
        encode({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: t, qos: 1 }] } as ISubscribePacket),
        encode({ cmd: 'publish', topic: t, payload: Buffer.from('one frame'), qos: 1, messageId: 8, retain: false, dup: false } as IPublishPacket),
      ]),
    );
    const m = await c.next('publish');
    expect(m.payload.toString()).toBe('one frame');
    await c.next('puback', (p) => p.messageId === 8);
    expect(c.packets.map((p) => p.cmd).slice(0, 2)).toEqual(['connack', 'suback']);
    expect(c.packets.find((p) => p.cmd === 'suback')).toMatchObject({ messageId: 7, granted: [1] });
  });

  it('reports the TCP peer, not X-Forwarded-For or X-Real-IP, when no proxy is trusted', async () => {
    const connected = waitConnected(state.h);
    const c = await open(['mqtt'], 4, { 'X-Forwarded-For': '203.0.113.7', 'X-Real-IP': '203.0.113.8', 'X-Forwarded-Port': '4242' });
    const id = uid('xff');
    await c.connect(id);
    const info = await connected(id);
    expect(info.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(info.peer).not.toBe('127.0.0.1:4242');
    expect(info.listener).toBe('ws:default');
    expect(info.protocol).toBe('mqtt');
  });
});

describe('WebSocket bad input, limits', () => {
  const { open } = useBroker({ websocket: { max_frame_size: 1024 }, mqtt: { max_packet_size: 512 } });

  it('closes a connection that sends a frame over max_frame_size with 1009 (message too big)', async () => {
    const c = await open();
    await c.connect(uid('big'));
    c.sendBinary(Buffer.alloc(2000, 0x30));
    expect(await c.closed()).toBe(1009);
  });

  it('still lets the MQTT engine refuse a packet over max_packet_size that fits in a frame', async () => {
    const c = await open(['mqtt'], 5);
    await c.connect(uid('mps'));
    c.send({ cmd: 'publish', topic: topicFor('mps'), payload: Buffer.alloc(700), qos: 0, retain: false, dup: false } as IPublishPacket);
    expect(await c.next('disconnect')).toMatchObject({ reasonCode: 0x95 });
    await c.closed();
  });

  it('accepts a frame just under max_frame_size', async () => {
    const c = await open();
    const t = topicFor('fits');
    await c.connect(uid('fits'));
    c.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: t, qos: 0 }] } as ISubscribePacket);
    await c.next('suback');
    const pub = encode({ cmd: 'publish', topic: t, payload: Buffer.alloc(300, 0x61), qos: 0, retain: false, dup: false } as IPublishPacket);
    c.sendBinary(Buffer.concat([pub, pub, pub])); // ~1000 bytes, three packets
    await c.until(() => c.packets.filter((p) => p.cmd === 'publish').length === 3, 'three publishes');
    expect(c.closeCode).toBeUndefined();
  });
});

describe('WebSocket frame limit derived from mqtt.max_packet_size (max_frame_size 0)', () => {
  const { open } = useBroker({ mqtt: { max_packet_size: 40_000 } });

  it('lets a packet over max_packet_size reach the engine (DISCONNECT 0x95) and cuts frames over twice that with 1009', async () => {
    const a = await open(['mqtt'], 5);
    await a.connect(uid('d1'));
    a.send({ cmd: 'publish', topic: topicFor('d'), payload: Buffer.alloc(50_000), qos: 0, retain: false, dup: false } as IPublishPacket);
    expect(await a.next('disconnect')).toMatchObject({ reasonCode: 0x95 });

    const b = await open(['mqtt'], 5);
    await b.connect(uid('d2'));
    b.sendBinary(Buffer.alloc(80_001, 0x30));
    expect(await b.closed()).toBe(1009);
  });
});

describe('WebSocket subprotocol not required', () => {
  const { state } = useBroker({ websocket: { fail_if_no_subprotocol: false, supported_subprotocols: 'mqtt' } });

  it('accepts a handshake without a subprotocol, but still refuses an unsupported one', async () => {
    const r = await handshake(state.h.url, undefined);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = new FrameClient(r.ws);
    expect((await c.connect(uid('nosub'))).cmd).toBe('connack');
    r.ws.terminate();
    expect(await handshake(state.h.url, ['mqttv5'])).toEqual({ ok: false, status: 400 });
  });
});

describe('WebSocket origin check', () => {
  const { state } = useBroker(
    { websocket: { check_origin_enable: true, allow_origin_absence: false, check_origins: ['https://app.example.com', 'http://127.0.0.1:8080'] } },
    { wsOptions: { origin: 'http://127.0.0.1:8080' } },
  );

  it('refuses a disallowed Origin with HTTP 403 and accepts a listed one', async () => {
    expect(await handshake(state.h.url, ['mqtt'], { origin: 'https://evil.example.net' })).toEqual({ ok: false, status: 403 });
    expect(await handshake(state.h.url, ['mqtt'], { origin: 'https://app.example.com.evil.net' })).toEqual({ ok: false, status: 403 });
    const ok = await handshake(state.h.url, ['mqtt'], { origin: 'https://app.example.com' });
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      const c = new FrameClient(ok.ws);
      expect((await c.connect(uid('origin'))).cmd).toBe('connack');
      ok.ws.terminate();
    }
  });

  it('refuses a handshake without Origin when allow_origin_absence is false', async () => {
    expect(await handshake(state.h.url, ['mqtt'])).toEqual({ ok: false, status: 403 });
  });
});

describe('WebSocket behind a trusted reverse proxy', () => {
  const { state, open } = useBroker({ websocket: { trusted_proxies: ['127.0.0.0/8'] } });

  it('takes the client address from X-Forwarded-For (and the port from X-Forwarded-Port) when the TCP peer is trusted', async () => {
    const connected = waitConnected(state.h);
    const c = await open(['mqtt'], 4, { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Port': '4242' });
    const id = uid('xff');
    await c.connect(id);
    expect((await connected(id)).peer).toBe('203.0.113.7:4242');
  });

  it('walks X-Forwarded-For from the right: an address the client forged in front is ignored', async () => {
    const connected = waitConnected(state.h);
    // The client sent "X-Forwarded-For: 6.6.6.6"; proxy 127.0.0.2 appended the real client, and
    // the last proxy (127.0.0.3) appended 127.0.0.2.
    const c = await open(['mqtt'], 4, { 'X-Forwarded-For': '6.6.6.6, 198.51.100.20, 127.0.0.2' });
    const id = uid('hop');
    await c.connect(id);
    expect((await connected(id)).peer).toMatch(/^198\.51\.100\.20:\d+$/);
  });

  it('falls back to X-Real-IP when X-Forwarded-For is absent', async () => {
    const connected = waitConnected(state.h);
    const c = await open(['mqtt'], 4, { 'X-Real-IP': '2001:db8::5' });
    const id = uid('xri');
    await c.connect(id);
    expect((await connected(id)).peer).toMatch(/^2001:db8::5:\d+$/);
  });

  it('applies the loopback rule for anonymous clients to the forwarded address, not the proxy', async () => {
    const h = await wsFixture.start({ websocket: { trusted_proxies: ['127.0.0.1'] } }); // allow_anonymous: loopback
    try {
      const r = await handshake(h.url, ['mqtt'], { headers: { 'X-Forwarded-For': '203.0.113.9' } });
      if (!r.ok) throw new Error('refused');
      const remote = new FrameClient(r.ws);
      expect(await remote.connect(uid('anon'))).toMatchObject({ cmd: 'connack', returnCode: 5 });
      const r2 = await handshake(h.url, ['mqtt']);
      if (!r2.ok) throw new Error('refused');
      const local = new FrameClient(r2.ws);
      expect(await local.connect(uid('anon'))).toMatchObject({ cmd: 'connack', returnCode: 0 });
      r2.ws.terminate();
    } finally {
      await h.stop();
    }
  });
});
