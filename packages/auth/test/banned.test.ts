import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, BannedList } from '../src/index.js';
import { closed, connect, eventually, sleep, startAuthBroker, type AuthBrokerFixture } from './helpers.js';

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

async function fixture(extra: Record<string, unknown> = {}): Promise<AuthBrokerFixture> {
  const fx = await startAuthBroker({ authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }], ...extra });
  await fx.auth.users.add({ user_id: 'alice', password: 'pw', is_superuser: true });
  await fx.auth.users.add({ user_id: 'bob', password: 'pw' });
  return fx;
}

const endClient = (c: MqttClient) => new Promise<void>((r) => c.end(false, {}, () => r()));

describe('banned clients', () => {
  it('refuses banned clients at CONNECT by every kind, even superusers: 0x8A (v5), 5 (v3.1.1)', async () => {
    f = await fixture();
    const cases: [Parameters<BannedList['create']>[0], { clientId?: string; username: string }][] = [
      [{ as: 'clientid', who: 'bad-1' }, { clientId: 'bad-1', username: 'alice' }],
      [{ as: 'username', who: 'bob' }, { username: 'bob' }],
      [{ as: 'clientid_re', who: '^evil-' }, { clientId: 'evil-42', username: 'alice' }],
      [{ as: 'username_re', who: '^b.b$' }, { username: 'bob' }],
      [{ as: 'peerhost', who: '127.0.0.1' }, { username: 'alice' }],
      [{ as: 'peerhost_net', who: '127.0.0.0/8' }, { username: 'alice' }],
    ];
    for (const [ban, who] of cases) {
      f.auth.banned.create(ban);
      expect((await connect(f, { ...who, password: 'pw' })).code, `${ban.as} ${ban.who}`).toBe(0x8a);
      expect((await connect(f, { ...who, password: 'pw', protocolVersion: 4 })).code).toBe(5);
      expect(f.auth.banned.delete(ban.as, ban.who)).toBe(true);
      expect((await connect(f, { ...who, password: 'pw' })).code).toBe(0);
    }
    expect(f.log.entries.filter((e) => e.event === 'banned_client_refused').length).toBe(12);
  });

  it('ignores expired bans and purges them; refuses to create one already expired', async () => {
    f = await fixture();
    const banned = f.auth.banned;
    banned.create({ as: 'clientid', who: 'short', until: Date.now() + 800 });
    expect((await connect(f, { clientId: 'short', username: 'alice', password: 'pw' })).code).toBe(0x8a);
    await sleep(850);
    expect((await connect(f, { clientId: 'short', username: 'alice', password: 'pw' })).code).toBe(0);
    expect(banned.list()).toEqual([]);
    expect(banned.purgeExpired()).toBe(1);
    expect(() => banned.create({ as: 'clientid', who: 'old', until: new Date(Date.now() - 1000).toISOString() })).toThrow(AuthError);
    // An expired ban may be replaced; a live one may not.
    banned.create({ as: 'username', who: 'x', until: Date.now() + 60_000 });
    expect(() => banned.create({ as: 'username', who: 'x' })).toThrow(/already banned/);
  });

  it('a new ban disconnects the connected clients it covers, and only those', async () => {
    f = await fixture();
    const a = await connect(f, { clientId: 'keep-1', username: 'alice', password: 'pw' });
    const b = await connect(f, { clientId: 'drop-1', username: 'bob', password: 'pw' });
    const c = await connect(f, { clientId: 'drop-2', username: 'alice', password: 'pw' });
    const bGone = closed(b.client);
    const cGone = closed(c.client);
    f.auth.banned.create({ as: 'username', who: 'bob', reason: 'test' });
    f.auth.banned.create({ as: 'clientid_re', who: '^drop-' });
    expect(await bGone).toBe(0x98);
    expect(await cGone).toBe(0x98);
    await sleep(50);
    expect(a.client.connected).toBe(true);
    expect(f.log.entries.filter((e) => e.event === 'banned_client_kicked').map((e) => e.obj.clientId).sort()).toEqual(['drop-1', 'drop-2']);
  });

  it('loads EMQX\'s banned bootstrap CSV, skipping bad and expired rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'junction-banned-'));
    const path = join(dir, 'banned.csv');
    writeFileSync(
      path,
      [
        'as,who,reason,at,until,by',
        'clientid,boot-1,spam,2024-01-01T00:00:00Z,infinity,ops',
        'username,bob,,,,',
        'peerhost_net,10.0.0.0/8,net,,2999-01-01T00:00:00+08:00,ops',
        'clientid,gone,expired,2020-01-01T00:00:00Z,2020-02-01T00:00:00Z,ops',
        'ipaddr,1.2.3.4,bad kind,,,',
        'peerhost,not-an-ip,bad ip,,,',
      ].join('\n'),
    );
    f = await fixture({ banned: { bootstrap_file: path } });
    expect(f.auth.banned.list().map((b) => `${b.as}:${b.who}`).sort()).toEqual(['clientid:boot-1', 'peerhost_net:10.0.0.0/8', 'username:bob']);
    expect(f.auth.banned.lookup('clientid', 'boot-1')).toMatchObject({ reason: 'spam', by: 'ops', at: Date.parse('2024-01-01T00:00:00Z'), until: undefined });
    expect((await connect(f, { clientId: 'boot-1', username: 'alice', password: 'pw' })).code).toBe(0x8a);
    expect((await connect(f, { clientId: 'gone', username: 'alice', password: 'pw' })).code).toBe(0);
    expect(f.log.entries.some((e) => e.event === 'banned_bootstrap_failed' && e.obj.failed === 3)).toBe(true);
  });

  it('matches IPv4-mapped IPv6 peers and IPv6 networks', () => {
    const banned = new BannedList();
    banned.create({ as: 'peerhost_net', who: '192.168.0.0/16' });
    banned.create({ as: 'peerhost', who: '2001:db8::1' });
    expect(banned.check({ clientId: 'x', peer: '[::ffff:192.168.1.2]:1234' })?.as).toBe('peerhost_net');
    expect(banned.check({ clientId: 'x', peer: '[2001:db8:0:0::1]:1234' })?.as).toBe('peerhost');
    expect(banned.check({ clientId: 'x', peer: '192.169.0.1:1' })).toBeUndefined();
    expect(() => banned.create({ as: 'peerhost_net', who: '10.0.0.0/33' })).toThrow(AuthError);
    expect(() => banned.create({ as: 'clientid_re', who: '(' })).toThrow(AuthError);
  });
});

