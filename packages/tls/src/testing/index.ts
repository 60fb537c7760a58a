/** Test support for TLS listeners: a throwaway PKI (openssl) with CRLs and an OCSP responder. */
export { describeOcspResponse, makePki, startOcspResponder, type Pki, type PkiOptions } from './pki.js';
