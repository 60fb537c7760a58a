import { createAdapterContext } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminAdapterView, BannedStore, BanRecord } from '../src/index.js';
import { runCtl, type CtlOptions } from '../src/index.js';
import { ADMIN_PASSWORD, eventually, startAdmin, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

function bannedInMemory(): BannedStore {
  const bans: BanRecord[] = [];
  return {
    create: (b) => {
      const rec: BanRecord = { as: b.as, who: b.who, by: b.by ?? '', reason: b.reason ?? '', at: Date.now(), until: typeof b.until === 'string' && b.until !== 'infinity' ? Date.parse(b.until) : undefined };
      bans.push(rec);
      return rec;
    },
    delete: (as, who) => {
      const i = bans.findIndex((b) => b.as === as && b.who === who);
      if (i >= 0) bans.splice(i, 1);
      return i >= 0;
    },
    list: () => [...bans],
  };
}

async function ctl(argv: string[], opts: Partial<CtlOptions> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCtl(argv, { url: f!.base, token: f!.token, out: (l) => out.push(l), err: (l) => err.push(l), ...opts });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('junction ctl', () => {
  it('status, clients list and kick, banned add/list/del over the API', async () => {
    f = await startAdmin({ auth: { banned: bannedInMemory() } });
    const status = await ctl(['status'], { token: undefined });
    expect(status).toMatchObject({ code: 0, out: 'Node junction@127.0.0.1 is started\njunction 0.1.0 is running' });

    const c = await f.mqttClient({ clientId: 'ctl-client', username: 'op' });
    const list = await ctl(['clients', 'list']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^Client\(ctl-client, username=op, peername=127\.0\.0\.1:\d+, proto=MQTT\/5, connected=true, connected_at=.*, subscriptions=0\)$/m);
    expect(list.out).toContain('page 1: 1 of 1');
    const asJson = JSON.parse((await ctl(['clients', 'list', '--json', '--clientid', 'ctl-client'])).out);
    expect(asJson.data[0].clientid).toBe('ctl-client');
    expect(JSON.parse((await ctl(['clients', 'show', 'ctl-client'])).out).username).toBe('op');

    const reason = new Promise<number | undefined>((resolve) => c.once('disconnect', (p) => resolve(p.reasonCode)));
    expect(await ctl(['clients', 'kick', 'ctl-client'])).toMatchObject({ code: 0, out: 'kicked ctl-client' });
    expect(await reason).toBe(0x98);
    const again = await ctl(['clients', 'kick', 'ctl-client']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/404 CLIENTID_NOT_FOUND/);

    expect((await ctl(['banned', 'add', 'clientid', 'evil', '--reason', 'spam', '--until', '2099-01-01T00:00:00Z'])).out).toBe('banned clientid evil until 2099-01-01T00:00:00.000Z');
    expect((await ctl(['banned', 'add', 'peerhost_net', '10.0.0.0/8'])).code).toBe(0);
    const banned = await ctl(['banned', 'list']);
    expect(banned.out).toMatch(/^clientid evil by=admin reason=spam at=\S+ until=2099-01-01T00:00:00.000Z$/m);
    expect(banned.out).toMatch(/^peerhost_net 10\.0\.0\.0\/8 /m);
    expect((await ctl(['banned', 'del', 'peerhost_net', '10.0.0.0/8'])).code).toBe(0);
    expect((await ctl(['banned', 'list'])).out).not.toContain('10.0.0.0/8');

    expect((await ctl(['publish', 'some/topic', 'hi', '--qos', '1'])).out).toBe('published; no_matching_subscribers');
    expect((await ctl(['stats'])).out).toMatch(/^connections\.count\s+0$/m);

    const audit = (await f.api('GET', '/api/v5/audit?from=cli')).body;
    expect(audit.meta.count).toBeGreaterThanOrEqual(5);
  });

  it('logs in with a user name and password, or uses an API key; reports usage and refusals', async () => {
    f = await startAdmin();
    expect((await ctl(['stats'], { token: undefined, login: { username: 'admin', password: ADMIN_PASSWORD } })).code).toBe(0);
    const key = (await f.api('POST', '/api/v5/api_key', { name: 'ctl' })).body as { api_key: string; api_secret: string };
    expect((await ctl(['clients', 'list'], { token: undefined, apiKey: `${key.api_key}:${key.api_secret}` })).code).toBe(0);
    const wrong = await ctl(['clients', 'list'], { token: undefined, apiKey: { key: key.api_key, secret: 'nope' } });
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/401 BAD_API_KEY_OR_SECRET/);
    expect((await ctl(['clients', 'list'], { token: undefined })).code).toBe(2);
    expect((await ctl(['frobnicate'])).code).toBe(2);
    expect((await ctl(['clients', 'kick'])).err).toMatch(/missing <clientid>/);
    expect((await ctl([])).out).toContain('usage: junction ctl');
    const down = await runCtl(['status'], { url: 'http://127.0.0.1:1', out: () => {}, err: () => {} });
    expect(down).toBe(1);
  });
});

describe('junction ctl: listeners, log level, traces', () => {
  it('lists and stops listeners, sets the log level, starts, shows and deletes a trace; audited as cli', async () => {
    let level = 'info';
    let views: AdminAdapterView[] = [];
    f = await startAdmin({ extra: () => ({ adapters: () => views, logLevel: { get: () => level, set: (l: string) => (level = l) } }) });
    const tcp = tcpListenersFactory.create(createAdapterContext(f.harness.broker, { sections: { mqtt: {} } }), { extra: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 10, mountpoint: '' } });
    views = [{ type: 'listeners.tcp', listeners: await tcp.start(), stats: () => tcp.stats(), adapter: tcp }];
    try {
      expect((await ctl(['listeners'])).out).toMatch(/^tcp:extra\s+127\.0\.0\.1:\d+\s+running connections=0$/);
      expect(await ctl(['listeners', 'stop', 'tcp:extra'])).toMatchObject({ code: 0, out: expect.stringMatching(/^tcp:extra stopped on 127\.0\.0\.1:\d+$/) });
      expect((await ctl(['listeners', 'stop', 'tcp:nope'])).err).toContain('404 BAD_LISTENER_ID');
      expect(await ctl(['log', 'set-level', 'debug'])).toMatchObject({ code: 0, out: 'log level debug' });
      expect(level).toBe('debug');
      expect((await ctl(['log', 'set-level', 'loud'])).code).toBe(1);

      expect((await ctl(['trace', 'start', 'clientid', 'ctl-1', '--minutes', '5'])).out).toMatch(/^trace clientid_ctl-1 running until /);
      const c = await f.mqttClient({ clientId: 'ctl-1' });
      c.end(true);
      await eventually(async () => (await ctl(['trace', 'show', 'clientid_ctl-1'])).out.includes('[client.disconnected]'), 3000, 'traced');
      expect((await ctl(['trace', 'list'])).out).toMatch(/^clientid_ctl-1 clientid=ctl-1 running .* bytes=\d+$/);
      expect((await ctl(['trace', 'stop', 'clientid_ctl-1'])).out).toBe('trace clientid_ctl-1 stopped');
      expect((await ctl(['trace', 'del', 'clientid_ctl-1'])).out).toBe('deleted trace clientid_ctl-1');
      const audit = (await f.api('GET', '/api/v5/audit?from=cli')).body.data as { operation_type: string }[];
      expect(new Set(audit.map((e) => e.operation_type))).toEqual(new Set(['listeners', 'configs', 'trace']));
    } finally {
      await tcp.stop({ drainMs: 0 });
    }
  });
});
