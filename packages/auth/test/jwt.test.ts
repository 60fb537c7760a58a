import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closed, connect, eventually, json, publish, startAuthBroker, startHttp, subscribe, type AuthBrokerFixture, type TestHttpServer } from './helpers.js';

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const SECRET = 'jwt-secret-that-is-long-enough-32b';
const secretKey = new TextEncoder().encode(SECRET);
const nowS = () => Math.floor(Date.now() / 1000);

function hs256(claims: Record<string, unknown>, key: Uint8Array = secretKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(key);
}

const hmac = (extra: Record<string, unknown> = {}) => ({ mechanism: 'jwt', algorithm: 'hmac-based', secret: SECRET, ...extra });

describe('JWT authentication', () => {
  it('accepts a valid HS256 token and refuses wrong keys, alg none, expired and not-yet-valid tokens', async () => {
    f = await startAuthBroker({ authentication: [hmac()] });
    expect((await connect(f, { username: 'u', password: await hs256({ exp: nowS() + 60 }) })).code).toBe(0);
    expect((await connect(f, { username: 'u', password: await hs256({}) })).code).toBe(0);
    // Bad signature, alg none, garbage, no token: the JWT step ignores, the chain refuses.
    expect((await connect(f, { username: 'u', password: await hs256({ exp: nowS() + 60 }, new TextEncoder().encode('another-secret-of-32-bytes-long!!')) })).code).toBe(0x87);
    expect((await connect(f, { username: 'u', password: new UnsecuredJWT({ exp: nowS() + 60 }).encode() })).code).toBe(0x87);
    const forged = (await hs256({ is_superuser: false })).split('.');
    const payload = Buffer.from(JSON.stringify({ is_superuser: true })).toString('base64url');
    expect((await connect(f, { username: 'u', password: `${forged[0]}.${payload}.${forged[2]}` })).code).toBe(0x87);
    expect((await connect(f, { username: 'u', password: 'not-a-jwt' })).code).toBe(0x87);
    expect((await connect(f, { username: 'u' })).code).toBe(0x87);
    // A valid signature with failed claims is a denial.
    expect((await connect(f, { username: 'u', password: await hs256({ exp: nowS() - 10 }) })).code).toBe(0x86);
    expect((await connect(f, { username: 'u', password: await hs256({ nbf: nowS() + 600 }) })).code).toBe(0x86);
    expect((await connect(f, { protocolVersion: 4, username: 'u', password: await hs256({ exp: nowS() - 10 }) })).code).toBe(4);
    expect(f.log.text()).not.toContain(SECRET);
  });

  it('checks verify_claims with ${clientid} / ${username}, and reads the token from the user name', async () => {
    f = await startAuthBroker({ authentication: [hmac({ verify_claims: { sub: '${clientid}', aud: 'junction' } })] });
    const ok = await hs256({ sub: 'dev-1', aud: ['other', 'junction'] });
    expect((await connect(f, { clientId: 'dev-1', username: 'x', password: ok })).code).toBe(0);
    expect((await connect(f, { clientId: 'dev-2', username: 'x', password: ok })).code).toBe(0x86);
    expect((await connect(f, { clientId: 'dev-1', username: 'x', password: await hs256({ sub: 'dev-1' }) })).code).toBe(0x86);
    await f.stop();
    f = await startAuthBroker({ authentication: [hmac({ from: 'username', secret: Buffer.from(SECRET).toString('base64'), secret_base64_encoded: true })] });
    expect((await connect(f, { username: await hs256({}) })).code).toBe(0);
  });

  it('public-key: RS256 with a PEM key; an HS256 token made with the public key as secret is ignored', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    f = await startAuthBroker({ authentication: [{ mechanism: 'jwt', algorithm: 'public-key', public_key: pem }] });
    const good = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    expect((await connect(f, { username: 'u', password: good })).code).toBe(0);
    const confused = await hs256({}, new TextEncoder().encode(pem));
    expect((await connect(f, { username: 'u', password: confused })).code).toBe(0x87);
  });

  it('passes the acl claim to authorization (rule list and legacy {pub, sub}) and is_superuser', async () => {
    f = await startAuthBroker({ authentication: [hmac()], authorization: { no_match: 'deny', sources: [] } });
    const rules = await hs256({
      acl: [
        { permission: 'allow', action: 'publish', topic: 'up/${clientid}' },
        { permission: 'allow', action: 'subscribe', topics: ['down/${clientid}/#'], qos: [0, 1] },
      ],
    });
    const c = await connect(f, { clientId: 'd7', username: 'u', password: rules });
    expect(await publish(c.client, 'up/d7', '1')).toBe(0);
    expect(await publish(c.client, 'up/d8', '1')).toBe(0x87);
    expect(await subscribe(c.client, 'down/d7/x', 1)).toBe(1);
    expect(await subscribe(c.client, 'down/d7/x', 2)).toBe(0x87);
    const legacy = await connect(f, { clientId: 'd8', username: 'u', password: await hs256({ acl: { pub: ['a/#'], sub: ['b/+'] } }) });
    expect(await publish(legacy.client, 'a/1', '1')).toBe(0);
    expect(await subscribe(legacy.client, 'b/1')).toBe(1);
    expect(await subscribe(legacy.client, 'a/1')).toBe(0x87);
    const su = await connect(f, { clientId: 'd9', username: 'u', password: await hs256({ is_superuser: true }) });
    expect(await subscribe(su.client, '#')).toBe(1);
    expect((await connect(f, { username: 'u', password: await hs256({ acl: 'everything' }) })).code).toBe(0x86);
  });

  it('disconnects the client when its token expires', async () => {
    f = await startAuthBroker({ authentication: [hmac()] });
    const c = await connect(f, { username: 'u', password: await hs256({ exp: nowS() + 2 }) });
    expect(c.code).toBe(0);
    expect(await closed(c.client, 4000)).toBe(0x87);
    expect(f.log.entries.some((e) => e.event === 'auth_expired_kicked')).toBe(true);
  });

  it('chains with other steps: a non-JWT password falls through to the built-in users', async () => {
    f = await startAuthBroker({ authentication: [hmac(), { mechanism: 'password_based', backend: 'built_in_database' }] });
    await f.auth.users.add({ user_id: 'bob', password: 'plain' });
    expect((await connect(f, { username: 'bob', password: 'plain' })).code).toBe(0);
    expect((await connect(f, { username: 'bob', password: await hs256({}) })).code).toBe(0);
    expect((await connect(f, { username: 'bob', password: 'wrong' })).code).toBe(0x86);
  });
});

