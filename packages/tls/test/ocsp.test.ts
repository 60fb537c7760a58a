/**
 * OCSP stapling against a real responder (`openssl ocsp`): a client that requests certificate
 * status receives the stapled response, which `openssl ocsp -respin` verifies and reads.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { freePort } from '@junction/test-servers';
import { describeOcspResponse, makePki, startOcspResponder, type Pki } from '../src/testing/index.js';
import { startServer } from './helpers.js';
import { parseOcspResponse, type SslOptions } from '../src/index.js';

let pki: Pki;
let responder: { stop(): Promise<void> };
let port: number;

beforeAll(async () => {
  port = await freePort();
  pki = makePki({ ocspUrl: `http://127.0.0.1:${port}` });
  pki.issue('server', 'localhost', 'server_ext');
  pki.issue('revoked-server', 'localhost', 'server_ext');
  pki.revoke('revoked-server');
  responder = await startOcspResponder(pki, port);
});

afterAll(async () => {
  await responder?.stop();
  pki?.cleanup();
});

/** The stapled response a client asking for certificate status receives (undefined: none). */
function stapled(serverPort: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    let response: Buffer | undefined;
    const socket = connect({ host: '127.0.0.1', port: serverPort, servername: 'localhost', ca: pki.read('ca.crt'), requestOCSP: true });
    socket.on('OCSPResponse', (r: Buffer | null) => (response = r ?? undefined));
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(response);
    });
    socket.once('error', reject);
  });
}

const ssl = (name: string, ocsp: Partial<NonNullable<SslOptions['ocsp']>> = {}): SslOptions => ({
  certfile: pki.file(`${name}.crt`),
  keyfile: pki.file(`${name}.key`),
  verify: 'verify_none',
  fail_if_no_peer_cert: false,
  versions: ['tlsv1.3', 'tlsv1.2'],
  cacertfile: pki.file('ca.crt'),
  ocsp: { enable_ocsp_stapling: true, refresh_interval: 300_000, refresh_http_timeout: 5000, ...ocsp },
});

describe('OCSP stapling', () => {
  it('staples the responder\'s "good" answer (responder from the certificate\'s AIA)', async () => {
    const s = await startServer(ssl('server'));
    try {
      expect(s.manager.stapler!.status?.status).toBe('good');
      const der = await stapled(s.port);
      expect(der).toBeInstanceOf(Buffer);
      const text = describeOcspResponse(pki, der!);
      expect(text).toContain('Response verify OK');
      expect(text).toMatch(/Cert Status: good/);
      expect(parseOcspResponse(der!)[0]!.status).toBe('good');
    } finally {
      await s.stop();
    }
  });

  it('staples a "revoked" answer for a revoked server certificate (responder_url from config)', async () => {
    const s = await startServer(ssl('revoked-server', { responder_url: `http://127.0.0.1:${port}/` }));
    try {
      const der = await stapled(s.port);
      expect(describeOcspResponse(pki, der!)).toMatch(/Cert Status: revoked/);
    } finally {
      await s.stop();
    }
  });

  it('asks again for the new certificate after a reload', async () => {
    copyFileSync(pki.file('server.crt'), pki.file('live.crt'));
    copyFileSync(pki.file('server.key'), pki.file('live.key'));
    const s = await startServer({ ...ssl('server'), certfile: pki.file('live.crt'), keyfile: pki.file('live.key'), reload_interval: 0 });
    try {
      expect(describeOcspResponse(pki, (await stapled(s.port))!)).toMatch(/Cert Status: good/);
      copyFileSync(pki.file('revoked-server.key'), pki.file('live.key'));
      copyFileSync(pki.file('revoked-server.crt'), pki.file('live.crt'));
      await s.manager.reload(); // (or the file watcher got there first)
      await vi.waitFor(() => expect(s.manager.stapler!.status?.status).toBe('revoked'), { timeout: 10_000, interval: 50 });
      expect(describeOcspResponse(pki, (await stapled(s.port))!)).toMatch(/Cert Status: revoked/);
    } finally {
      await s.stop();
    }
  });

  it('staples nothing, and still serves, when the responder cannot be reached', async () => {
    const dead = await freePort();
    const s = await startServer(ssl('server', { responder_url: `http://127.0.0.1:${dead}/`, refresh_http_timeout: 2000 }));
    try {
      expect(await stapled(s.port)).toBeUndefined();
    } finally {
      await s.stop();
    }
  });

  it('staples nothing to clients that do not ask', async () => {
    const s = await startServer(ssl('server'));
    try {
      const got = await new Promise<boolean>((resolve, reject) => {
        let seen = false;
        const socket = connect({ host: '127.0.0.1', port: s.port, servername: 'localhost', ca: pki.read('ca.crt') });
        socket.on('OCSPResponse', () => (seen = true));
        socket.once('secureConnect', () => {
          socket.destroy();
          resolve(seen);
        });
        socket.once('error', reject);
      });
      expect(got).toBe(false);
    } finally {
      await s.stop();
    }
  });
});
