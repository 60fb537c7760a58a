/** Certificate fields Node does not expose: serial bytes, raw names, key bits, extensions. */
import { X509Certificate } from 'node:crypto';
import { children, ctx, decodeOid, DerError, expectSeq, integerHex, need, parseDer, TAG, type Tlv } from './der.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The DER of each PEM block labelled `label` (e.g. `CERTIFICATE`, `X509 CRL`) in `text`. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) if (m[1] === label) out.push(Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'));
  return out;
}

export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Every certificate of a PEM bundle. */
export function certificatesOf(pem: Buffer | string): X509Certificate[] {
  return pemBlocks(pem.toString(), 'CERTIFICATE').map((der) => new X509Certificate(der));
}

export interface CertParts {
  serialHex: string;
  /** The INTEGER contents of the serial number, as an OCSP CertID carries it. */
  serialValue: Buffer;
  /** DER of the issuer and subject Names. */
  issuerRaw: Buffer;
  subjectRaw: Buffer;
  /** The subjectPublicKey BIT STRING contents without the unused-bits octet. */
  publicKeyBits: Buffer;
  /** extnValue contents by extension OID. */
  extensions: Map<string, Buffer>;
}

/** Splits a DER certificate into the parts CRL and OCSP need. */
export function certParts(der: Buffer): CertParts {
  const [tbs] = expectSeq(parseDer(der), 'certificate');
  const f = expectSeq(tbs, 'tbsCertificate');
  let i = f[0]?.tag === ctx(0) ? 1 : 0;
  const serial = need(f[i++], 'serialNumber', TAG.INTEGER);
  i++; // signature algorithm
  const issuer = need(f[i++], 'issuer', TAG.SEQUENCE);
  i++; // validity
  const subject = need(f[i++], 'subject', TAG.SEQUENCE);
  const spki = expectSeq(f[i++], 'subjectPublicKeyInfo');
  const bits = spki[1];
  if (!bits || bits.tag !== TAG.BIT_STRING || bits.value.length < 1) throw new DerError('malformed certificate');
  const extensions = new Map<string, Buffer>();
  const extsWrapper = f.slice(i).find((t) => t.tag === ctx(3));
  if (extsWrapper) {
    for (const ext of expectSeq(children(extsWrapper)[0], 'extensions')) {
      const parts = expectSeq(ext, 'extension');
      const value = parts[parts.length - 1]!;
      if (parts[0]?.tag === TAG.OID && value.tag === TAG.OCTET_STRING) extensions.set(decodeOid(parts[0].value), value.value);
    }
  }
  return {
    serialHex: integerHex(serial.value),
    serialValue: serial.value,
    issuerRaw: issuer.raw,
    subjectRaw: subject.raw,
    publicKeyBits: bits.value.subarray(1),
    extensions,
  };
}

export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31';

/** The http(s) URLs of a certificate's CRL distribution points. */
export function crlDistributionPoints(der: Buffer): string[] {
  const ext = certParts(der).extensions.get(OID_CRL_DISTRIBUTION_POINTS);
  if (!ext) return [];
  const urls: string[] = [];
  const walk = (t: Tlv) => {
    if (t.tag === ctx(6, false)) urls.push(t.value.toString('latin1')); // GeneralName uniformResourceIdentifier
    else if (t.tag & 0x20) children(t).forEach(walk);
  };
  walk(parseDer(ext));
  return urls.filter((u) => /^https?:\/\//i.test(u));
}

/** The OCSP responder URLs of a certificate's Authority Information Access. */
export function ocspUrls(cert: X509Certificate): string[] {
  const out: string[] = [];
  for (const line of (cert.infoAccess ?? '').split('\n')) {
    const m = /^OCSP - URI:(.+)$/.exec(line.trim());
    if (m) out.push(m[1]!);
  }
  return out;
}

/** The issuer of `cert` among `candidates`, if one signed it. */
export function findIssuer(cert: X509Certificate, candidates: readonly X509Certificate[]): X509Certificate | undefined {
  return candidates.find((c) => cert.checkIssued(c) && cert.verify(c.publicKey));
}
