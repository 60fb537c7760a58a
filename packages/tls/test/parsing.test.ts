/** Pure parts: SAN strings, identities, and DER input that must fail only with our own errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { DerError, OcspResponseError, ocspRequest, parseCrls, parseOcspResponse, parsePskFile, parseSubjectAltName, peerCertIdentity } from '../src/index.js';
import { makePki, type Pki } from '../src/testing/index.js';

let pki: Pki;
let crlDer: Buffer;
let ocspDer: Buffer;

beforeAll(() => {
  pki = makePki();
  pki.issue('server', 'localhost', 'server_ext');
  pki.issue('gone', 'gone', 'client_ext');
  pki.revoke('gone');
  crlDer = pki.read(pki.gencrl().split('/').pop()!);
  pki.issue('ocsp', 'ocsp signer', 'ocsp_ext');
  writeFileSync(pki.file('req.der'), ocspRequest(new X509Certificate(pki.read('server.crt')), new X509Certificate(pki.read('ca.crt'))));
  execFileSync('openssl', ['ocsp', '-index', 'index.txt', '-rsigner', 'ocsp.crt', '-rkey', 'ocsp.key', '-CA', 'ca.crt', '-reqin', 'req.der', '-respout', 'resp.der', '-ndays', '1'], { cwd: pki.dir, stdio: 'pipe' });
  ocspDer = pki.read('resp.der');
});

afterAll(() => pki?.cleanup());

describe('real CRL and OCSP response (openssl)', () => {
  it('reads the revoked serial, the dates and the OCSP status', () => {
    const [crl] = parseCrls(crlDer);
    expect([...crl!.revoked]).toEqual([new X509Certificate(pki.read('gone.crt')).serialNumber.replace(/^0+/, '')]);
    expect(crl!.nextUpdate! - crl!.thisUpdate).toBe(2 * 86_400_000);
    const [answer] = parseOcspResponse(ocspDer);
    expect(answer).toMatchObject({ status: 'good', serialHex: new X509Certificate(pki.read('server.crt')).serialNumber.replace(/^0+/, '') });
    expect(answer!.nextUpdate! - answer!.thisUpdate).toBe(86_400_000);
  });
});

describe('peer certificate identity', () => {
  const cert = {
    subject: 'C=DE,O=Acme,CN=dev-7',
    commonName: 'dev-7',
    subjectAltName: 'IP Address:10.0.0.7, DNS:dev-7.example, email:dev7@example.com, URI:"urn:dev,7"',
    md5: '0123456789abcdef0123456789abcdef',
  };

  it('splits Node\'s SAN string, JSON-quoted values included', () => {
    expect(parseSubjectAltName(cert.subjectAltName)).toEqual({
      dns: ['dev-7.example'],
      email: ['dev7@example.com'],
      uri: ['urn:dev,7'],
      ip: ['10.0.0.7'],
      ordered: ['dev-7.example', 'dev7@example.com', 'urn:dev,7'],
    });
  });

  it.each([
    ['cn', 'dev-7'],
    ['dn', 'C=DE,O=Acme,CN=dev-7'],
    ['san', 'dev-7.example'],
    ['md5', '0123456789abcdef0123456789abcdef'],
    ['disabled', undefined],
  ] as const)('%s gives %s', (as, want) => {
    expect(peerCertIdentity(cert, as)).toBe(want);
  });

  it('gives nothing without a certificate or without the field', () => {
    expect(peerCertIdentity(undefined, 'cn')).toBeUndefined();
    expect(peerCertIdentity({ commonName: 'x' }, 'san')).toBeUndefined();
    expect(peerCertIdentity({ commonName: '' }, 'cn')).toBeUndefined();
  });
});

describe('PSK identities file', () => {
  it('reads identity:hexkey lines with another separator, skipping comments', () => {
    const m = parsePskFile('# c\n\nid-1;0a0b\nid:2;FFFF\n', ';');
    expect([...m.entries()].map(([k, v]) => [k, v.toString('hex')])).toEqual([
      ['id-1', '0a0b'],
      ['id:2', 'ffff'],
    ]);
  });
});

describe('DER parsing never fails with anything but its own errors', () => {
  const ours = (e: unknown) => e instanceof DerError || e instanceof OcspResponseError;
  it('CRLs and OCSP responses from random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const parse of [parseCrls, parseOcspResponse]) {
          try {
            parse(Buffer.from(bytes));
          } catch (e) {
            if (!ours(e)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated and truncated real CRLs and OCSP responses', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (which, pos, byte, truncate) => {
        const src = which ? crlDer : ocspDer;
        const buf = Buffer.from(src);
        const at = pos % buf.length;
        const input = truncate ? buf.subarray(0, at) : (buf.writeUInt8(byte, at), buf);
        for (const parse of [parseCrls, parseOcspResponse]) {
          try {
            parse(input);
          } catch (e) {
            if (!ours(e)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes inside a SEQUENCE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const buf = Buffer.concat([Buffer.from([0x30, bytes.length]), Buffer.from(bytes)]);
        for (const parse of [parseCrls, parseOcspResponse]) {
          try {
            parse(buf);
          } catch (e) {
            if (!ours(e)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
