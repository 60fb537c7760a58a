/**
 * Certificate revocation lists: parsing, signature checks, and a store of CRLs from files and from
 * the distribution points of client certificates (fetched over HTTP, cached, refreshed).
 * Only the client certificate itself is checked, as EMQX does (`crl_check: peer`).
 */
import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import { children, decodeOid, decodeTime, DerError, expectSeq, integerHex, need, parseDer, TAG } from './der.js';
import { fetchBytes } from './http.js';
import type { CrlCacheOptions } from './config.js';
import type { TlsLogger } from './logger.js';
import { certParts, crlDistributionPoints, pemBlocks } from './x509.js';

export interface Crl {
  issuerRaw: Buffer;
  thisUpdate: number;
  nextUpdate?: number;
  /** Revoked serial numbers, hex upper case without leading zeros. */
  revoked: Set<string>;
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
}

/** Parses one DER CRL (RFC 5280 §5.1). */
export function parseCrl(der: Buffer): Crl {
  const [tbsTlv, alg, sig] = expectSeq(parseDer(der), 'CRL');
  const f = expectSeq(tbsTlv, 'tbsCertList');
  let i = f[0]?.tag === TAG.INTEGER ? 1 : 0;
  i++; // signature algorithm (repeated outside)
  const issuer = need(f[i++], 'CRL issuer', TAG.SEQUENCE);
  const thisUpdate = decodeTime(f[i++]);
  let nextUpdate: number | undefined;
  if (f[i] && (f[i]!.tag === TAG.UTC_TIME || f[i]!.tag === TAG.GENERALIZED_TIME)) nextUpdate = decodeTime(f[i++]!);
  const revoked = new Set<string>();
  if (f[i]?.tag === TAG.SEQUENCE) {
    for (const entry of children(f[i]!)) {
      const serial = expectSeq(entry, 'revoked certificate')[0];
      if (serial?.tag === TAG.INTEGER) revoked.add(integerHex(serial.value));
    }
  }
  const algOid = expectSeq(alg, 'signatureAlgorithm')[0];
  if (!tbsTlv || !algOid || algOid.tag !== TAG.OID || !sig || sig.tag !== TAG.BIT_STRING) throw new DerError('malformed CRL');
  return { issuerRaw: issuer.raw, thisUpdate, nextUpdate, revoked, tbs: tbsTlv.raw, signatureAlgorithm: decodeOid(algOid.value), signature: sig.value.subarray(1) };
}

/** CRLs of a PEM (`X509 CRL` blocks) or DER file's contents. */
export function parseCrls(data: Buffer): Crl[] {
  const text = data.subarray(0, 64).toString('latin1');
  const ders = text.includes('-----BEGIN') ? pemBlocks(data.toString('latin1'), 'X509 CRL') : [data];
  return ders.map(parseCrl);
}

/** Digest per signature algorithm OID (null: the key type decides, as for Ed25519). */
const SIGNATURE_DIGEST: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

/** True when `issuer` issued and signed this CRL. */
export function crlSignedBy(crl: Crl, issuer: X509Certificate): boolean {
  if (!crl.issuerRaw.equals(certParts(issuer.raw).subjectRaw)) return false;
  const digest = SIGNATURE_DIGEST[crl.signatureAlgorithm];
  if (digest === undefined) return false;
  try {
    return verifySignature(digest, crl.tbs, issuer.publicKey, crl.signature);
  } catch {
    return false;
  }
}

export type RevocationStatus = 'good' | 'revoked' | 'unknown';

interface CachedCrl {
  crls: Crl[];
  fetchedAt: number;
}

const MAX_CACHED_URLS = 100;

/** CRLs from `crlfile` and from distribution points, answering "is this certificate revoked?". */
export class CrlStore {
  private fileCrls: Crl[] = [];
  private readonly cache = new Map<string, CachedCrl>();
  private readonly inflight = new Map<string, Promise<Crl[] | undefined>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: CrlCacheOptions,
    private readonly log: TlsLogger,
  ) {}

  /** The CRLs of `crlfile` (replaced on every reload). */
  setFileCrls(crls: Crl[]): void {
    this.fileCrls = crls;
  }

  /** Starts refreshing cached distribution points every `refresh_interval`. */
  start(): void {
    this.timer ??= setInterval(() => void this.refreshAll(), this.options.refresh_interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Distribution point URLs fetched so far. */
  get urls(): string[] {
    return [...this.cache.keys()];
  }

  /** The revocation status of `cert` (DER) issued by `issuer`. */
  async status(cert: Buffer, issuer: X509Certificate): Promise<RevocationStatus> {
    const serial = certParts(cert).serialHex;
    const crls = this.fileCrls.filter((c) => crlSignedBy(c, issuer));
    for (const url of crlDistributionPoints(cert)) {
      for (const c of (await this.fromUrl(url)) ?? []) {
        if (crlSignedBy(c, issuer)) crls.push(c);
        else this.log.warn({ url }, 'tls_crl_not_signed_by_issuer');
      }
    }
    if (crls.length === 0) return 'unknown';
    return crls.some((c) => c.revoked.has(serial)) ? 'revoked' : 'good';
  }

  /** Cached CRLs of `url`, fetched when missing or stale; the stale copy when a refresh fails. */
  private async fromUrl(url: string): Promise<Crl[] | undefined> {
    const cached = this.cache.get(url);
    const now = Date.now();
    const fresh = cached && now - cached.fetchedAt < this.options.refresh_interval && cached.crls.every((c) => c.nextUpdate === undefined || c.nextUpdate > now);
    if (fresh) return cached.crls;
    return (await this.fetch(url)) ?? cached?.crls;
  }

  private fetch(url: string): Promise<Crl[] | undefined> {
    let p = this.inflight.get(url);
    if (!p) {
      p = fetchBytes(url, { timeoutMs: this.options.http_timeout })
        .then((body) => {
          const crls = parseCrls(body);
          if (!this.cache.has(url) && this.cache.size >= MAX_CACHED_URLS) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(url, { crls, fetchedAt: Date.now() });
          this.log.info({ url, revoked: crls.reduce((n, c) => n + c.revoked.size, 0) }, 'tls_crl_fetched');
          return crls;
        })
        .catch((err: unknown) => {
          this.log.warn({ url, err }, 'tls_crl_fetch_failed');
          return undefined;
        })
        .finally(() => this.inflight.delete(url));
      this.inflight.set(url, p);
    }
    return p;
  }

  /** Fetches every known distribution point again. */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.cache.keys()].map((u) => this.fetch(u)));
  }
}
