import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError } from '../src/index.js';
import { connect, startAuthBroker, subscribe, type AuthBrokerFixture } from './helpers.js';

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const dir = mkdtempSync(join(tmpdir(), 'junction-auth-users-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const builtIn = (extra: Record<string, unknown> = {}) => ({ mechanism: 'password_based', backend: 'built_in_database', ...extra });

describe('built-in users (password_based, built_in_database)', () => {
  it('accepts the right password and refuses wrong, empty and missing ones with EMQX codes (v5 and v3.1.1)', async () => {
    f = await startAuthBroker({ authentication: [builtIn({ password_hash_algorithm: { name: 'bcrypt', salt_rounds: 5 } })] });
    await f.auth.users.add({ user_id: 'alice', password: 's3cret' });
    expect((await connect(f, { username: 'alice', password: 's3cret' })).code).toBe(0);
    expect((await connect(f, { username: 'alice', password: 'nope' })).code).toBe(0x86);
    expect((await connect(f, { username: 'alice', password: '' })).code).toBe(0x86);
    expect((await connect(f, { username: 'alice' })).code).toBe(0x86);
    // Unknown user: the built-in step ignores, the chain ends, the client is refused (not anonymous).
    expect((await connect(f, { username: 'mallory', password: 'x' })).code).toBe(0x87);
    expect((await connect(f, { username: 'mallory', password: '' })).code).toBe(0x87);
    expect((await connect(f, {})).code).toBe(0x86);
    expect((await connect(f, { protocolVersion: 4, username: 'alice', password: 's3cret' })).code).toBe(0);
    expect((await connect(f, { protocolVersion: 4, username: 'alice', password: 'nope' })).code).toBe(4);
    expect((await connect(f, { protocolVersion: 4, username: 'mallory', password: 'x' })).code).toBe(5);
  });

  it('keeps passwords out of the logs', async () => {
    f = await startAuthBroker({ authentication: [builtIn()] });
    await f.auth.users.add({ user_id: 'alice', password: 'pa55-in-log?' });
    await connect(f, { username: 'alice', password: 'wrong-pa55-in-log?' });
    await connect(f, { username: 'alice', password: 'pa55-in-log?' });
    expect(f.log.entries.some((e) => e.event === 'authn_denied')).toBe(true);
    expect(f.log.text()).not.toContain('pa55-in-log');
  });

  it('adds, updates and deletes users through the API', async () => {
    f = await startAuthBroker({ authentication: [builtIn()] });
    const users = f.auth.users;
    expect(await users.add({ user_id: 'bob', password: 'one', is_superuser: false })).toEqual({ user_id: 'bob', is_superuser: false });
    await expect(users.add({ user_id: 'bob', password: 'two' })).rejects.toMatchObject({ code: 'user_exists' });
    expect((await connect(f, { username: 'bob', password: 'one' })).code).toBe(0);
    await users.update('bob', { password: 'two', is_superuser: true });
    expect(users.lookup('bob')).toEqual({ user_id: 'bob', is_superuser: true });
    expect((await connect(f, { username: 'bob', password: 'one' })).code).toBe(0x86);
    expect((await connect(f, { username: 'bob', password: 'two' })).code).toBe(0);
    users.delete('bob');
    expect(() => users.delete('bob')).toThrow(AuthError);
    await expect(users.update('bob', { password: 'x' })).rejects.toMatchObject({ code: 'user_not_found' });
    expect((await connect(f, { username: 'bob', password: 'two' })).code).toBe(0x87);
    expect(users.list()).toEqual([]);
  });

  it('imports EMQX bootstrap files: plain CSV and JSON, hashed CSV and JSON', async () => {
    const plainCsv = file('plain.csv', 'user_id,password,is_superuser\nu1,p1,true\nu2,"p,2",false\n');
    f = await startAuthBroker({ authentication: [builtIn({ bootstrap_file: plainCsv, bootstrap_type: 'plain' })] });
    expect(f.auth.users.list()).toEqual([
      { user_id: 'u1', is_superuser: true },
      { user_id: 'u2', is_superuser: false },
    ]);
    expect((await connect(f, { username: 'u2', password: 'p,2' })).code).toBe(0);
    // sha256, salt prefix (the default algorithm): "public" with salt "salt123".
    const hashed = { user_id: 'u3', password_hash: 'a5a72f1edf5dcc152e04572ae63b199a01961fa97c1059ccd3238290425e56e4', salt: 'salt123', is_superuser: false };
    const hashJson = file('hash.json', JSON.stringify([hashed, { user_id: 'broken' }]));
    expect(await f.auth.users.importFile(hashJson, 'hash')).toEqual({ total: 2, success: 1, override: 0, skipped: 0, failed: 1 });
    expect((await connect(f, { username: 'u3', password: 'public' })).code).toBe(0);
    const hashCsv = file('hash.csv', `user_id,password_hash,salt,is_superuser\nu3,${hashed.password_hash},salt123,false\nu1,${hashed.password_hash},salt123,false\n`);
    expect(await f.auth.users.importFile(hashCsv, 'hash')).toEqual({ total: 2, success: 0, override: 1, skipped: 1, failed: 0 });
    expect((await connect(f, { username: 'u1', password: 'public' })).code).toBe(0);
    const plainJson = file('plain.json', JSON.stringify([{ user_id: 'u4', password: 'p4', is_superuser: true }]));
    expect((await f.auth.users.importFile(plainJson, 'plain')).success).toBe(1);
    expect((await connect(f, { username: 'u4', password: 'p4' })).code).toBe(0);
  });

  it('refuses to start with an unreadable bootstrap file, naming the key', async () => {
    await expect(startAuthBroker({ authentication: [builtIn({ bootstrap_file: join(dir, 'missing.csv') })] })).rejects.toThrow(/authentication\.0\.bootstrap_file/);
  });

  it('uses the client id as user id with user_id_type clientid', async () => {
    f = await startAuthBroker({ authentication: [builtIn({ user_id_type: 'clientid' })] });
    await f.auth.users.add({ user_id: 'device-1', password: 'pw' });
    expect((await connect(f, { clientId: 'device-1', password: 'pw', username: 'anything' })).code).toBe(0);
    expect((await connect(f, { clientId: 'device-2', password: 'pw', username: 'device-1' })).code).toBe(0x87);
  });

  it('a superuser bypasses authorization; others meet no_match deny', async () => {
    f = await startAuthBroker({ authentication: [builtIn()], authorization: { no_match: 'deny', sources: [] } });
    await f.auth.users.add({ user_id: 'root', password: 'r', is_superuser: true });
    await f.auth.users.add({ user_id: 'joe', password: 'j' });
    const root = await connect(f, { username: 'root', password: 'r' });
    const joe = await connect(f, { username: 'joe', password: 'j' });
    expect(await subscribe(root.client, '#')).toBe(1);
    expect(await subscribe(joe.client, 'a/b')).toBe(0x87);
  });
});
