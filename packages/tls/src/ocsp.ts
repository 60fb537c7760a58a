/**
 * OCSP stapling (RFC 6960, RFC 6066 §8): ask the responder about the server certificate, keep the
 * DER response until its nextUpdate or `refresh_interval`, and hand it to handshakes that request
 * certificate status. The client verifies the response; the server only checks that it is a
 * successful answer about its own certificate.
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { children, ctx, decodeOid, decodeTime, DerError, encodeOid, encodeTlv, expectSeq, integerHex, need, parseDer, seq, TAG } from './der.js';
import { fetchBytes } from './http.js';
import type { OcspOptions } from './config.js';
import type { TlsLogger } from './logger.js';
import { certParts, ocspUrls } from './x509.js';

const OID_SHA1 = '1.3.14.3.2.26';
const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** DER OCSPRequest for one certificate (CertID with SHA-1, as responders expect). */
export function ocspRequest(cert: X509Certificate, issuer: X509Certificate): Buffer {
  const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();
  const leaf = certParts(cert.raw);
  const ca = certParts(issuer.raw);
  const certId = seq(
    seq(encodeOid(OID_SHA1), encodeTlv(TAG.NULL, Buffer.alloc(0))),
    encodeTlv(TAG.OCTET_STRING, sha1(ca.subjectRaw)),
    encodeTlv(TAG.OCTET_STRING, sha1(ca.publicKeyBits)),
    encodeTlv(TAG.INTEGER, leaf.serialValue),
  );
  return seq(seq(seq(seq(certId))));
}

export type OcspCertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspAnswer {
  status: OcspCertStatus;
  serialHex: string;
  thisUpdate: number;
  nextUpdate?: number;
}

export class OcspResponseError extends Error {
  override readonly name = 'OcspResponseError';
}

/** The single responses of a DER OCSPResponse; throws unless it is a successful basic response. */
export function parseOcspResponse(der: Buffer): OcspAnswer[] {
  const top = expectSeq(parseDer(der), 'OCSPResponse');
  const status = top[0];
  if (!status || status.tag !== TAG.ENUMERATED) throw new DerError('OCSPResponse: no status');
  if (status.value[0] !== 0) throw new OcspResponseError(`OCSP responder answered status ${status.value[0]}`);
  const bytes = expectSeq(top[1] && top[1].tag === ctx(0) ? children(top[1])[0] : undefined, 'responseBytes');
  if (bytes[0]?.tag !== TAG.OID || decodeOid(bytes[0].value) !== OID_OCSP_BASIC || bytes[1]?.tag !== TAG.OCTET_STRING) {
    throw new OcspResponseError('not a basic OCSP response');
  }
  const basic = expectSeq(parseDer(bytes[1].value), 'BasicOCSPResponse');
  const data = expectSeq(basic[0], 'ResponseData');
  let i = data[0]?.tag === ctx(0) ? 1 : 0;
  i += 2; // responderID, producedAt
  return expectSeq(data[i], 'responses').map((r) => {
    const f = expectSeq(r, 'SingleResponse');
    const certId = expectSeq(f[0], 'CertID');
    const kind = need(f[1], 'certStatus').tag & 0x1f;
    const next = f.slice(3).find((t) => t.tag === ctx(0));
    return {
      status: kind === 0 ? ('good' as const) : kind === 1 ? ('revoked' as const) : ('unknown' as const),
      serialHex: integerHex(need(certId[3], 'CertID serialNumber', TAG.INTEGER).value),
      thisUpdate: decodeTime(f[2]),
      nextUpdate: next ? decodeTime(children(next)[0]) : undefined,
    };
  });
}

/** Keeps a fresh OCSP response for one server certificate. */
export class OcspStapler {
  private cert: X509Certificate | undefined;
  private issuer: X509Certificate | undefined;
  private der: Buffer | undefined;
  private answer: OcspAnswer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly options: OcspOptions,
    private readonly log: TlsLogger,
  ) {}

  /** The certificate to staple for (after every reload); fetches a response at once. */
  async setCertificate(cert: X509Certificate, issuer: X509Certificate | undefined): Promise<void> {
    if (this.cert?.fingerprint256 === cert.fingerprint256 && this.der) return;
    this.cert = cert;
    this.issuer = issuer;
    this.der = undefined;
    this.answer = undefined;
    if (!issuer) {
      this.log.warn({ subject: cert.subject }, 'tls_ocsp_issuer_unknown');
      return;
    }
    await this.refresh();
  }

  /** The response to staple now: undefined before the first answer or after its nextUpdate. */
  response(): Buffer | undefined {
    if (!this.der) return undefined;
    if (this.answer?.nextUpdate !== undefined && this.answer.nextUpdate <= Date.now()) return undefined;
    return this.der;
  }

  /** The last answer about the certificate, for logs and tests. */
  get status(): OcspAnswer | undefined {
    return this.answer;
  }

  /** Asks the responder now (one request at a time); keeps the previous response on failure. */
  refresh(): Promise<void> {
    this.running ??= this.fetchOnce().finally(() => {
      this.running = undefined;
      this.schedule();
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async fetchOnce(): Promise<void> {
    const cert = this.cert;
    const issuer = this.issuer;
    if (!cert || !issuer) return;
    const url = this.options.responder_url || ocspUrls(cert)[0];
    if (!url) {
      this.log.warn({ subject: cert.subject }, 'tls_ocsp_no_responder');
      return;
    }
    try {
      const der = await fetchBytes(url, { timeoutMs: this.options.refresh_http_timeout, body: ocspRequest(cert, issuer), contentType: 'application/ocsp-request' });
      const serial = certParts(cert.raw).serialHex;
      const answer = parseOcspResponse(der).find((a) => a.serialHex === serial);
      if (!answer) throw new OcspResponseError('the OCSP response is not about the server certificate');
      if (cert !== this.cert) return; // reloaded meanwhile
      this.der = der;
      this.answer = answer;
      this.log.info({ url, status: answer.status, next_update: answer.nextUpdate }, 'tls_ocsp_response_cached');
    } catch (err) {
      this.log.warn({ url, err }, 'tls_ocsp_fetch_failed');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    let delay = this.options.refresh_interval;
    const next = this.answer?.nextUpdate;
    if (next !== undefined) delay = Math.min(delay, Math.max(1000, next - Date.now()));
    if (!this.der) delay = Math.min(delay, 60_000);
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }
}
