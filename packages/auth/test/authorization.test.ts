import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuthzRequest, ClientInfo } from '@junction/broker-core';
import { afterEach, describe, expect, it } from 'vitest';
import { Authorizer } from '../src/authz/chain.js';
import type { AuthzSource } from '../src/authz/sources.js';
import { normalizeConfig, authorizationSchema, type AuthorizationConfig } from '../src/index.js';
import { closed, connect, publish, startAuthBroker, subscribe, type AuthBrokerFixture } from './helpers.js';

let f: AuthBrokerFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const builtIn = { mechanism: 'password_based', backend: 'built_in_database' };
const dir = mkdtempSync(join(tmpdir(), 'junction-auth-acl-'));

async function withUsers(config: Record<string, unknown>, ...names: string[]): Promise<AuthBrokerFixture> {
  const fx = await startAuthBroker({ authentication: [builtIn], ...config });
  for (const n of names) await fx.auth.users.add({ user_id: n, password: 'pw' });
  return fx;
}

describe('authorization over MQTT', () => {
  it('reports which source decided in client.check_authz_complete (cache on a repeat, default on no_match)', async () => {
    const path = join(dir, 'acl-sources.conf');
    writeFileSync(path, `{allow, all, publish, ["open/#"]}.\n`);
    f = await withUsers({ authorization: { no_match: 'deny', sources: [{ type: 'file', path }] } }, 'alice');
    const seen: [string, string, string][] = [];
    f.harness.broker.hooks.on('client.check_authz_complete', (req, result, source) => void seen.push([req.topic, result, source]));
    const a = await connect(f, { clientId: 'src1', username: 'alice', password: 'pw' });
    expect(await publish(a.client, 'open/1', 'x', { qos: 1 })).toBe(0);
    expect(await publish(a.client, 'open/1', 'x', { qos: 1 })).toBe(0);
    expect(await publish(a.client, 'closed/1', 'x', { qos: 1 })).toBe(0x87);
    expect(seen).toEqual([
      ['open/1', 'allow', 'file'],
      ['open/1', 'allow', 'cache'],
      ['closed/1', 'deny', 'default'],
    ]);
  });

  it('applies an acl.conf file: SUBACK 0x87 and PUBACK 0x87 for denied actions (v5), silent drop in v3.1.1', async () => {
    const path = join(dir, 'acl.conf');
    writeFileSync(
      path,
      `%% test rules
{allow, {username, "alice"}, publish, ["devices/\${clientid}/#"]}.
{allow, {username, "alice"}, subscribe, ["cmd/\${username}/+"]}.
{deny, all, subscribe, ["$SYS/#", {eq, "#"}]}.
{allow, all, subscribe, ["public/#"]}.
`,
    );
    f = await withUsers({ authorization: { no_match: 'deny', sources: [{ type: 'file', path }] } }, 'alice', 'bob');
    const a = await connect(f, { clientId: 'dev1', username: 'alice', password: 'pw' });
    expect(await publish(a.client, 'devices/dev1/temp', '1')).toBe(0);
    expect(await publish(a.client, 'devices/dev2/temp', '1')).toBe(0x87);
    expect(await subscribe(a.client, 'cmd/alice/+')).toBe(1);
    expect(await subscribe(a.client, 'cmd/bob/x')).toBe(0x87);
    expect(await subscribe(a.client, 'cmd/alice/#')).toBe(0x87);
    expect(await subscribe(a.client, '#')).toBe(0x87);
    expect(await subscribe(a.client, '$SYS/#')).toBe(0x87);
    expect(await subscribe(a.client, 'public/x', 2)).toBe(2);
    // Shared subscriptions are checked on the topic they cover.
    expect(await subscribe(a.client, '$share/g/public/x')).toBe(1);
    expect(await subscribe(a.client, '$share/g/#')).toBe(0x87);
    expect(await subscribe(a.client, '$queue/cmd/bob/x')).toBe(0x87);
    const b = await connect(f, { clientId: 'dev2', username: 'bob', password: 'pw', protocolVersion: 4 });
    expect(await subscribe(b.client, 'cmd/bob/x')).toBe(0x80);
    expect(await publish(b.client, 'devices/dev2/temp', '1')).toBe(0);
  });

  it('no_match allow lets through what no rule covers; the default source is EMQX\'s acl.conf', async () => {
    f = await withUsers({}, 'carol');
    expect(f.auth.config.authorization.sources).toEqual([{ type: 'file', enable: true }]);
    const c = await connect(f, { username: 'carol', password: 'pw' });
    expect(await publish(c.client, 'any/topic', 'x')).toBe(0);
    // From 127.0.0.1 the default rules allow $SYS/# and # (as EMQX ships them).
    expect(await subscribe(c.client, '$SYS/#')).toBe(1);
  });

  it('deny_action disconnect closes the client after a denied publish (DISCONNECT 0x87, as EMQX)', async () => {
    f = await withUsers({ authorization: { no_match: 'deny', deny_action: 'disconnect', sources: [{ type: 'file', rules: '{allow, all, publish, ["ok"]}.' }] } }, 'dave');
    const d = await connect(f, { username: 'dave', password: 'pw' });
    expect(await publish(d.client, 'ok', '1')).toBe(0);
    const gone = closed(d.client);
    await publish(d.client, 'not-ok', '1', { qos: 0 });
    expect(await gone).toBe(0x87);
    expect(f.log.entries.some((e) => e.event === 'authz_deny_disconnect')).toBe(true);
  });

  it('built-in rules: client id rules, then user name rules, then the all list', async () => {
    f = await withUsers({ authorization: { no_match: 'deny', sources: [{ type: 'built_in_database' }] } }, 'erin');
    const rules = f.auth.rules;
    rules.set({ clientid: 'e1' }, [{ permission: 'deny', action: 'publish', topic: 'x/#' }]);
    rules.set({ username: 'erin' }, [{ permission: 'allow', action: 'all', topic: 'x/#' }, { permission: 'allow', action: 'pub', topic: 'eq q/+', qos: [0, 1] }]);
    rules.set('all', [{ permission: 'allow', action: 'subscribe', topic: 'everyone/#' }]);
    expect(() => rules.set('all', [{ permission: 'maybe', action: 'all', topic: 'x' } as never])).toThrow(/permission/);
    const e1 = await connect(f, { clientId: 'e1', username: 'erin', password: 'pw' });
    const e2 = await connect(f, { clientId: 'e2', username: 'erin', password: 'pw' });
    expect(await publish(e1.client, 'x/1', 'a')).toBe(0x87);
    expect(await publish(e2.client, 'x/1', 'a')).toBe(0);
    expect(await subscribe(e1.client, 'everyone/a')).toBe(1);
    expect(await subscribe(e1.client, 'nobody/a')).toBe(0x87);
    expect(rules.get({ username: 'erin' })).toHaveLength(2);
    expect(rules.list('clientid')).toEqual([{ clientid: 'e1', rules: [{ permission: 'deny', action: 'publish', topic: 'x/#' }] }]);
  });

  it('caches verdicts per client until the TTL passes or the cache is cleared', async () => {
    f = await withUsers({ authorization: { no_match: 'deny', cache: { ttl: '300ms' }, sources: [{ type: 'built_in_database' }] } }, 'finn');
    f.auth.rules.set({ username: 'finn' }, [{ permission: 'allow', action: 'publish', topic: 't' }]);
    const c = await connect(f, { username: 'finn', password: 'pw' });
    expect(await publish(c.client, 't', '1')).toBe(0);
    f.auth.rules.set({ username: 'finn' }, []);
    expect(await publish(c.client, 't', '1')).toBe(0); // cached allow
    f.auth.clearAuthzCache('finn-other');
    expect(await publish(c.client, 't', '1')).toBe(0);
    await new Promise((r) => setTimeout(r, 350));
    expect(await publish(c.client, 't', '1')).toBe(0x87);
    f.auth.rules.set({ username: 'finn' }, [{ permission: 'allow', action: 'publish', topic: 't' }]);
    expect(await publish(c.client, 't', '1')).toBe(0x87); // cached deny
    f.auth.clearAuthzCache();
    expect(await publish(c.client, 't', '1')).toBe(0);
  });

  it('placeholder bypass attempts: user names and client ids +, #, ${username}, a/b gain nothing', async () => {
    f = await withUsers(
      { authorization: { no_match: 'deny', cache: { enable: false }, sources: [{ type: 'file', rules: '{allow, all, all, ["u/${username}/#", "c/${clientid}/#"]}.' }] } },
      '+',
      '#',
      '${username}',
      'a/b',
      'victim',
    );
    for (const evil of ['+', '#', '${username}', 'a/b']) {
      const c = await connect(f, { clientId: evil, username: evil, password: 'pw' });
      expect(c.code).toBe(0);
      expect(await subscribe(c.client, 'u/victim/#')).toBe(0x87);
      expect(await subscribe(c.client, 'u/+/#')).toBe(0x87);
      expect(await subscribe(c.client, 'u/#')).toBe(0x87);
      expect(await subscribe(c.client, 'c/#')).toBe(0x87);
      expect(await subscribe(c.client, '#')).toBe(0x87);
      expect(await publish(c.client, 'u/victim/x', '1')).toBe(0x87);
      c.client.end(true);
    }
    const v = await connect(f, { clientId: 'v1', username: 'victim', password: 'pw' });
    expect(await subscribe(v.client, 'u/victim/#')).toBe(1);
  });
});