describe('JWT with a JWKS endpoint', () => {
  let http: TestHttpServer;
  let keys: { kid: string; privateKey: CryptoKey; jwk: JWK }[] = [];
  const makeKey = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  };
  const es256 = (k: { kid: string; privateKey: CryptoKey }) => new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: k.kid }).sign(k.privateKey);

  beforeAll(async () => {
    http = await startHttp((_call, res) => json(res, 200, { keys: keys.map((k) => k.jwk) }));
  });
  afterAll(() => http.stop());

  it('verifies ES256 tokens against the JWKS and follows key rotation after a refresh', async () => {
    const a = await makeKey('a');
    const b = await makeKey('b');
    keys = [a];
    f = await startAuthBroker({ authentication: [{ mechanism: 'jwt', use_jwks: true, endpoint: `${http.url}/jwks.json`, refresh_interval: 1 }] });
    expect((await connect(f, { username: 'u', password: await es256(a) })).code).toBe(0);
    expect((await connect(f, { username: 'u', password: await es256(b) })).code).toBe(0x87);
    keys = [b];
    const tokenA = await es256(a);
    const tokenB = await es256(b);
    await eventually(async () => (await connect(f!, { username: 'u', password: tokenB })).code === 0, 5000, 'the new key to be accepted');
    await eventually(async () => (await connect(f!, { username: 'u', password: tokenA })).code === 0x87, 5000, 'the old key to be dropped');
    expect(http.calls.length).toBeGreaterThanOrEqual(2);
  });
});
