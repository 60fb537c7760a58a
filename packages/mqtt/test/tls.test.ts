/**
 * TLS-only behaviour: one-way TLS (server authentication) and mutual TLS (harness option
 * `mutualTls`: verify_peer with fail_if_no_peer_cert). The per-version MQTT behaviour over TLS
 * is in behaviour-tls.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectInfo } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import { tlsFixture } from '../src/testing/index.js';
import { topicFor, useScope } from '../src/testing/behaviours/helpers.js';

/** A self-signed client certificate no CA of the test PKI signed. */
function foreignClientCert(): { cert: Buffer; key: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'junction-foreign-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=intruder', '-keyout', 'k.pem', '-out', 'c.pem'], { cwd: dir, stdio: 'pipe' });
  return { cert: readFileSync(join(dir, 'c.pem')), key: readFileSync(join(dir, 'k.pem')) };
}

describe('TLS listener, mutual TLS', () => {
  const s = useScope(tlsFixture, 5, { mutualTls: true });

  it('accepts a client presenting a certificate signed by the CA and passes its identity to the core', async () => {
    const connected = s.waitHook('client.connected', () => true);
    const c = await s.connect();
    expect(c.connack!.reasonCode).toBe(0);
    const [client, info] = (await connected) as [unknown, ConnectInfo];
    expect(client).toMatchObject({ clientId: c.clientId });
    expect(info.peerCert?.commonName).toBe('client1');
    expect(info.peerCert?.subject).toContain('CN=client1');
    // And it works as an MQTT connection.
    const t = topicFor('mtls');
    await c.client.subscribeAsync(t, { qos: 1 });
    await c.client.publishAsync(t, 'over mutual TLS', { qos: 1 });
    const [m] = await c.waitMessages(1, t);
    expect(m!.text).toBe('over mutual TLS');
  });

  it('refuses a client without a certificate: the handshake fails, no CONNACK, no session', async () => {
    let connects = 0;
    const off = s.h.broker.hooks.on('client.connected', () => connects++);
    s.defer(off);
    const c = s.open({ cert: undefined, key: undefined });
    const err = await c.connected.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    await c.waitClosed();
    expect(c.packets.filter((p) => p.cmd === 'connack')).toEqual([]);
    expect(connects).toBe(0);
  });

  it('refuses a client whose certificate was not signed by the CA', async () => {
    let connects = 0;
    const off = s.h.broker.hooks.on('client.connected', () => connects++);
    s.defer(off);
    const c = s.open(foreignClientCert());
    const err = await c.connected.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    await c.waitClosed();
    expect(c.packets.filter((p) => p.cmd === 'connack')).toEqual([]);
    expect(connects).toBe(0);
  });
});

describe('TLS listener, one-way TLS', () => {
  const s = useScope(tlsFixture, 4);

  it('accepts a client without a certificate; the core sees no peer certificate', async () => {
    const connected = s.waitHook('client.connected', () => true);
    const c = await s.connect();
    expect(c.connack!.returnCode).toBe(0);
    const [, info] = (await connected) as [unknown, ConnectInfo];
    expect(info.peerCert).toBeUndefined();
  });

  it('is refused by a client that does not trust the server certificate', async () => {
    const c = s.open({ ca: undefined, rejectUnauthorized: true });
    const err = (await c.connected.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    ))!;
    expect(err).toBeInstanceOf(Error);
    expect(err.code ?? err.message).toMatch(/SELF_SIGNED|UNABLE_TO_GET_ISSUER|self.signed|unable to get/i);
  });

  it('checks the server certificate against the host name (SAN 127.0.0.1 / localhost)', async () => {
    const c = s.open({ servername: 'not-the-server.example' });
    const err = (await c.connected.then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    ))!;
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it.each([['TLSv1.2'], ['TLSv1.3']] as const)('speaks %s', async (v) => {
    // MQTT.js hands unknown options through to tls.connect().
    const c = await s.connect({ minVersion: v, maxVersion: v } as Parameters<typeof s.connect>[0]);
    const socket = c.client.stream as unknown as { getProtocol(): string | null };
    expect(socket.getProtocol()).toBe(v);
  });
});
