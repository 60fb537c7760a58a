/**
 * Shared plumbing of the WebTransport tests: a short-lived ECDSA P-256 certificate made with
 * openssl (what Chromium accepts through serverCertificateHashes), and a broker with a TCP
 * listener and a WebTransport listener (HTTP/3 on UDP, HTTP/2 on TCP), all on port 0.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerCore, createAdapterContext, type Adapter, type BrokerOptions } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { topicFor, type TestClient } from '@junction/mqtt/testing';
import { expect } from 'vitest';
import { defaultWebTransportListenerConfig, webtransportListenersFactory, type WebTransportListenerConfig } from '../src/webtransport/index.js';

export interface TestCert {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  /** SHA-256 of the certificate's DER: the value for `serverCertificateHashes`. */
  readonly hash: Buffer;
  remove(): void;
}

/** A self-signed ECDSA P-256 certificate for 127.0.0.1, valid 10 days (Chromium's limit is 14). */
export function makeCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'junction-wt-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '10', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(certFile, 'utf8');
  const hash = createHash('sha256').update(new X509Certificate(cert).raw).digest();
  return { dir, certFile, keyFile, cert, hash, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WtBroker {
  readonly broker: BrokerCore;
  readonly tcpPort: number;
  /** UDP port of the HTTP/3 endpoint. */
  readonly h3Port: number;
  /** TCP port of the HTTP/2 endpoint. */
  readonly h2Port: number;
  readonly wt: Adapter;
  readonly cert: TestCert;
  stop(): Promise<void>;
}

export async function startWtBroker(opts: { broker?: BrokerOptions; listener?: Partial<WebTransportListenerConfig> } = {}): Promise<WtBroker> {
  const cert = makeCert();
  const broker = new BrokerCore({ nodeName: 'wt-test@127.0.0.1', ...opts.broker });
  const ctx = createAdapterContext(broker);
  const tcp = tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' } });
  const wt = webtransportListenersFactory.create(ctx, {
    default: {
      ...defaultWebTransportListenerConfig,
      bind: { host: '127.0.0.1', port: 0 },
      http2: { enable: true, bind: { host: '127.0.0.1', port: 0 } },
      ssl_options: { certfile: cert.certFile, keyfile: cert.keyFile },
      ...opts.listener,
    },
  });
  const tcpPort = (await tcp.start())[0]!.port;
  const infos = await wt.start();
  let stopped: Promise<void> | undefined;
  return {
    broker,
    tcpPort,
    h3Port: infos.find((i) => i.type === 'wt')!.port,
    h2Port: infos.find((i) => i.type === 'wt-h2')?.port ?? 0,
    wt,
    cert,
    stop: () =>
      (stopped ??= (async () => {
        await wt.stop({ drainMs: 300 });
        await tcp.stop({ drainMs: 100 });
        await broker.close();
        cert.remove();
      })()),
  };
}

/**
 * 300 KB each way between a WebTransport client and a TCP client (200 × 1 KiB and one 100 KiB
 * message at QoS 0): asserts both sides received every byte.
 */
export async function exchangeBulk(wt: TestClient, tcp: TestClient): Promise<void> {
  const up = topicFor('bulk-up');
  const down = topicFor('bulk-down');
  await tcp.client.subscribeAsync(up, { qos: 0 });
  await wt.client.subscribeAsync(down, { qos: 0 });
  const payloads = [...Array.from({ length: 200 }, (_, i) => Buffer.alloc(1024, i)), Buffer.alloc(100 * 1024, 7)];
  for (const p of payloads) wt.client.publish(up, p, { qos: 0 });
  for (const p of payloads) tcp.client.publish(down, p, { qos: 0 });
  const gotUp = await tcp.waitMessages(payloads.length, up, 15_000);
  const gotDown = await wt.waitMessages(payloads.length, down, 15_000);
  expect(gotUp.reduce((n, m) => n + m.payload.length, 0)).toBe(300 * 1024);
  expect(gotDown.reduce((n, m) => n + m.payload.length, 0)).toBe(300 * 1024);
}
