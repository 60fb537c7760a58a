/**
 * Mutual TLS with CRL checking: a client certificate revoked in a CRL file, or in the CRL its
 * distribution point serves, is refused; the good one is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { makePki, type Pki } from '../src/testing/index.js';
import { startHttp, startServer, tryConnect } from './helpers.js';
import type { SslOptions } from '../src/index.js';

let pki: Pki;
let http: Awaited<ReturnType<typeof startHttp>>;
let crlAvailable = true;
let crlHangs = false;

beforeAll(async () => {
  http = await startHttp({ '/ca.crl': () => (crlHangs ? undefined : crlAvailable ? pki.read('ca.crl.der') : Buffer.from('not a CRL')) });
  pki = makePki({ crlUrl: http.url('/ca.crl') });
  pki.issue('server', 'localhost', 'server_ext');
  pki.issue('good', 'good-client', 'client_ext');
  pki.issue('bad', 'bad-client', 'client_ext');
  pki.revoke('bad');
  pki.gencrl();
});

afterAll(async () => {
  await http?.stop();
  pki?.cleanup();
});

const base = (): SslOptions => ({
  certfile: pki.file('server.crt'),
  keyfile: pki.file('server.key'),
  cacertfile: pki.file('ca.crt'),
  verify: 'verify_peer',
  fail_if_no_peer_cert: true,
  versions: ['tlsv1.3', 'tlsv1.2'],
  enable_crl_check: true,
});

const client = (name: string) => ({ ca: pki.read('ca.crt'), cert: pki.read(`${name}.crt`), key: pki.read(`${name}.key`) });

describe('CRL from a file', () => {
  it('refuses the revoked client certificate and accepts the good one (PEM and DER files)', async () => {
    for (const crlfile of ['ca.crl.pem', 'ca.crl.der']) {
      // The distribution point is unreachable here: the file alone decides.
      crlAvailable = false;
      const s = await startServer({ ...base(), crlfile: pki.file(crlfile) });
      try {
        const good = await tryConnect(s.port, client('good'));
        expect(good.ok && good.greeting).toBe('hello good-client');
        if (good.ok) good.socket.destroy();
        const bad = await tryConnect(s.port, client('bad'));
        expect(bad.ok).toBe(false);
        expect(s.checks.filter((c) => !c.ok)).toEqual([expect.objectContaining({ ok: false, reason: 'peer_cert_revoked' })]);
      } finally {
        crlAvailable = true;
        await s.stop();
      }
    }
  });

  it('picks up a new CRL file without a restart', async () => {
    const crlfile = `${pki.dir}/live.crl`;
    pki.issue('later', 'later-client', 'client_ext');
    copyFileSync(pki.file('ca.crl.pem'), crlfile);
    crlAvailable = false;
    const s = await startServer({ ...base(), crlfile, reload_interval: 0 });
    try {
      const before = await tryConnect(s.port, client('later'));
      expect(before.ok).toBe(true);
      if (before.ok) before.socket.destroy();
      pki.revoke('later');
      pki.gencrl();
      const reloaded = new Promise((resolve) => s.manager.once('reload', resolve));
      copyFileSync(pki.file('ca.crl.pem'), crlfile);
      await reloaded;
      const after = await tryConnect(s.port, client('later'));
      expect(after.ok).toBe(false);
    } finally {
      crlAvailable = true;
      await s.stop();
    }
  });
});

describe('CRL from the certificate\'s distribution point', () => {
  it('fetches the CRL over HTTP once, refuses the revoked certificate and accepts the good one', async () => {
    const s = await startServer(base());
    const before = http.hits.get('/ca.crl') ?? 0;
    try {
      const bad = await tryConnect(s.port, client('bad'));
      expect(bad.ok).toBe(false);
      const good = await tryConnect(s.port, client('good'));
      expect(good.ok && good.greeting).toBe('hello good-client');
      if (good.ok) good.socket.destroy();
      const again = await tryConnect(s.port, client('good'));
      expect(again.ok).toBe(true);
      if (again.ok) again.socket.destroy();
      expect(http.hits.get('/ca.crl')! - before).toBe(1); // cached
      expect(s.manager.crls!.urls).toEqual([http.url('/ca.crl')]);
      expect(s.checks.map((c) => (c.ok ? 'ok' : c.reason))).toEqual(['peer_cert_revoked', 'ok', 'ok']);
    } finally {
      await s.stop();
    }
  });

  it('refuses every client certificate when no CRL can be had for its issuer (fails closed)', async () => {
    crlAvailable = false;
    const s = await startServer(base());
    try {
      const good = await tryConnect(s.port, client('good'));
      expect(good.ok).toBe(false);
      expect(s.checks).toEqual([expect.objectContaining({ ok: false, reason: 'peer_cert_crl_unavailable' })]);
    } finally {
      crlAvailable = true;
      await s.stop();
    }
  });

  it('gives up on a distribution point that does not answer within http_timeout', async () => {
    crlHangs = true;
    const s = await startServer({ ...base(), crl_cache: { refresh_interval: 60_000, http_timeout: 300 } });
    try {
      expect((await tryConnect(s.port, client('good'))).ok).toBe(false);
      expect(s.checks).toEqual([expect.objectContaining({ ok: false, reason: 'peer_cert_crl_unavailable' })]);
    } finally {
      crlHangs = false;
      await s.stop();
    }
  });

  it('refreshes the cached CRL: a certificate revoked later is refused after the refresh', async () => {
    pki.issue('late2', 'late2-client', 'client_ext');
    pki.gencrl();
    const s = await startServer({ ...base(), crl_cache: { refresh_interval: 60_000, http_timeout: 5000 } });
    try {
      const ok = await tryConnect(s.port, client('late2'));
      expect(ok.ok).toBe(true);
      if (ok.ok) ok.socket.destroy();
      pki.revoke('late2');
      pki.gencrl();
      await s.manager.crls!.refreshAll();
      const refused = await tryConnect(s.port, client('late2'));
      expect(refused.ok).toBe(false);
    } finally {
      await s.stop();
    }
  });
});