describe('authorization chain internals', () => {
  const client = (id: string): ClientInfo => ({ clientId: id, protocol: 'mqtt', peer: '10.0.0.1:5000' });
  const req = (c: ClientInfo, topic: string): AuthzRequest => ({ client: c, action: 'publish', topic, qos: 0, retain: false });

  function make(cfg: Record<string, unknown>, answer: () => 'allow' | 'deny' | 'nomatch' | Promise<'allow' | 'deny' | 'nomatch'>) {
    let nowMs = 1_000_000;
    let calls = 0;
    const source: AuthzSource = {
      type: 'test',
      authorize: () => {
        calls++;
        return answer();
      },
    };
    const kicked: string[] = [];
    const a = new Authorizer({
      config: normalizeConfig<AuthorizationConfig>(authorizationSchema, cfg),
      sources: [source],
      now: () => nowMs,
      log: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } },
      disconnect: (c) => kicked.push(c.clientId),
      isConnected: () => true,
    });
    return { a, calls: () => calls, advance: (ms: number) => (nowMs += ms), kicked };
  }

  it('stays synchronous with synchronous sources and evicts beyond max_size', () => {
    const t = make({ cache: { max_size: 2, ttl: '1m' } }, () => 'allow');
    const c = client('x');
    expect(t.a.intercept(req(c, 'a'))).toBe('allow');
    t.a.intercept(req(c, 'b'));
    t.a.intercept(req(c, 'a'));
    expect(t.calls()).toBe(2);
    t.a.intercept(req(c, 'c')); // evicts the oldest (a)
    t.a.intercept(req(c, 'a'));
    expect(t.calls()).toBe(4);
    t.advance(61_000);
    t.a.intercept(req(c, 'a'));
    expect(t.calls()).toBe(5);
    const ex = make({ cache: { excludes: ['live/#'] } }, () => 'allow');
    ex.a.intercept(req(c, 'live/1'));
    ex.a.intercept(req(c, 'live/1'));
    expect(ex.calls()).toBe(2);
  });

  it('caches a verdict per action, QoS and retain flag of a topic, counting each against max_size', () => {
    const t = make({ cache: { max_size: 3, ttl: '1m' } }, () => 'allow');
    const c = client('s');
    const at = (action: 'publish' | 'subscribe', qos: 0 | 1 | 2, retain: boolean): AuthzRequest => ({ client: c, action, topic: 't', qos, retain });
    for (const r of [at('publish', 0, false), at('publish', 1, false), at('publish', 0, true)]) t.a.intercept(r);
    expect(t.calls()).toBe(3);
    for (const r of [at('publish', 0, false), at('publish', 1, false), at('publish', 0, true)]) t.a.intercept(r);
    expect(t.calls()).toBe(3);
    // A fourth entry of the same topic passes max_size: the topic (its three) goes as the oldest.
    t.a.intercept(at('subscribe', 1, false));
    expect(t.calls()).toBe(4);
    t.a.intercept(at('publish', 1, false));
    expect(t.calls()).toBe(5);
    const q = make({ cache: { max_size: 10 } }, () => 'deny');
    const by = (qos: 0 | 1 | 2) => q.a.intercept({ client: c, action: 'publish', topic: 'x', qos, retain: false });
    expect([by(0), by(1), by(0), by(1)]).toEqual(['deny', 'deny', 'deny', 'deny']);
    expect(q.calls()).toBe(2);
  });

  it('waits for asynchronous sources, applies no_match, and a throwing source counts as no match', async () => {
    const t = make({ no_match: 'deny', cache: { enable: false } }, () => Promise.resolve('nomatch'));
    const r = t.a.intercept(req(client('y'), 'a'));
    expect(r).toBeInstanceOf(Promise);
    expect(await r).toBe('deny');
    const u = make({ no_match: 'allow' }, () => {
      throw new Error('boom');
    });
    expect(u.a.intercept(req(client('z'), 'a'))).toBe('allow');
  });

  it('asks for a disconnect on deny with deny_action disconnect, also from the cache', () => {
    const t = make({ deny_action: 'disconnect' }, () => 'deny');
    const c = client('k');
    expect(t.a.intercept(req(c, 'a'))).toBe('deny');
    expect(t.a.intercept(req(c, 'a'))).toBe('deny');
    expect(t.kicked).toEqual(['k', 'k']);
    expect(t.calls()).toBe(1);
  });
});
