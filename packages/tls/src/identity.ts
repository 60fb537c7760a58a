/**
 * The identity of a verified client certificate, as adapters hand it to the broker core
 * (`ConnectInfo.peerCert`), and EMQX's `peer_cert_as_username` / `peer_cert_as_clientid`.
 */
import { createHash } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface PeerCertInfo {
  /** The subject DN as `CN=client1,O=Acme` (attributes in certificate order). */
  subject?: string;
  commonName?: string;
  /** Subject Alternative Names as Node prints them: `DNS:a.example, email:b@example, URI:urn:x`. */
  subjectAltName?: string;
  dns: string[];
  email: string[];
  uri: string[];
  ip: string[];
  /** Hex serial number, upper case. */
  serialNumber?: string;
  /** Lower-case hex MD5 of the DER certificate (EMQX `md5`). */
  md5?: string;
}

/** How a certificate becomes a user name or client id (EMQX: cn, dn, md5; Junction: san). */
export type PeerCertAs = 'disabled' | 'cn' | 'dn' | 'san' | 'md5';

const SAN_ENTRY = /(DNS|email|URI|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)/g;

/** Splits Node's `subjectaltname` string (values with special characters come JSON-quoted). */
export function parseSubjectAltName(text: string | undefined): Pick<PeerCertInfo, 'dns' | 'email' | 'uri' | 'ip'> & { ordered: string[] } {
  const out = { dns: [] as string[], email: [] as string[], uri: [] as string[], ip: [] as string[], ordered: [] as string[] };
  for (const m of (text ?? '').matchAll(SAN_ENTRY)) {
    let value = m[2]!.trim();
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    const kind = m[1] === 'DNS' ? 'dns' : m[1] === 'email' ? 'email' : m[1] === 'URI' ? 'uri' : 'ip';
    out[kind].push(value);
    if (kind !== 'ip') out.ordered.push(value);
  }
  return out;
}

/** Identity fields of a certificate object from `getPeerCertificate()`. */
export function peerCertInfo(cert: PeerCertificate): PeerCertInfo {
  const subject = cert.subject as unknown as Record<string, string | string[]> | undefined;
  const entries = subject ? Object.entries(subject).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const])) : [];
  const cn = subject?.CN;
  const san = parseSubjectAltName(cert.subjectaltname);
  return {
    subject: subject ? entries.map(([k, v]) => `${k}=${v}`).join(',') : undefined,
    commonName: Array.isArray(cn) ? cn[0] : cn,
    subjectAltName: cert.subjectaltname || undefined,
    dns: san.dns,
    email: san.email,
    uri: san.uri,
    ip: san.ip,
    serialNumber: cert.serialNumber?.toUpperCase(),
    md5: cert.raw ? createHash('md5').update(cert.raw).digest('hex') : undefined,
  };
}

/**
 * The verified client certificate of a TLS socket: `undefined` when none was presented, `false`
 * when one was presented that did not verify.
 */
export function verifiedPeerCert(socket: TLSSocket): PeerCertInfo | undefined | false {
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!socket.authorized) return false;
  return peerCertInfo(cert);
}

/** The value `as` picks from a certificate; `undefined` when disabled or the field is absent. */
export function peerCertIdentity(cert: Partial<PeerCertInfo> | undefined, as: PeerCertAs): string | undefined {
  if (!cert || as === 'disabled') return undefined;
  let value: string | undefined;
  if (as === 'cn') value = cert.commonName;
  else if (as === 'dn') value = cert.subject;
  else if (as === 'md5') value = cert.md5;
  else value = parseSubjectAltName(cert.subjectAltName).ordered[0];
  return value || undefined;
}
