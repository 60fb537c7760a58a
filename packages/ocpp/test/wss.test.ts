/**
 * OCPP security profiles 2 (TLS + Basic auth) and 3 (TLS with client certificates).
 */
import type { ConnectInfo } from '@junction/broker-core';
import { testPki } from '@junction/mqtt/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { bootPayload16, refusedStatus, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

function wssRig(mutual: boolean) {
  const pki = testPki();
  return startRig({
    ocpp: {
      listeners: {
        ws: {},
        wss: {
          secure: {
            bind: { host: '127.0.0.1', port: 0 },
            ssl_options: { certfile: pki.certFile, keyfile: pki.keyFile, cacertfile: pki.caFile, verify: mutual ? 'verify_peer' : 'verify_none', fail_if_no_peer_cert: mutual },
          },
        },
      },
    },
  });
}

describe('wss', () => {
  it('security profile 2: TLS with Basic auth', async () => {
    const pki = testPki();
    const rig = await wssRig(false);
    expect(rig.endpoint).toMatch(/^wss:/);
    rig.broker.hooks.intercept('client.authenticate', (info) => {
      if (info.protocol !== 'ocpp') return { result: 'ignore' };
      return info.password?.toString() === 'pw' ? { result: 'allow' } : { result: 'deny', reason: 'bad_credentials' };
    });
    const backend = await rig.backend();
    const tls = { ca: pki.ca, servername: 'localhost' };
    const cp = await rig.charger('S2', { password: 'pw', wsOpts: tls });
    const answer = cp.call('BootNotification', bootPayload16);
    const call = await backend.next('ocpp/cp/S2', { Action: 'BootNotification' });
    await backend.send('S2', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    expect(await answer).toMatchObject({ status: 'Accepted' });
    expect(await refusedStatus(rig.charger('S2b', { password: 'nope', wsOpts: tls }))).toBe(401);
    const ev = await backend.next('ocpp/cp/S2/Connection', { event: 'connected' });
    expect(ev.json.listener).toBe('wss:secure');
  });

  it('security profile 3: the client certificate is verified and reaches the authenticator; no certificate, no connection', async () => {
    const pki = testPki();
    const rig = await wssRig(true);
    const seen: ConnectInfo[] = [];
    rig.broker.hooks.intercept('client.authenticate', (info) => {
      if (info.protocol !== 'ocpp') return { result: 'ignore' };
      seen.push(info);
      return info.peerCert?.commonName === 'client1' ? { result: 'allow' } : { result: 'deny', reason: 'not_authorized' };
    });
    const cp = await rig.charger('S3', { wsOpts: { ca: pki.ca, servername: 'localhost', cert: pki.clientCert, key: pki.clientKey } });
    expect(cp.protocol).toBe('ocpp1.6');
    expect(seen[0]?.peerCert).toMatchObject({ commonName: 'client1' });
    await expect(rig.charger('S3b', { wsOpts: { ca: pki.ca, servername: 'localhost' } })).rejects.toThrow();
    expect(rig.gateway.stats().connections).toBe(1);
  });
});