describe('flapping detection', () => {
  it('bans a client id that disconnects max_count times within window_time, for ban_time', async () => {
    f = await fixture({ flapping_detect: { enable: true, max_count: 3, window_time: '1m', ban_time: '1500ms' } });
    for (let i = 0; i < 3; i++) {
      const c = await connect(f, { clientId: 'flappy', username: 'alice', password: 'pw' });
      expect(c.code).toBe(0);
      await endClient(c.client);
    }
    await eventually(() => f!.auth.banned.lookup('clientid', 'flappy') !== undefined, 2000, 'the flapping ban');
    expect(f.auth.banned.lookup('clientid', 'flappy')).toMatchObject({ by: 'flapping_detect' });
    expect((await connect(f, { clientId: 'flappy', username: 'alice', password: 'pw' })).code).toBe(0x8a);
    expect((await connect(f, { clientId: 'steady', username: 'alice', password: 'pw' })).code).toBe(0);
    await sleep(1550);
    expect((await connect(f, { clientId: 'flappy', username: 'alice', password: 'pw' })).code).toBe(0);
    expect(f.log.entries.some((e) => e.event === 'flapping_detected')).toBe(true);
  });

  it('is off by default', async () => {
    f = await fixture();
    expect(f.auth.flapping).toBeUndefined();
    for (let i = 0; i < 4; i++) await endClient((await connect(f, { clientId: 'calm', username: 'alice', password: 'pw' })).client);
    expect((await connect(f, { clientId: 'calm', username: 'alice', password: 'pw' })).code).toBe(0);
  });
});
