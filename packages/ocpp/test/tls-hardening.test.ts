/**
 * OCPP security profile 3 through @junction/tls: a charger whose certificate is revoked in the
 * CRL file gets no WebSocket; the others connect, their certificate identity (SAN included)
 * reaching the authenticator.
 */
import type { ConnectInfo } from '@junction/broker-core';
import { makePki, type Pki } from '@junction/tls/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRig, stopRigs } from './helpers.js';

let pki: Pki;

beforeAll(() => {
  pki = makePki({ clientSan: 'DNS:cp-7.chargers.example' });
  pki.issue('server', 'localhost', 'server_ext');
  pki.issue('cp7', 'CP7', 'client_ext');
  pki.issue('stolen', 'CP8', 'client_ext');
  pki.revoke('stolen');
  pki.gencrl();
});

afterAll(() => pki?.cleanup());
afterEach(stopRigs);

describe('wss with CRL checking', () => {
  it('refuses a charger with a revoked certificate and lets the others in', async () => {
    const rig = await startRig({
      ocpp: {
        listeners: {
          ws: {},
          wss: {
            secure: {
              bind: { host: '127.0.0.1', port: 0 },
              ssl_options: {
                certfile: pki.file('server.crt'),
                keyfile: pki.file('server.key'),
                cacertfile: pki.file('ca.crt'),
                verify: 'verify_peer',
                fail_if_no_peer_cert: true,
                enable_crl_check: true,
                crlfile: pki.file('ca.crl.pem'),
              },
            },
          },
        },
      },
    });
    const seen: ConnectInfo[] = [];
    rig.broker.hooks.intercept('client.authenticate', (info) => {
      if (info.protocol !== 'ocpp') return { result: 'ignore' };
      seen.push(info);
      return { result: 'allow' };
    });
    const tls = (name: string) => ({ ca: pki.read('ca.crt'), servername: 'localhost', cert: pki.read(`${name}.crt`), key: pki.read(`${name}.key`) });
    await expect(rig.charger('CP8', { wsOpts: tls('stolen') })).rejects.toThrow();
    expect(seen).toEqual([]);
    const cp = await rig.charger('CP7', { wsOpts: tls('cp7') });
    expect(cp.protocol).toBe('ocpp1.6');
    expect(seen.map((i) => i.peerCert)).toEqual([expect.objectContaining({ commonName: 'CP7', subjectAltName: 'DNS:cp-7.chargers.example' })]);
    expect(rig.gateway.stats().connections).toBe(1);
  });
});
