import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket, type SecureVersion } from 'node:tls';
import type { AdapterContext } from '@junction/broker-core';
import type { SslListenerConfig, SslOptions } from '../config.js';
import { StreamListener } from './listener.js';

/** Node TLS server options from EMQX-style `ssl_options`. */
export function tlsServerOptions(o: SslOptions) {
  const versions = o.versions.map((v) => (v === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2') as SecureVersion).sort();
  const verify = o.verify === 'verify_peer';
  return {
    cert: readFileSync(o.certfile),
    key: readFileSync(o.keyfile),
    ca: o.cacertfile ? readFileSync(o.cacertfile) : undefined,
    requestCert: verify,
    // With verify_peer, a presented certificate must verify; a missing one is refused only
    // when fail_if_no_peer_cert is set (checked after the handshake).
    rejectUnauthorized: verify && o.fail_if_no_peer_cert,
    minVersion: versions[0],
    maxVersion: versions[versions.length - 1],
    ciphers: o.ciphers,
  };
}

/** TLS listener (EMQX default 8883), one-way or mutual. */
export function createTlsListener(name: string, config: SslListenerConfig, ctx: AdapterContext): StreamListener {
  const opts = tlsServerOptions(config.ssl_options);
  const verify = config.ssl_options.verify === 'verify_peer';
  return new StreamListener('ssl', name, config, ctx, (onSocket) =>
    createServer(opts, (socket: TLSSocket) => {
      let peerCert: { subject?: string; commonName?: string } | undefined;
      if (verify) {
        const cert = socket.getPeerCertificate();
        const presented = cert && Object.keys(cert).length > 0;
        if (presented && !socket.authorized) {
          socket.destroy();
          return;
        }
        if (presented) {
          const subject = cert.subject as unknown as Record<string, string> | undefined;
          peerCert = { commonName: subject?.CN, subject: subject ? Object.entries(subject).map(([k, v]) => `${k}=${v}`).join(',') : undefined };
        }
      }
      onSocket(socket, { peerCert });
    }),
  );
}
