import { installAuth, type AuthHandle } from '@junction/auth';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminAuthStores, BannedStore, BanRecord } from '../src/index.js';
import { startAdmin, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
let auth: AuthHandle | undefined;
afterEach(async () => {
  await f?.stop();
  await auth?.stop();
  f = auth = undefined;
});

/** A banned store in a Map, as a test double of the auth plugin's. */
function fakeBanned(): BannedStore & { bans: Map<string, BanRecord> } {
  const bans = new Map<string, BanRecord>();
  const key = (as: string, who: string) => `${as}\u0000${who}`;
  return {
    bans,
    create(b) {
      if (bans.has(key(b.as, b.who))) throw Object.assign(new Error(`${b.as} ${b.who} is already banned`), { code: 'ban_exists' });
      const until = b.until === undefined || b.until === 'infinity' ? undefined : typeof b.until === 'number' ? b.until : Date.parse(b.until);
      if (until !== undefined && Number.isNaN(until)) throw Object.assign(new Error('bad until'), { code: 'invalid_ban' });
      const rec: BanRecord = { as: b.as, who: b.who, by: b.by ?? '', reason: b.reason ?? '', at: Date.now(), until };
      bans.set(key(b.as, b.who), rec);
      return rec;
    },
    delete: (as, who) => bans.delete(key(as, who)),
    list: () => [...bans.values()],
  };
}

/** Connect and report the CONNACK reason code (0 on success). */
function connectCode(url: string, opts: mqtt.IClientOptions): Promise<{ code: number; client: mqtt.MqttClient }> {
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  return new Promise((resolve) => {
    client.once('connect', (ack) => resolve({ code: ack.reasonCode ?? 0, client }));
    client.once('error', (err: Error & { code?: number }) => {
      client.end(true);
      resolve({ code: typeof err.code === 'number' ? err.code : -1, client });
    });
  });
}

describe('banned, through a fake store', () => {
  it('creates, lists (paged, filtered), refuses duplicates, deletes one and all', async () => {
    const banned = fakeBanned();
    f = await startAdmin({ auth: { banned } });
    const created = await f.api('POST', '/api/v5/banned', { as: 'clientid', who: 'evil-1', reason: 'spam', until: '2099-01-01T00:00:00Z' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ as: 'clientid', who: 'evil-1', by: 'admin', reason: 'spam', until: '2099-01-01T00:00:00.000Z' });
    expect(Date.parse(created.body.at)).toBeGreaterThan(0);
    expect((await f.api('POST', '/api/v5/banned', { as: 'clientid', who: 'evil-1' })).status).toBe(409);
    expect((await f.api('POST', '/api/v5/banned', { as: 'nonsense', who: 'x' })).status).toBe(400);
    expect((await f.api('POST', '/api/v5/banned', { as: 'username', who: 'x', until: 'whenever' })).status).toBe(400);
    await f.api('POST', '/api/v5/banned', { as: 'peerhost_net', who: '10.0.0.0/8', by: 'ops' });
    await f.api('POST', '/api/v5/banned', { as: 'username', who: 'mallory' });

    const list = await f.api('GET', '/api/v5/banned?limit=2');
    expect(list.body.meta).toEqual({ page: 1, limit: 2, count: 3, hasnext: true });
    expect((await f.api('GET', '/api/v5/banned?username=mallory')).body.data).toEqual([expect.objectContaining({ as: 'username', who: 'mallory', until: 'infinity' })]);
    expect((await f.api('GET', '/api/v5/banned?like_peerhost_net=10.')).body.data).toHaveLength(1);

    expect((await f.api('DELETE', `/api/v5/banned/peerhost_net/${encodeURIComponent('10.0.0.0/8')}`)).status).toBe(204);
    expect((await f.api('DELETE', '/api/v5/banned/peerhost_net/10.0.0.0/8')).status).toBe(404);
    expect((await f.api('DELETE', '/api/v5/banned/bogus/x')).status).toBe(400);
    expect(banned.bans.size).toBe(2);
    expect((await f.api('DELETE', '/api/v5/banned')).status).toBe(204);
    expect(banned.bans.size).toBe(0);
  });

  it('answers 501 when no store was given', async () => {
    f = await startAdmin();
    const r = await f.api('GET', '/api/v5/banned');
    expect(r.status).toBe(501);
    expect(r.body.code).toBe('NOT_SUPPORTED');
    expect((await f.api('GET', '/api/v5/authentication/password_based%3Abuilt_in_database/users')).status).toBe(501);
  });
});

describe('through the real @junction/auth', () => {
  const startWithAuth = async (): Promise<AdminFixture> =>
    startAdmin({
      auth: async (h): Promise<AdminAuthStores> => {
        auth = await installAuth(h.broker, {
          authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }],
          authorization: { no_match: 'allow', sources: [{ type: 'built_in_database' }] },
        });
        return auth;
      },
    });

  it('bans a connected client (it is disconnected) and lifts the ban', async () => {
    f = await startWithAuth();
    await auth!.users.add({ user_id: 'dev', password: 'pw' });
    const { code, client } = await connectCode(f.harness.url, { clientId: 'meter-7', username: 'dev', password: 'pw' });
    f.clients.push(client);
    expect(code).toBe(0);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const r = await f.api('POST', '/api/v5/banned', { as: 'clientid', who: 'meter-7', reason: 'tampering' });
    expect(r.status).toBe(200);
    await closed;
    expect(auth!.banned.list()).toEqual([expect.objectContaining({ as: 'clientid', who: 'meter-7', by: 'admin' })]);
    const again = await connectCode(f.harness.url, { clientId: 'meter-7', username: 'dev', password: 'pw' });
    f.clients.push(again.client);
    expect(again.code).toBe(0x8a);
    expect((await f.api('POST', '/api/v5/banned', { as: 'clientid', who: 'meter-7' })).status).toBe(409);
    expect((await f.api('POST', '/api/v5/banned', { as: 'peerhost_net', who: 'not-a-cidr' })).status).toBe(400);
    expect((await f.api('DELETE', '/api/v5/banned/clientid/meter-7')).status).toBe(204);
    const back = await connectCode(f.harness.url, { clientId: 'meter-7', username: 'dev', password: 'pw' });
    f.clients.push(back.client);
    expect(back.code).toBe(0);
  });

  it('manages built-in users: the MQTT client follows every change', async () => {
    f = await startWithAuth();
    const base = '/api/v5/authentication/password_based%3Abuilt_in_database/users';
    const created = await f.api('POST', base, { user_id: 'alice', password: 'alice-pw', is_superuser: false });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ user_id: 'alice', is_superuser: false });
    expect((await f.api('POST', base, { user_id: 'alice', password: 'x' })).status).toBe(409);
    await f.api('POST', base, { user_id: 'bob', password: 'bob-pw', is_superuser: true });
    await f.api('POST', base, { user_id: 'carol', password: 'carol-pw' });

    const list = await f.api('GET', `${base}?limit=2`);
    expect(list.body).toEqual({ data: [{ user_id: 'alice', is_superuser: false }, { user_id: 'bob', is_superuser: true }], meta: { page: 1, limit: 2, count: 3, hasnext: true } });
    expect((await f.api('GET', `${base}?like_user_id=ar`)).body.data).toEqual([{ user_id: 'carol', is_superuser: false }]);
    expect((await f.api('GET', `${base}?is_superuser=true`)).body.data).toEqual([{ user_id: 'bob', is_superuser: true }]);
    expect((await f.api('GET', `${base}/alice`)).body).toEqual({ user_id: 'alice', is_superuser: false });
    expect((await f.api('GET', `${base}/nobody`)).status).toBe(404);
    expect((await f.api('GET', '/api/v5/authentication/jwt/users')).status).toBe(404);

    const c1 = await connectCode(f.harness.url, { username: 'alice', password: 'alice-pw' });
    f.clients.push(c1.client);
    expect(c1.code).toBe(0);
    expect((await f.api('PUT', `${base}/alice`, { password: 'new-alice-pw', is_superuser: true })).body).toEqual({ user_id: 'alice', is_superuser: true });
    const old = await connectCode(f.harness.url, { username: 'alice', password: 'alice-pw' });
    f.clients.push(old.client);
    expect(old.code).toBe(0x86);
    expect((await f.api('PUT', `${base}/nobody`, { password: 'x' })).status).toBe(404);

    expect((await f.api('DELETE', `${base}/alice`)).status).toBe(204);
    expect((await f.api('DELETE', `${base}/alice`)).status).toBe(404);
    const gone = await connectCode(f.harness.url, { username: 'alice', password: 'new-alice-pw' });
    f.clients.push(gone.client);
    expect(gone.code).toBeGreaterThanOrEqual(0x80);
  });

  it('manages built-in authorization rules by user name, client id and for all', async () => {
    f = await startWithAuth();
    await auth!.users.add({ user_id: 'eve', password: 'pw' });
    const base = '/api/v5/authorization/sources/built_in_database/rules';
    const deny = [{ permission: 'deny', action: 'subscribe', topic: 'secret/#' }];
    expect((await f.api('POST', `${base}/users`, [{ username: 'eve', rules: deny }])).status).toBe(204);
    expect((await f.api('GET', `${base}/users/eve`)).body).toEqual({ username: 'eve', rules: deny });
    expect((await f.api('GET', `${base}/users`)).body).toEqual({ data: [{ username: 'eve', rules: deny }], meta: { page: 1, limit: 100, count: 1, hasnext: false } });
    expect((await f.api('POST', `${base}/users`, [{ username: 'eve', rules: [{ permission: 'maybe', action: 'all', topic: 'x' }] }])).status).toBe(400);

    const { client } = await connectCode(f.harness.url, { username: 'eve', password: 'pw', clientId: 'eve-1' });
    f.clients.push(client);
    const granted = (topic: string) =>
      new Promise<number>((resolve) =>
        client.subscribe(topic, { qos: 1 }, (err, _g, packet) => {
          const p = (packet ?? (err as (Error & { packet?: typeof packet }) | null)?.packet) as { granted?: (number | { qos: number })[] } | undefined;
          const g = p?.granted?.[0];
          resolve(typeof g === 'number' ? g : (g?.qos ?? -1));
        }),
      );
    expect(await granted('secret/plans')).toBe(0x87);
    expect(await granted('public/news')).toBe(1);

    expect((await f.api('PUT', `${base}/clients/eve-1`, { rules: [{ permission: 'deny', action: 'all', topic: 'public/#' }] })).status).toBe(204);
    expect((await f.api('GET', `${base}/clients`)).body.data).toEqual([{ clientid: 'eve-1', rules: [{ permission: 'deny', action: 'all', topic: 'public/#' }] }]);
    expect((await f.api('POST', `${base}/all`, { rules: [{ permission: 'allow', action: 'publish', topic: 'x/#', qos: [0, 1] }] })).status).toBe(204);
    expect((await f.api('GET', `${base}/all`)).body.rules).toHaveLength(1);

    expect((await f.api('DELETE', `${base}/users/eve`)).status).toBe(204);
    expect((await f.api('GET', `${base}/users/eve`)).status).toBe(404);
    expect((await f.api('DELETE', `${base}/clients/eve-1`)).status).toBe(204);
    expect((await f.api('DELETE', `${base}/clients/eve-1`)).status).toBe(404);
    expect((await f.api('DELETE', `${base}/all`)).status).toBe(204);
    expect((await f.api('GET', `${base}/all`)).body).toEqual({ rules: [] });
  });
});
