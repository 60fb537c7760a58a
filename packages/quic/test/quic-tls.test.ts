/** verify_peer: clients must present a certificate of the CA; its identity reaches the core. */
import type { ConnectInfo } from '@junction/broker-core';
import { testPki } from '@junction/mqtt/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQuicBroker, type QuicBroker } from './quic-harness.js';
import { RawStream } from './quic-raw.js';

let b: QuicBroker;
beforeAll(async () => {
  const pki = testPki();
  b = await startQuicBroker({ listener: { ssl_options: { certfile: pki.certFile, keyfile: pki.keyFile, cacertfile: pki.caFile, verify: 'verify_peer', fail_if_no_peer_cert: true, versions: ['tlsv1.3'] } } });
});
afterAll(() => b.stop());

describe('MQTT over QUIC with verify_peer', () => {
  it('refuses a client without a certificate', async () => {
    const q = await b.quic().catch((err: unknown) => err as Error);
    if (q instanceof Error) return; // refused in the handshake
    // Refused after the client's side of the handshake completed: the connection is closed.
    const raw = new RawStream(q.stream);
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'nocert', clean: true, keepalive: 60 });
    await raw.waitClosed();
    expect(raw.packets.map((p) => p.cmd)).not.toContain('connack');
  });

  it('accepts a client certificate of the CA and gives its identity to the core', async () => {
    const pki = testPki();
    let seen: ConnectInfo | undefined;
    const off = b.broker.hooks.on('client.connected', (_c, info) => {
      if (info.clientId === 'withcert') seen = info;
    });
    try {
      const q = await b.quic({ cert: pki.clientCert, key: pki.clientKey });
      const raw = new RawStream(q.stream);
      raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'withcert', clean: true, keepalive: 60 });
      expect((await raw.next('connack')).reasonCode).toBe(0);
      expect(seen?.peerCert?.commonName).toBe('client1');
    } finally {
      off();
    }
  });
});
