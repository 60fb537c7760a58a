/**
 * The files of `ssl_options` read into memory, and the node:tls secure-context options they make.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEFAULT_CIPHERS, type SecureContextOptions, type SecureVersion } from 'node:tls';
import type { ResolvedSslOptions } from './config.js';
import { TlsConfigError } from './errors.js';
import { PSK_CIPHERS } from './psk.js';
import { certificatesOf, findIssuer } from './x509.js';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  crl?: Buffer;
  psk?: Buffer;
  issuerPem?: Buffer;
  /** SHA-256 of every file's contents: equal digests mean nothing changed. */
  digest: string;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`ssl_options.${what}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads every file the options name. */
export function readMaterial(o: ResolvedSslOptions): TlsMaterial {
  const m: TlsMaterial = { cert: read(o.certfile, 'certfile'), key: read(o.keyfile, 'keyfile'), digest: '' };
  if (o.cacertfile) m.ca = read(o.cacertfile, 'cacertfile');
  if (o.enable_crl_check && o.crlfile) m.crl = read(o.crlfile, 'crlfile');
  if (o.psk.enable && o.psk.init_file) m.psk = read(o.psk.init_file, 'psk.init_file');
  if (o.ocsp.enable_ocsp_stapling && o.ocsp.issuer_pem) m.issuerPem = read(o.ocsp.issuer_pem, 'ocsp.issuer_pem');
  const h = createHash('sha256');
  for (const b of [m.cert, m.key, m.ca, m.crl, m.psk, m.issuerPem]) h.update(b ?? Buffer.alloc(0)).update('\0');
  m.digest = h.digest('hex');
  return m;
}

/** The files the options name, for watching. */
export function materialFiles(o: ResolvedSslOptions): string[] {
  const files = [o.certfile, o.keyfile, o.cacertfile];
  if (o.enable_crl_check) files.push(o.crlfile);
  if (o.psk.enable) files.push(o.psk.init_file);
  if (o.ocsp.enable_ocsp_stapling) files.push(o.ocsp.issuer_pem);
  return files.filter((f): f is string => !!f);
}

const VERSION: Record<string, SecureVersion> = { 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

/** Secure-context options (what `tls.createSecureContext` and `server.setSecureContext` take). */
export function secureContextOptions(o: ResolvedSslOptions, m: TlsMaterial): SecureContextOptions {
  const versions = o.versions.map((v) => VERSION[v]!).sort();
  let ciphers = o.ciphers;
  // Node's default list ends with `!PSK`, which would remove PSK suites however added.
  if (o.psk.enable) ciphers = [...(ciphers ?? DEFAULT_CIPHERS).split(':').filter((c) => c !== '!PSK'), PSK_CIPHERS].join(':');
  return {
    cert: m.cert,
    key: m.key,
    passphrase: o.password,
    ca: m.ca,
    ciphers,
    honorCipherOrder: o.honor_cipher_order,
    minVersion: versions[0],
    maxVersion: versions[versions.length - 1],
  };
}

/** The server certificate (first of certfile) and its issuer, for OCSP. */
export function serverCertAndIssuer(m: TlsMaterial): { cert: X509Certificate; issuer?: X509Certificate } {
  const chain = certificatesOf(m.cert);
  const cert = chain[0];
  if (!cert) throw new TlsConfigError('ssl_options.certfile: no PEM certificate found');
  const candidates = [...(m.issuerPem ? certificatesOf(m.issuerPem) : []), ...chain.slice(1), ...(m.ca ? certificatesOf(m.ca) : [])];
  return { cert, issuer: m.issuerPem ? candidates[0] : findIssuer(cert, candidates) };
}
