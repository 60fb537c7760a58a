import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, freePort, publish, startAuthBroker, startRedis, subscribe, type AuthBrokerFixture, type RedisServer } from './helpers.js';

let redis: RedisServer;
let f: AuthBrokerFixture | undefined;

beforeAll(async () => {
  redis = await startRedis();
  const r = redis.client;
  // sha256, salt prefix: "public" + salt "salt123" (hashlib).
  await r.hset('mqtt_user:alice', { password_hash: 'a5a72f1edf5dcc152e04572ae63b199a01961fa97c1059ccd3238290425e56e4', salt: 'salt123', is_superuser: '0' });
  await r.hset('mqtt_user:root', { password_hash: 'a5a72f1edf5dcc152e04572ae63b199a01961fa97c1059ccd3238290425e56e4', salt: 'salt123', is_superuser: '1' });
  await r.hset('mqtt_user:nopass', { salt: 'x' });
  // bcrypt via the legacy "password" field (jBCrypt vector for "abc").
  await r.hset('plain_user:carol', { password: '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i' });
  await r.hset('mqtt_acl:alice', {
    'devices/${clientid}/up': 'publish',
    'cmd/${username}/#': 'subscribe',
    'both/#': 'all',
    'q1only/#': JSON.stringify({ action: 'publish', qos: [0, 1], retain: false }),
    'broken/#': '{not json',
  });
});
afterAll(() => redis?.stop());
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const redisAuthn = (extra: Record<string, unknown> = {}) => ({
  mechanism: 'password_based',
  backend: 'redis',
  server: redis.url,
  cmd: 'HMGET mqtt_user:${username} password_hash salt is_superuser',
  password_hash_algorithm: { name: 'sha256', salt_position: 'prefix' },
  ...extra,
});

describe('Redis authentication (HMGET mqtt_user:${username} ...)', () => {
  it('checks salted hashes, is_superuser, and refuses wrong or missing passwords', async () => {
    f = await startAuthBroker({ authentication: [redisAuthn()], authorization: { no_match: 'deny', sources: [] } });
    const a = await connect(f, { username: 'alice', password: 'public' });
    expect(a.code).toBe(0);
    expect(await subscribe(a.client, 'x')).toBe(0x87);
    const root = await connect(f, { username: 'root', password: 'public' });
    expect(await subscribe(root.client, '#')).toBe(1);
    expect((await connect(f, { username: 'alice', password: 'Public' })).code).toBe(0x86);
    expect((await connect(f, { username: 'alice', password: '' })).code).toBe(0x86);
    expect((await connect(f, { username: 'alice' })).code).toBe(0x86);
    expect((await connect(f, { username: 'nobody', password: 'public' })).code).toBe(0x87);
    expect((await connect(f, { username: 'nopass', password: 'public' })).code).toBe(0x86);
    // A user name that looks like a key pattern or a placeholder is only text.
    expect((await connect(f, { username: '*', password: 'public' })).code).toBe(0x87);
    expect((await connect(f, { username: '${username}', password: 'public' })).code).toBe(0x87);
    expect((await connect(f, { username: 'alice\r\nFLUSHALL', password: 'public' })).code).toBe(0x87);
    expect(await redis.client.exists('mqtt_user:alice')).toBe(1);
  });

  it('supports HGET with the password field and bcrypt', async () => {
    f = await startAuthBroker({ authentication: [redisAuthn({ cmd: 'HGET plain_user:${username} password', password_hash_algorithm: { name: 'bcrypt' } })] });
    expect((await connect(f, { username: 'carol', password: 'abc' })).code).toBe(0);
    expect((await connect(f, { username: 'carol', password: 'abd' })).code).toBe(0x86);
  });

  it('rejects bad command templates at install, naming the key', async () => {
    await expect(startAuthBroker({ authentication: [redisAuthn({ cmd: 'GET mqtt_user:${username}' })] })).rejects.toThrow(/authentication\.0\.cmd/);
    await expect(startAuthBroker({ authentication: [redisAuthn({ cmd: 'HMGET mqtt_user:${username} salt' })] })).rejects.toThrow(/password_hash/);
    await expect(startAuthBroker({ authentication: [redisAuthn({ cmd: 'HMGET mqtt_user:${password} password_hash' })] })).rejects.toThrow(/placeholder/);
  });

  it('an unreachable Redis is ignored by default, or denies with on_failure: deny', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    f = await startAuthBroker({ authentication: [redisAuthn({ server: dead, request_timeout: '300ms' })] });
    expect((await connect(f, { username: 'alice', password: 'public' })).code).toBe(0x87);
    await f.stop();
    f = await startAuthBroker({ authentication: [redisAuthn({ server: dead, request_timeout: '300ms', on_failure: 'deny' })] });
    expect((await connect(f, { username: 'alice', password: 'public' })).code).toBe(0x88);
    expect(f.log.entries.some((e) => e.event === 'authn_backend_failed')).toBe(true);
  });
});

describe('Redis authorization (HGETALL mqtt_acl:${username})', () => {
  it('allows the listed topic => action pairs with placeholders and JSON rules; everything else meets no_match', async () => {
    f = await startAuthBroker({
      authentication: [redisAuthn()],
      authorization: { no_match: 'deny', cache: { enable: false }, sources: [{ type: 'redis', server: redis.url, cmd: 'HGETALL mqtt_acl:${username}' }] },
    });
    const a = await connect(f, { clientId: 'dev1', username: 'alice', password: 'public' });
    expect(await publish(a.client, 'devices/dev1/up', '1')).toBe(0);
    expect(await publish(a.client, 'devices/dev2/up', '1')).toBe(0x87);
    expect(await subscribe(a.client, 'devices/dev1/up')).toBe(0x87);
    expect(await subscribe(a.client, 'cmd/alice/x')).toBe(1);
    expect(await subscribe(a.client, 'both/x')).toBe(1);
    expect(await publish(a.client, 'both/x', '1')).toBe(0);
    expect(await publish(a.client, 'q1only/x', '1', { qos: 1 })).toBe(0);
    expect(await publish(a.client, 'q1only/x', '1', { qos: 2 })).toBe(0x87);
    expect(await publish(a.client, 'q1only/x', '1', { qos: 1, retain: true })).toBe(0x87);
    expect(await publish(a.client, 'broken/x', '1')).toBe(0x87);
    // A user with no ACL hash: no match.
    const r = await connect(f, { username: 'root', password: 'public' });
    expect(await publish(r.client, 'anything', '1')).toBe(0); // superuser skips authorization
  });
});
