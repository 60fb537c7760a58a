/**
 * Built-in users and bans kept in a RecordStore: what the API changed is there after a restart
 * (a second installAuth on the same records), bootstrap files only add what is missing, expired
 * bans are not restored.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryRecordStore } from '@junction/broker-core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BANNED_NAMESPACE, USERS_NAMESPACE } from '../src/index.js';
import { connect, eventually, startAuthBroker, type AuthBrokerFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'junction-auth-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const builtIn = (extra: Record<string, unknown> = {}) => ({
  authentication: [{ mechanism: 'password_based', backend: 'built_in_database', ...extra }, { mechanism: 'scram', backend: 'built_in_database', iteration_count: 1024 }],
});

async function restart(records: MemoryRecordStore, config: Record<string, unknown> = builtIn()): Promise<AuthBrokerFixture> {
  await f?.stop();
  f = await startAuthBroker(config, { records });
  return f;
}

describe('users and bans persisted in the record store', () => {
  it('keeps users added, changed and deleted through the API across a restart', async () => {
    const records = new MemoryRecordStore();
    let fx = await restart(records);
    await fx.auth.users.add({ user_id: 'alice', password: 'a-pw', is_superuser: true });
    await fx.auth.users.add({ user_id: 'bob', password: 'b-pw' });
    await fx.auth.users.add({ user_id: 'carol', password: 'c-pw' });
    await fx.auth.users.update('bob', { password: 'b-new' });
    fx.auth.users.delete('carol');
    await eventually(async () => expect((await records.list(USERS_NAMESPACE)).map((r) => r.key).sort()).toEqual(['alice', 'bob']));
    // Hashes are stored, never passwords.
    expect(JSON.stringify(await records.list(USERS_NAMESPACE))).not.toMatch(/a-pw|b-new/);

    fx = await restart(records);
    expect(fx.auth.users.list()).toEqual([
      { user_id: 'alice', is_superuser: true },
      { user_id: 'bob', is_superuser: false },
    ]);
    expect((await connect(fx, { username: 'alice', password: 'a-pw' })).code).toBe(0);
    expect((await connect(fx, { username: 'bob', password: 'b-new' })).code).toBe(0);
    expect((await connect(fx, { username: 'bob', password: 'b-pw' })).code).toBe(0x86);
    // Unknown to every authenticator: the chain ends without a match.
    expect((await connect(fx, { username: 'carol', password: 'c-pw' })).code).toBe(0x87);
    // SCRAM credentials came back too.
    const scram = fx.auth.users.scramFor('alice');
    expect(scram?.creds.storedKey.length).toBe(32);
    expect(scram?.is_superuser).toBe(true);
  });

  it('a bootstrap file adds missing users but does not undo API changes', async () => {
    const file = join(dir, 'users.csv');
    writeFileSync(file, 'user_id,password,is_superuser\nalice,from-file,false\ndave,d-pw,false\n');
    const config = builtIn({ bootstrap_file: file, bootstrap_type: 'plain' });
    const records = new MemoryRecordStore();
    let fx = await restart(records, config);
    await fx.auth.users.update('alice', { password: 'changed' });
    fx = await restart(records, config);
    expect((await connect(fx, { username: 'alice', password: 'changed' })).code).toBe(0);
    expect((await connect(fx, { username: 'alice', password: 'from-file' })).code).toBe(0x86);
    expect((await connect(fx, { username: 'dave', password: 'd-pw' })).code).toBe(0);
  });

  it('keeps live bans across a restart, drops expired and deleted ones', async () => {
    const records = new MemoryRecordStore();
    let fx = await restart(records);
    await fx.auth.users.add({ user_id: 'alice', password: 'pw' });
    fx.auth.banned.create({ as: 'clientid', who: 'evil', reason: 'abuse', by: 'test' });
    fx.auth.banned.create({ as: 'peerhost_net', who: '10.0.0.0/8' });
    fx.auth.banned.create({ as: 'username_re', who: '^bot-' });
    fx.auth.banned.create({ as: 'clientid', who: 'brief', until: Date.now() + 300 });
    fx.auth.banned.delete('username_re', '^bot-');
    await eventually(async () => expect(await records.list(BANNED_NAMESPACE)).toHaveLength(3));
    await new Promise((r) => setTimeout(r, 350));

    fx = await restart(records);
    const bans = fx.auth.banned.list();
    expect(bans.map((b) => `${b.as}:${b.who}`).sort()).toEqual(['clientid:evil', 'peerhost_net:10.0.0.0/8']);
    expect(bans.find((b) => b.who === 'evil')).toMatchObject({ reason: 'abuse', by: 'test' });
    // The expired one is gone from the store as well.
    expect(await records.list(BANNED_NAMESPACE)).toHaveLength(2);
    expect((await connect(fx, { clientId: 'evil', username: 'alice', password: 'pw' })).code).toBe(0x8a);
    expect((await connect(fx, { clientId: 'brief', username: 'alice', password: 'pw' })).code).toBe(0);
  });

  it('skips unreadable user records with a warning instead of failing the start', async () => {
    const records = new MemoryRecordStore();
    await records.put(USERS_NAMESPACE, 'broken', { user_id: 'broken' });
    await records.put(USERS_NAMESPACE, 'mismatch', { user_id: 'other', password_hash: 'x', salt: '', is_superuser: false });
    const fx = await restart(records);
    expect(fx.auth.users.size).toBe(0);
    expect(fx.log.entries.filter((e) => e.event === 'auth_record_unreadable_skipped').map((e) => e.obj.key)).toEqual(['broken', 'mismatch']);
  });
});
