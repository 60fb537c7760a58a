/**
 * wss-only behaviour: the TLS client certificate reaches the core as `peerCert`, as on the MQTT
 * TLS listener; a client without one is refused when verify_peer + fail_if_no_peer_cert.
 */
import type { ConnectInfo } from '@junction/broker-core';
import { testPki, topicFor, useScope } from '@junction/mqtt/testing';
import { describe, expect, it } from 'vitest';
import { wssFixture } from '../src/testing/index.js';
import { handshake } from './ws-client.js';

describe('wss listener, mutual TLS', () => {
  const s = useScope(wssFixture, 5, { mutualTls: true });

  it('passes the verified client certificate to the core and works as MQTT', async () => {
    const connected = s.waitHook('client.connected', () => true);
    const c = await s.connect();
    const [client, info] = (await connected) as [{ clientId: string; listener?: string }, ConnectInfo];
    expect(client.clientId).toBe(c.clientId);
    expect(client.listener).toBe('wss:default');
    expect(info.peerCert?.commonName).toBe('client1');
    expect(info.peerCert?.subject).toContain('CN=client1');
    const t = topicFor('mwss');
    await c.client.subscribeAsync(t, { qos: 1 });
    await c.client.publishAsync(t, 'over mutual wss', { qos: 1 });
    const [m] = await c.waitMessages(1, t);
    expect(m!.text).toBe('over mutual wss');
  });

  it('refuses a client without a certificate during the TLS handshake: no WebSocket, no session', async () => {
    let connects = 0;
    const off = s.h.broker.hooks.on('client.connected', () => connects++);
    s.defer(off);
    const pki = testPki();
    await expect(handshake(s.h.url, ['mqtt'], { ca: pki.ca })).rejects.toThrow();
    expect(connects).toBe(0);
  });
});

describe('wss listener, one-way TLS', () => {
  const s = useScope(wssFixture, 4);

  it('accepts a client without a certificate; the core sees none', async () => {
    const connected = s.waitHook('client.connected', () => true);
    const c = await s.connect();
    expect(c.connack!.returnCode).toBe(0);
    const [, info] = (await connected) as [unknown, ConnectInfo];
    expect(info.peerCert).toBeUndefined();
  });

  it('refuses a client that does not trust the server certificate', async () => {
    await expect(handshake(s.h.url, ['mqtt'])).rejects.toThrow(/self-signed|unable to verify|certificate/i);
  });
});
