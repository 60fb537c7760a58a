import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import mqtt, { type IConnackPacket } from 'mqtt';
import type { IAuthPacket } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { deriveScramCredentials, scramServerFirst } from '../src/index.js';
import { connect, publish, startAuthBroker, type AuthBrokerFixture } from './helpers.js';

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

describe('SCRAM server (RFC 5802 / RFC 7677)', () => {
  it('reproduces the RFC 7677 SCRAM-SHA-256 example exchange', async () => {
    const creds = await deriveScramCredentials('sha256', 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const first = scramServerFirst('n,,n=user,r=rOprNGfwEbeRWgbNEkqO', {
      algorithm: 'sha256',
      iterations: 4096,
      lookup: (u) => (u === 'user' ? creds : undefined),
      nonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    });
    expect(first.kind).toBe('challenge');
    if (first.kind !== 'challenge') return;
    expect(first.serverFirst).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const done = first.finish('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(done).toEqual({ kind: 'success', username: 'user', serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=' });
    const tampered = first.finish('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(tampered).toEqual({ kind: 'failure', reason: 'bad_proof' });
    const wrongNonce = first.finish('c=biws,r=rOprNGfwEbeRWgbNEkqOother,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(wrongNonce.kind).toBe('failure');
  });

  it('refuses malformed first messages and channel binding it does not offer', () => {
    const opts = { algorithm: 'sha256' as const, iterations: 4096, lookup: () => undefined };
    for (const bad of ['', 'n=user,r=abc', 'n,,r=abc', 'n,,n=,r=abc', 'n,,n=a=b,r=abc', 'n,a=admin,n=user,r=abc', 'n,,m=ext,n=user,r=abc']) {
      expect(scramServerFirst(bad, opts)).toMatchObject({ kind: 'failure', reason: 'malformed' });
    }
    expect(scramServerFirst('p=tls-unique,,n=user,r=abc', opts)).toMatchObject({ kind: 'failure', reason: 'channel_binding' });
    // Unknown users get a challenge too (no user enumeration), and fail at the proof.
    const unknown = scramServerFirst('n,,n=ghost,r=abc', opts);
    expect(unknown.kind).toBe('challenge');
  });
});

/** A SCRAM-SHA-256 client, written from RFC 5802 §3. */
function scramClient(username: string, password: string) {
  const nonce = randomBytes(12).toString('base64');
  const bare = `n=${username.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  let serverSignature = '';
  return {
    first: Buffer.from(`n,,${bare}`),
    final(serverFirst: string): Buffer {
      const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
      const salted = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256');
      const clientKey = createHmac('sha256', salted).update('Client Key').digest();
      const storedKey = createHash('sha256').update(clientKey).digest();
      const withoutProof = `c=biws,r=${attrs.r}`;
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const signature = createHmac('sha256', storedKey).update(authMessage).digest();
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
      serverSignature = createHmac('sha256', createHmac('sha256', salted).update('Server Key').digest()).update(authMessage).digest('base64');
      return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
    },
    verifies: (serverFinal: string) => serverFinal === `v=${serverSignature}`,
  };
}

function scramConnect(fx: AuthBrokerFixture, user: string, password: string, opts: mqtt.IClientOptions = {}) {
  const sc = scramClient(user, password);
  const client = mqtt.connect(fx.url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    clientId: `scram-${randomBytes(3).toString('hex')}`,
    properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: sc.first },
    ...opts,
  });
  fx.clients.push(client);
  client.handleAuth = (packet: IAuthPacket, cb) => {
    const serverFirst = packet.properties?.authenticationData?.toString() ?? '';
    cb(undefined, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: sc.final(serverFirst) } });
  };
  return new Promise<{ code: number; client: mqtt.MqttClient; serverVerified: boolean }>((resolve) => {
    client.once('connect', (ack: IConnackPacket) => resolve({ code: ack.reasonCode ?? 0, client, serverVerified: sc.verifies(ack.properties?.authenticationData?.toString() ?? '') }));
    client.once('error', (err: Error & { code?: number }) => resolve({ code: err.code ?? -1, client, serverVerified: false }));
  });
}

describe('SCRAM-SHA-256 over MQTT 5 enhanced authentication', () => {
  const config = {
    authentication: [{ mechanism: 'scram', backend: 'built_in_database', iteration_count: 1024 }],
    authorization: { no_match: 'deny', sources: [{ type: 'file', rules: '{allow, {username, "sam"}, publish, ["s/${username}/#"]}.' }] },
  };

  it('authenticates built-in users in AUTH packets; the client verifies the server signature', async () => {
    f = await startAuthBroker(config);
    await f.auth.users.add({ user_id: 'sam', password: 'pencil' });
    const ok = await scramConnect(f, 'sam', 'pencil');
    expect(ok.code).toBe(0);
    expect(ok.serverVerified).toBe(true);
    // No CONNECT user name: the SCRAM identity drives authorization.
    expect(await publish(ok.client, 's/sam/x', '1')).toBe(0);
    expect(await publish(ok.client, 's/other/x', '1')).toBe(0x87);
    expect((await scramConnect(f, 'sam', 'wrong')).code).toBe(0x86);
    expect((await scramConnect(f, 'ghost', 'pencil')).code).toBe(0x86);
    // A CONNECT user name that differs from the SCRAM user is refused.
    expect((await scramConnect(f, 'sam', 'pencil', { username: 'admin' })).code).toBe(0x86);
    expect((await scramConnect(f, 'sam', 'pencil', { username: 'sam' })).code).toBe(0);
    // With SCRAM as the only authenticator, a plain password client meets an empty chain.
    expect((await connect(f, { username: 'sam', password: 'pencil' })).code).toBe(0x87);
    expect(f.log.text()).not.toContain('pencil');
  });

  it('checks bans before the exchange (enhanced authentication skips the authenticate chain)', async () => {
    f = await startAuthBroker(config);
    await f.auth.users.add({ user_id: 'sam', password: 'pencil' });
    f.auth.banned.create({ as: 'clientid', who: 'scram-banned' });
    expect((await scramConnect(f, 'sam', 'pencil', { clientId: 'scram-banned' })).code).toBe(0x87);
  });
});
