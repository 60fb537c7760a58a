import { ATTR } from '../attrs.js';
import type { X509AuthnConfig } from '../config.js';
import { denied, IGNORE, type Authenticator } from './types.js';

/** The certificate fields the core may pass; `subjectAltName` as Node prints it (`DNS:a, email:b`). */
interface PeerCert {
  subject?: string;
  commonName?: string;
  subjectAltName?: string;
}

/** The identity a certificate gives, per `username_from`. */
export function certIdentity(cert: PeerCert, from: X509AuthnConfig['username_from']): string | undefined {
  if (from === 'cn') return cert.commonName || undefined;
  if (from === 'dn') return cert.subject || undefined;
  const first = cert.subjectAltName?.split(',')[0]?.trim();
  if (!first) return undefined;
  const colon = first.indexOf(':');
  return colon >= 0 ? first.slice(colon + 1) : first;
}

/**
 * Junction `x509`: a client certificate the TLS listener verified (verify_peer) is the
 * credential. No certificate: ignored. With check_username, a different CONNECT user name is a
 * denial. The identity is recorded for authorization (`${username}` and username rules use it).
 */
export function x509Authenticator(cfg: X509AuthnConfig): Authenticator {
  return {
    id: 'x509',
    authenticate(info) {
      const cert = info.peerCert as PeerCert | undefined;
      if (!cert) return IGNORE;
      const identity = certIdentity(cert, cfg.username_from);
      if (identity === undefined) return IGNORE;
      if (cfg.check_username && info.username !== undefined && info.username !== '' && info.username !== identity) {
        return denied('bad_credentials', 'user name does not match the client certificate');
      }
      return { result: 'allow', attrs: { [ATTR.username]: identity } };
    },
  };
}
