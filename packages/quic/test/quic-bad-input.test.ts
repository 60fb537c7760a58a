/**
 * Bad input: a client offering another ALPN, or not trusting the certificate, never gets a
 * connection; garbage on one stream closes that connection only, while the listener and the
 * other clients go on.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startQuicBroker, type QuicBroker } from './quic-harness.js';
import { RawStream } from './quic-raw.js';

let b: QuicBroker;
beforeAll(async () => {
  b = await startQuicBroker();
});
afterAll(() => b.stop());

/** Two MQTT.js clients that exchange one message: the broker still works. */
async function stillWorks(tag: string): Promise<void> {
  const { client: a } = await b.mqttOverQuic({ clientId: `ok-a-${tag}` });
  const { client: c } = await b.mqttOverQuic({ clientId: `ok-c-${tag}` });
  const got: string[] = [];
  a.on('message', (_t, p) => void got.push(p.toString()));
  await a.subscribeAsync(`ok/${tag}`, { qos: 1 });
  await c.publishAsync(`ok/${tag}`, 'fine', { qos: 1 });
  await vi.waitFor(() => expect(got).toEqual(['fine']));
}

describe('MQTT over QUIC bad input', () => {
  it('refuses a client that offers another ALPN than mqtt', async () => {
    await expect(b.quic({ alpn: 'h3' })).rejects.toThrow();
    await stillWorks('alpn');
  });

  it('fails the handshake of a client that does not trust the server certificate', async () => {
    await expect(b.quic({ ca: undefined, serverName: 'localhost' }).then(() => 'connected')).rejects.toThrow();
    await stillWorks('cert');
  });

  it('closes only the connection whose control stream carries garbage', async () => {
    const { client: bystander } = await b.mqttOverQuic({ clientId: 'bystander-1' });
    const q = await b.quic();
    const raw = new RawStream(q.stream);
    raw.stream.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01]));
    await raw.waitClosed();
    expect(bystander.connected).toBe(true);
    await stillWorks('control');
  });

  it('closes only the connection whose data stream carries garbage, with DISCONNECT on its control stream', async () => {
    const { client: bystander } = await b.mqttOverQuic({ clientId: 'bystander-2' });
    const q = await b.quic();
    const control = new RawStream(q.stream);
    control.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'garbler', clean: true, keepalive: 60 });
    await control.next('connack');
    const data = new RawStream(q.newStream());
    // A PUBLISH whose topic length runs past the end of the packet.
    data.stream.write(Buffer.from([0x30, 0x03, 0x00, 0x40, 0x61]));
    const d = await control.next('disconnect');
    expect(d.reasonCode).toBeGreaterThanOrEqual(0x80);
    await control.waitClosed();
    expect(bystander.connected).toBe(true);
    await stillWorks('data');
  });

  it('closes a connection whose data stream breaks MQTT framing', async () => {
    const q = await b.quic();
    const control = new RawStream(q.stream);
    control.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'framer', clean: true, keepalive: 60 });
    await control.next('connack');
    const data = new RawStream(q.newStream());
    // Remaining Length with five continuation bytes (§1.5.5 allows four).
    data.stream.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await control.waitClosed();
    await stillWorks('framing');
  });

  it('ignores UDP datagrams that are not QUIC', async () => {
    const { createSocket } = await import('node:dgram');
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.send(Buffer.from('not quic at all'), b.quicPort, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => udp.send(Buffer.alloc(1300, 0xc3), b.quicPort, '127.0.0.1', () => resolve()));
    udp.close();
    await stillWorks('udp');
  });
});
