import { afterEach, describe, expect, it } from 'vitest';
import { certIdentity } from '../src/authn/x509.js';
import { connect, publish, startAuthBroker, type AuthBrokerFixture } from './helpers.js';

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const config = {
  authentication: [{ mechanism: 'x509' }],
  authorization: { no_match: 'deny', sources: [{ type: 'file', rules: '{allow, {username, "client1"}, publish, ["certs/${username}/#", "cn/${cn}"]}.' }] },
};

describe('X.509 client certificate identity', () => {
  it('authenticates a verified client certificate and uses its CN as the user name for authorization', async () => {
    f = await startAuthBroker(config, { tls: true });
    const c = await connect(f, {});
    expect(c.code).toBe(0);
    expect(await publish(c.client, 'certs/client1/x', '1')).toBe(0);
    expect(await publish(c.client, 'cn/client1', '1')).toBe(0);
    expect(await publish(c.client, 'certs/other/x', '1')).toBe(0x87);
    expect((await connect(f, { username: 'client1' })).code).toBe(0);
    expect((await connect(f, { username: 'admin' })).code).toBe(0x86);
  });

  it('ignores clients without a certificate (the chain then refuses them)', async () => {
    f = await startAuthBroker(config);
    expect((await connect(f, { username: 'client1' })).code).toBe(0x87);
  });

  it('takes the identity from the CN, the subject DN or the first SAN', () => {
    const cert = { commonName: 'dev1', subject: 'CN=dev1,O=Acme', subjectAltName: 'DNS:dev1.example.com, email:a@b' };
    expect(certIdentity(cert, 'cn')).toBe('dev1');
    expect(certIdentity(cert, 'dn')).toBe('CN=dev1,O=Acme');
    expect(certIdentity(cert, 'san')).toBe('dev1.example.com');
    expect(certIdentity({ commonName: 'x' }, 'san')).toBeUndefined();
  });
});
