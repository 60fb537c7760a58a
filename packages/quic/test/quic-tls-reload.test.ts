/**
 * `listeners.quic.<name>.ssl_options` through @junction/tls: an encrypted key with `password`,
 * options QUIC cannot honour refused with a ConfigError naming the key, and certificate files
 * replaced on disk taken by the connections made after the reload while open ones go on.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { BrokerCore, ConfigError, createAdapterContext } from '@junction/broker-core';
import { defaultMqttOptions } from '@junction/mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { quicListenersFactory } from '../src/quic/index.js';
import { quicListenerConfig } from './quic-fixture.js';
import { startQuicBroker } from './quic-harness.js';
import { RawStream } from './quic-raw.js';
import { makeCert, type TestCert } from './wt-helpers.js';

const made: TestCert[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of made) c.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cert(): TestCert {
  const c = makeCert();
  made.push(c);
  return c;
}

const fingerprint = (der: Uint8Array | undefined) => (der ? new X509Certificate(der).fingerprint256 : undefined);

describe('listeners.quic ssl_options', () => {
  it('takes a new certificate for new connections after a reload; open connections go on', async () => {
    const a = cert();
    const b2 = cert();
    const dir = mkdtempSync(join(tmpdir(), 'junction-quic-tls-'));
    dirs.push(dir);
    const certfile = join(dir, 'cert.pem');
    const keyfile = join(dir, 'key.pem');
    copyFileSync(a.certFile, certfile);
    copyFileSync(a.keyFile, keyfile);
    const b = await startQuicBroker({
      // Polling off: the test reloads by hand (file-system notifications may still fire first).
      listener: { ssl_options: { certfile, keyfile, verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3'], reload_interval: 0 } },
    });
    try {
      const first = await b.quic({ insecure: true });
      expect(fingerprint(first.serverCertificate)).toBe(new X509Certificate(a.cert).fingerprint256);
      const raw = new RawStream(first.stream);
      raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'before-reload', clean: true, keepalive: 60 });
      await raw.next('connack');

      copyFileSync(b2.keyFile, keyfile);
      copyFileSync(b2.certFile, certfile);
      await b.listener.reloadTls();
      const second = await b.quic({ insecure: true });
      expect(fingerprint(second.serverCertificate)).toBe(new X509Certificate(b2.cert).fingerprint256);
      // The connection made before the reload is unaffected.
      raw.send({ cmd: 'pingreq' });
      await raw.next('pingresp');
    } finally {
      await b.stop();
    }
  });

  it('reads an encrypted key with password', async () => {
    const a = cert();
    const encrypted = join(a.dir, 'key-encrypted.pem');
    execFileSync('openssl', ['pkey', '-in', a.keyFile, '-aes256', '-passout', 'pass:s3cret', '-out', encrypted], { stdio: 'ignore' });
    const b = await startQuicBroker({
      listener: { ssl_options: { certfile: a.certFile, keyfile: encrypted, password: 's3cret', verify: 'verify_none', fail_if_no_peer_cert: false, versions: ['tlsv1.3'] } },
    });
    try {
      const q = await b.quic({ insecure: true });
      expect(fingerprint(q.serverCertificate)).toBe(new X509Certificate(a.cert).fingerprint256);
    } finally {
      await b.stop();
    }
  });

  it('refuses options QUIC cannot honour, and unreadable files, naming the key', async () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker, { sections: { mqtt: defaultMqttOptions } });
    const base = quicListenerConfig();
    const startWith = async (ssl: Partial<typeof base.ssl_options>) => {
      const adapter = quicListenersFactory.create(ctx, { default: { ...base, ssl_options: { ...base.ssl_options, ...ssl } } });
      const err = await adapter.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      await adapter.stop();
      return err as ConfigError | undefined;
    };
    try {
      expect((await startWith({ versions: ['tlsv1.2'] }))?.path).toBe('listeners.quic.default.ssl_options.versions');
      expect((await startWith({ enable_crl_check: true }))?.path).toBe('listeners.quic.default.ssl_options.enable_crl_check');
      const missing = await startWith({ keyfile: join(tmpdir(), 'no-such-junction-key.pem') });
      expect(missing).toBeInstanceOf(ConfigError);
      expect(missing?.path).toBe('listeners.quic.default.ssl_options.keyfile');
    } finally {
      await broker.close();
    }
  });
});
