/**
 * `listeners.webtransport.<name>.ssl_options` through @junction/tls: certificate files replaced
 * on disk reach the HTTP/3 connections made after the reload.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WebTransportListenerGroup } from '../src/webtransport/index.js';
import { H3TestClient } from './wt-h3-client.js';
import { makeCert, startWtBroker } from './wt-helpers.js';

describe('listeners.webtransport ssl_options', () => {
  it('new HTTP/3 connections get the replaced certificate after a reload', async () => {
    const next = makeCert();
    const b = await startWtBroker();
    // Serve from copies, so the files can be replaced.
    const certfile = join(next.dir, 'served-cert.pem');
    const keyfile = join(next.dir, 'served-key.pem');
    copyFileSync(b.cert.certFile, certfile);
    copyFileSync(b.cert.keyFile, keyfile);
    await b.stop();
    const w = await startWtBroker({ listener: { http2: { enable: false, bind: { host: '127.0.0.1', port: 0 } }, ssl_options: { certfile, keyfile, reload_interval: 0 } } });
    const clients: H3TestClient[] = [];
    try {
      const before = await H3TestClient.connect(w.h3Port);
      clients.push(before);
      const fp = (c: H3TestClient) => new X509Certificate(c.quic.connection.getRemoteCertsChain()[0]!).fingerprint256;
      expect(fp(before)).toBe(new X509Certificate(b.cert.cert).fingerprint256);

      copyFileSync(next.keyFile, keyfile);
      copyFileSync(next.certFile, certfile);
      await (w.wt as WebTransportListenerGroup).listeners[0]!.reloadTls();
      const after = await H3TestClient.connect(w.h3Port);
      clients.push(after);
      expect(fp(after)).toBe(new X509Certificate(next.cert).fingerprint256);
      // Sessions still open on the new connection.
      await after.openControl();
      expect((await after.session('/mqtt', w.h3Port)).status).toBe(200);
    } finally {
      for (const c of clients) await c.close();
      await w.stop();
      next.remove();
    }
  });
});
