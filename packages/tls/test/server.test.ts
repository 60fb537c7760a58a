/**
 * A TLS server run through TlsContextManager: versions, PSK, mutual TLS with depth, and
 * certificate reload without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { makePki, type Pki } from '../src/testing/index.js';
import { echo, startServer, tryConnect } from './helpers.js';
import { TlsConfigError, TlsContextManager, type SslOptions } from '../src/index.js';

let pki: Pki;

beforeAll(() => {
  pki = makePki();
  pki.issue('server', 'localhost', 'server_ext');
  pki.issue('server2', 'localhost', 'server_ext');
  pki.issue('client', 'device-1', 'client_ext');
});

afterAll(() => pki?.cleanup());

const ssl = (o: Partial<SslOptions> = {}): SslOptions => ({
  certfile: pki.file('server.crt'),
  keyfile: pki.file('server.key'),
  cacertfile: pki.file('ca.crt'),
  verify: 'verify_none',
  fail_if_no_peer_cert: false,
  versions: ['tlsv1.3', 'tlsv1.2'],
  ...o,
});
const trust = () => ({ ca: pki.read('ca.crt') });

describe('versions', () => {
  it('refuses a TLS 1.2-only client when versions is [tlsv1.3], accepts TLS 1.3', async () => {
    const s = await startServer(ssl({ versions: ['tlsv1.3'] }));
    try {
      const old = await tryConnect(s.port, { ...trust(), maxVersion: 'TLSv1.2' });
      expect(old.ok).toBe(false);
      const now = await tryConnect(s.port, trust());
      expect(now.ok && now.socket.getProtocol()).toBe('TLSv1.3');
      if (now.ok) now.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it('speaks only TLS 1.2 when versions is [tlsv1.2]', async () => {
    const s = await startServer(ssl({ versions: ['tlsv1.2'] }));
    try {
      const c = await tryConnect(s.port, trust());
      expect(c.ok && c.socket.getProtocol()).toBe('TLSv1.2');
      if (c.ok) c.socket.destroy();
    } finally {
      await s.stop();
    }
  });
});

describe('PSK', () => {
  const keyHex = '00112233445566778899aabbccddeeff';
  const psk = (identity: string, key: string) => ({
    maxVersion: 'TLSv1.2' as const,
    ciphers: 'PSK-AES128-GCM-SHA256',
    checkServerIdentity: () => undefined,
    pskCallback: () => ({ identity, psk: Buffer.from(key, 'hex') }),
  });

  it('accepts a client with a known identity and key, refuses a wrong key and an unknown identity', async () => {
    const file = pki.file('psk.txt');
    writeFileSync(file, `# identities\nsensor-1:${keyHex}\nsensor-2:ffeeddccbbaa99887766554433221100\n`);
    const s = await startServer(ssl({ psk: { enable: true, init_file: file, separator: ':' } }));
    try {
      const good = await tryConnect(s.port, psk('sensor-1', keyHex));
      expect(good.ok && good.greeting).toBe('hello sensor-1');
      expect(good.ok && good.socket.getCipher().name).toMatch(/PSK/);
      if (good.ok) good.socket.destroy();
      expect((await tryConnect(s.port, psk('sensor-1', 'ffeeddccbbaa99887766554433221100'))).ok).toBe(false);
      expect((await tryConnect(s.port, psk('nobody', keyHex))).ok).toBe(false);
      // Certificate clients still get in.
      const cert = await tryConnect(s.port, trust());
      expect(cert.ok).toBe(true);
      if (cert.ok) cert.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it('lets PSK clients in on a listener that requires client certificates from others', async () => {
    const file = pki.file('psk2.txt');
    writeFileSync(file, `sensor-1:${keyHex}\n`);
    const s = await startServer(ssl({ verify: 'verify_peer', fail_if_no_peer_cert: true, psk: { enable: true, init_file: file, separator: ':' } }));
    try {
      const good = await tryConnect(s.port, psk('sensor-1', keyHex));
      expect(good.ok && good.greeting).toBe('hello sensor-1');
      if (good.ok) good.socket.destroy();
      expect((await tryConnect(s.port, trust())).ok).toBe(false); // neither PSK nor certificate
    } finally {
      await s.stop();
    }
  });

  it('rejects a malformed identities file with the line number', () => {
    const file = pki.file('bad-psk.txt');
    writeFileSync(file, 'sensor-1:00ff\nsensor-2:not-hex\n');
    expect(() => new TlsContextManager(ssl({ psk: { enable: true, init_file: file, separator: ':' } }))).toThrow(/bad-psk.txt:2/);
  });
});

describe('mutual TLS', () => {
  it('passes the verified client certificate on; refuses clients without one (fail_if_no_peer_cert)', async () => {
    const s = await startServer(ssl({ verify: 'verify_peer', fail_if_no_peer_cert: true }));
    try {
      const c = await tryConnect(s.port, { ...trust(), cert: pki.read('client.crt'), key: pki.read('client.key') });
      expect(c.ok && c.greeting).toBe('hello device-1');
      if (c.ok) c.socket.destroy();
      expect((await tryConnect(s.port, trust())).ok).toBe(false);
    } finally {
      await s.stop();
    }
  });

  it('refuses a certificate from another CA even without fail_if_no_peer_cert', async () => {
    const other = makePki();
    try {
      other.issue('intruder', 'intruder', 'client_ext');
      const s = await startServer(ssl({ verify: 'verify_peer' }));
      try {
        const c = await tryConnect(s.port, { ...trust(), cert: other.read('intruder.crt'), key: other.read('intruder.key') });
        expect(c.ok).toBe(false);
        expect(s.checks).toEqual([expect.objectContaining({ ok: false, reason: 'peer_cert_untrusted' })]);
        const anonymous = await tryConnect(s.port, trust());
        expect(anonymous.ok && anonymous.greeting).toBe('hello anonymous');
        if (anonymous.ok) anonymous.socket.destroy();
      } finally {
        await s.stop();
      }
    } finally {
      other.cleanup();
    }
  });
});

describe('depth', () => {
  it('counts the intermediate CAs above a client certificate', async () => {
    pki.issue('inter', 'Junction Intermediate CA', 'ca_ext');
    pki.issueUnder('inter', 'deep', 'deep-client');
    const chain = Buffer.concat([pki.read('deep.crt'), pki.read('inter.crt')]);
    const opts = { ...trust(), cert: chain, key: pki.read('deep.key') };
    for (const [depth, ok] of [[1, true], [0, false]] as const) {
      const s = await startServer(ssl({ verify: 'verify_peer', fail_if_no_peer_cert: true, depth }));
      try {
        const c = await tryConnect(s.port, opts);
        expect(c.ok).toBe(ok);
        if (c.ok) {
          expect(c.greeting).toBe('hello deep-client');
          c.socket.destroy();
        } else expect(s.checks).toEqual([expect.objectContaining({ reason: 'peer_cert_chain_too_long' })]);
      } finally {
        await s.stop();
      }
    }
  });
});

describe('certificate reload', () => {
  it('serves the new certificate to new clients after the files are replaced; old connections go on', async () => {
    const certfile = pki.file('live.crt');
    const keyfile = pki.file('live.key');
    copyFileSync(pki.file('server.crt'), certfile);
    copyFileSync(pki.file('server.key'), keyfile);
    const s = await startServer(ssl({ certfile, keyfile, reload_interval: 0 }));
    const fp1 = new X509Certificate(pki.read('server.crt')).fingerprint256;
    const fp2 = new X509Certificate(pki.read('server2.crt')).fingerprint256;
    try {
      const old = await tryConnect(s.port, trust());
      expect(old.ok).toBe(true);
      if (!old.ok) return;
      expect(old.socket.getPeerCertificate().fingerprint256).toBe(fp1);

      const reloaded = new Promise<{ fingerprint256: string }>((resolve) => s.manager.once('reload', resolve));
      copyFileSync(pki.file('server2.key'), keyfile);
      copyFileSync(pki.file('server2.crt'), certfile);
      expect((await reloaded).fingerprint256).toBe(fp2); // noticed by the file watcher

      const fresh = await tryConnect(s.port, trust());
      expect(fresh.ok && fresh.socket.getPeerCertificate().fingerprint256).toBe(fp2);
      if (fresh.ok) fresh.socket.destroy();
      // The connection made before the reload still works, with the old certificate.
      expect(await echo(old.socket, 'still here')).toContain('still here');
      expect(old.socket.getPeerCertificate().fingerprint256).toBe(fp1);
      old.socket.destroy();
    } finally {
      await s.stop();
    }
  });

  it('keeps the working certificate when the new files do not fit together, and reload() reports it', async () => {
    const certfile = pki.file('live2.crt');
    const keyfile = pki.file('live2.key');
    copyFileSync(pki.file('server.crt'), certfile);
    copyFileSync(pki.file('server.key'), keyfile);
    const s = await startServer(ssl({ certfile, keyfile, reload_interval: 0 }));
    try {
      s.manager.on('reload_failed', () => {});
      copyFileSync(pki.file('server2.crt'), certfile); // key not replaced: mismatch
      expect(await s.manager.reload()).toBe(false);
      const c = await tryConnect(s.port, trust());
      expect(c.ok && c.socket.getPeerCertificate().fingerprint256).toBe(new X509Certificate(pki.read('server.crt')).fingerprint256);
      if (c.ok) c.socket.destroy();
      copyFileSync(pki.file('server2.key'), keyfile);
      await s.manager.reload(); // (or the file watcher got there first)
      expect(s.manager.fingerprint256).toBe(new X509Certificate(pki.read('server2.crt')).fingerprint256);
    } finally {
      await s.stop();
    }
  });

  it('throws TlsConfigError for a missing file', () => {
    expect(() => new TlsContextManager(ssl({ certfile: pki.file('missing.crt') }))).toThrow(TlsConfigError);
  });
});
