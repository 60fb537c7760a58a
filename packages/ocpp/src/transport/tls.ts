import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { SecureVersion, TLSSocket } from 'node:tls';
import type { SslOptions } from '../config.js';

/** Node TLS server options from EMQX-style `ssl_options`. */
export function tlsServerOptions(o: SslOptions) {
  const versions = o.versions.map((v) => (v === 'tlsv1.3' ? 'TLSv1.3' : 'TLSv1.2') as SecureVersion).sort();
  const verify = o.verify === 'verify_peer';
  return {
    cert: readFileSync(o.certfile),
    key: readFileSync(o.keyfile),
    ca: o.cacertfile ? readFileSync(o.cacertfile) : undefined,
    requestCert: verify,
    // With verify_peer a presented certificate must verify (checked in `peerCertificate`); a
    // missing one is refused in the TLS handshake only with fail_if_no_peer_cert.
    rejectUnauthorized: verify && o.fail_if_no_peer_cert,
    minVersion: versions[0],
    maxVersion: versions[versions.length - 1],
    ciphers: o.ciphers,
  };
}

export type PeerCert = { subject?: string; commonName?: string };

/**
 * The charger's verified certificate (OCPP security profile 3): `undefined` without one,
 * `false` when one was presented that does not verify.
 */
export function peerCertificate(req: IncomingMessage): PeerCert | undefined | false {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!socket.authorized) return false;
  const subject = cert.subject as unknown as Record<string, string> | undefined;
  return { commonName: subject?.CN, subject: subject ? Object.entries(subject).map(([k, v]) => `${k}=${v}`).join(',') : undefined };
}
