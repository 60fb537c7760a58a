import { ConfigError, type Logger } from '@junction/broker-core';
import { BrokerCore } from '@junction/broker-core';
import { ManualClock } from '@junction/broker-core/testing';
import { describe, expect, it } from 'vitest';
import { installRules, normalizeRulesConfig, RuleSqlError, rulesConfigSchema, type RuleOutput } from '../src/index.js';
import { connect, flush, msg, received, setup } from './helpers.js';

describe('rule management', () => {
  it('creates, lists, updates, disables, enables and deletes rules at run time', async () => {
    const { broker, rules, clock } = setup();
    const created = rules.create('r1', { sql: 'SELECT payload FROM "a"', description: 'first', actions: [{ function: 'republish', args: { topic: 'b', payload: '${payload}' } }] });
    expect(created).toMatchObject({ id: 'r1', enable: true, description: 'first', from: ['a'], createdAt: clock.now() });
    expect(rules.list().map((r) => r.id)).toEqual(['r1']);
    const sub = await connect(broker, 's');
    await sub.handle.subscribe([{ filter: 'b', qos: 0 }, { filter: 'c', qos: 0 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('a', '1'));
    clock.advance(1000);
    const updated = rules.update('r1', { actions: [{ function: 'republish', args: { topic: 'c', payload: '${payload}' } }] });
    expect(updated.updatedAt).toBe(clock.now());
    expect(updated.createdAt).toBe(created.createdAt);
    p.handle.publish(msg('a', '2'));
    rules.disable('r1');
    p.handle.publish(msg('a', '3'));
    rules.enable('r1');
    p.handle.publish(msg('a', '4'));
    expect(received(sub)).toEqual([
      ['b', '1'],
      ['c', '2'],
      ['c', '4'],
    ]);
    // An update keeps the metrics; a disabled rule does not count.
    expect(rules.metrics('r1')).toMatchObject({ matched: 3, passed: 3, 'actions.success': 3 });
    expect(rules.remove('r1')).toBe(true);
    expect(rules.remove('r1')).toBe(false);
    expect(rules.get('r1')).toBeUndefined();
    expect(rules.metrics('r1')).toBeUndefined();
    p.handle.publish(msg('a', '5'));
    expect(received(sub)).toHaveLength(3);
  });

  it('refuses bad definitions with the position or the key', () => {
    const { rules } = setup();
    expect(() => rules.create('bad', { sql: 'SELECT FROM "t"' })).toThrow(RuleSqlError);
    expect(() => rules.create('bad', { sql: 'SELECT FROM "t"' })).toThrow(/line 1, column 8/);
    expect(() => rules.create('bad', { sql: 'SELECT * FROM "t"', actions: [{ function: 'republish', args: {} }] })).toThrow(/rule_engine\.rules\.bad\.actions\.0\.args\.topic/);
    expect(() => rules.create('bad', { sql: 'SELECT * FROM "t"', actions: [{ function: 'teleport' }] })).toThrow(/rule_engine\.rules\.bad\.actions\.0: expected one of/);
    expect(() => rules.create('bad id!', { sql: 'SELECT * FROM "t"' })).toThrow(ConfigError);
    rules.create('ok', { sql: 'SELECT * FROM "t"' });
    expect(() => rules.create('ok', { sql: 'SELECT * FROM "t"' })).toThrow(/exists/);
    expect(() => rules.update('missing', { enable: false })).toThrow(/no such rule/);
    // A failed update leaves the rule as it was.
    expect(() => rules.update('ok', { sql: 'SELECT nosuch() FROM "t"' })).toThrow(/unknown function nosuch/);
    expect(rules.get('ok')?.sql).toBe('SELECT * FROM "t"');
    expect(rules.list().map((r) => r.id)).toEqual(['ok']);
  });

  it('tries SQL on a sample without actions or metrics', () => {
    const { rules } = setup();
    expect(rules.test('SELECT payload.x as x, clientid FROM "t/#" WHERE x > 1', { clientid: 'c', payload: '{"x": 2}' })).toEqual({ passed: true, outputs: [{ x: 2, clientid: 'c' }] });
    expect(rules.test('SELECT event FROM "$events/client_connected"', {})).toEqual({ passed: true, outputs: [{ event: 'client.connected' }] });
    expect(rules.test('SELECT 1 FROM "t" WHERE false')).toEqual({ passed: false });
  });
});

describe('per-rule metrics', () => {
  it('counts matched, passed, no result and exceptions as EMQX does', async () => {
    const { broker, rules } = setup({ rules: { m: { sql: 'SELECT payload.v as v FROM "m/#" WHERE v > 1', actions: [] } } });
    const p = await connect(broker, 'p');
    p.handle.publish(msg('m/1', '{"v": 2}'));
    p.handle.publish(msg('m/1', '{"v": 0}'));
    p.handle.publish(msg('m/1', 'not json'));
    p.handle.publish(msg('other', '{"v": 5}'));
    expect(rules.metrics('m')).toEqual({
      matched: 3,
      passed: 1,
      failed: 1,
      'failed.exception': 1,
      'failed.no_result': 1,
      'actions.total': 0,
      'actions.success': 0,
      'actions.failed': 0,
      'actions.failed.out_of_service': 0,
      'actions.failed.unknown': 0,
      'actions.discarded': 0,
    });
    expect(rules.resetMetrics('m')).toBe(true);
    expect(rules.metrics('m')?.matched).toBe(0);
  });

  it('a rule failing on bad JSON does not affect delivery of the original message', async () => {
    const { broker, rules } = setup({ rules: { j: { sql: 'SELECT payload.temp as t FROM "sensors/#"', actions: [{ function: 'republish', args: { topic: 'x' } }] } } });
    const sub = await connect(broker, 's');
    await sub.handle.subscribe([{ filter: 'sensors/#', qos: 1 }]);
    const p = await connect(broker, 'p');
    const outcome = await p.handle.publish(msg('sensors/1', '{broken', { qos: 1 }));
    expect(outcome.matched).toBe(1);
    expect(received(sub)).toEqual([['sensors/1', '{broken']]);
    expect(rules.metrics('j')).toMatchObject({ matched: 1, failed: 1, 'failed.exception': 1, passed: 0 });
  });

  it('logs failures at a bounded rate but counts every one', async () => {
    const lines: [string, object][] = [];
    const log: Logger = { debug() {}, info() {}, warn: (o, e) => void lines.push([e, o]), error: (o, e) => void lines.push([e, o]), child: () => log };
    const clock = new ManualClock();
    const broker = new BrokerCore({ clock, config: { allow_anonymous: true } });
    const rules = installRules(broker, { rules: { f: { sql: 'SELECT payload.x FROM "f"' } } }, log);
    const p = await connect(broker, 'p');
    for (let i = 0; i < 50; i++) p.handle.publish(msg('f', 'bad'));
    clock.advance(11_000);
    p.handle.publish(msg('f', 'bad'));
    expect(rules.metrics('f')?.['failed.exception']).toBe(51);
    const failures = lines.filter(([e]) => e === 'rule_sql_failed');
    expect(failures).toHaveLength(2);
    expect(failures[1]![1]).toMatchObject({ rule_id: 'f', suppressed: 49 });
  });
});

describe('sinks', () => {
  it('hands outputs to a registered sink and counts its results', async () => {
    const { broker, rules } = setup({ rules: { s: { sql: 'FOREACH payload.items as i DO i.n as n FROM "batch"', actions: [{ function: 'sink', name: 'kafka:main' }, 'http:hook'] } } });
    const got: RuleOutput[] = [];
    rules.sinks.register({ name: 'kafka:main', send: async (o) => void got.push(o) });
    rules.sinks.register({ name: 'http:hook', send: async () => Promise.reject(new Error('503')) });
    const p = await connect(broker, 'p');
    p.handle.publish(msg('batch', '{"items": [{"n": 1}, {"n": 2}]}'));
    await flush();
    expect(got.map((o) => o.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(got[0]).toMatchObject({ ruleId: 's', event: { topic: 'batch', clientid: 'p' } });
    expect(rules.metrics('s')).toMatchObject({ passed: 1, 'actions.total': 4, 'actions.success': 2, 'actions.failed': 2, 'actions.failed.unknown': 2 });
  });

  it('counts out_of_service when the named sink is not registered, and uses it once it is', async () => {
    const { broker, rules } = setup({ rules: { s: { sql: 'SELECT * FROM "t"', actions: ['pg:db'] } } });
    const p = await connect(broker, 'p');
    p.handle.publish(msg('t'));
    expect(rules.metrics('s')).toMatchObject({ 'actions.failed': 1, 'actions.failed.out_of_service': 1 });
    const unregister = rules.sinks.register({ name: 'pg:db', send: async () => {} });
    expect(() => rules.sinks.register({ name: 'pg:db', send: async () => {} })).toThrow(/already registered/);
    p.handle.publish(msg('t'));
    await flush();
    expect(rules.metrics('s')).toMatchObject({ 'actions.success': 1 });
    unregister();
    expect(rules.sinks.list()).toEqual([]);
  });

  it('a slow sink does not hold up publishing', async () => {
    const { broker, rules } = setup({ rules: { s: { sql: 'SELECT * FROM "t"', actions: ['slow:one'] } } });
    let release!: () => void;
    rules.sinks.register({ name: 'slow:one', send: () => new Promise<void>((r) => (release = r)) });
    const sub = await connect(broker, 'sub');
    await sub.handle.subscribe([{ filter: 't', qos: 0 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('t', 'now'));
    expect(received(sub)).toEqual([['t', 'now']]);
    expect(rules.metrics('s')?.['actions.success']).toBe(0);
    release();
    await flush();
    expect(rules.metrics('s')?.['actions.success']).toBe(1);
  });
});

describe('configuration', () => {
  it('fills EMQX’s defaults', () => {
    const c = normalizeRulesConfig({ rules: { r: { sql: 'SELECT * FROM "t"', actions: [{ function: 'republish', args: { topic: 'x' } }, { function: 'console' }] } } });
    expect(c).toEqual({
      ignore_sys_message: true,
      max_republish_depth: 8,
      rules: {
        r: {
          sql: 'SELECT * FROM "t"',
          enable: true,
          description: '',
          actions: [
            { function: 'republish', args: { topic: 'x', qos: '${qos}', retain: '${flags.retain}', payload: '', mqtt_properties: {}, user_properties: '${user_properties}', direct_dispatch: false } },
            { function: 'console' },
          ],
        },
      },
    });
  });

  it.each([
    [{ rules: { r: { sql: '' } } }, 'rule_engine.rules.r.sql'],
    [{ rules: { r: { actions: [] } } }, 'rule_engine.rules.r.sql'],
    [{ rules: { r: { sql: 'SELECT * FROM "t"', enable: 'yes' } } }, 'rule_engine.rules.r.enable'],
    [{ rules: { r: { sql: 'SELECT * FROM "t"', actions: [{ function: 'republish', args: { topic: 't', qos: 3 } }] } } }, 'rule_engine.rules.r.actions.0.args.qos'],
    [{ rules: { r: { sql: 'SELECT * FROM "t"', extra: 1 } } }, 'rule_engine.rules.r.extra'],
    [{ max_republish_depth: 0 }, 'rule_engine.max_republish_depth'],
    [{ unknown: true }, 'rule_engine.unknown'],
  ])('names the bad key in %j', (input, path) => {
    try {
      normalizeRulesConfig(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe(path);
    }
  });

  it('reports bad SQL in the config under the rule’s sql key, and installs nothing', () => {
    const broker = new BrokerCore();
    try {
      installRules(broker, { rules: { r: { sql: 'SELECT * FROM "t" WHERE' } } });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).path).toBe('rule_engine.rules.r.sql');
      expect((err as Error).message).toMatch(/line 1, column 24/);
    }
    expect(broker.hooks.has('client.connected')).toBe(false);
  });

  it('describes every key of the schema', () => {
    const walk = (s: Record<string, unknown>, path: string): string[] => {
      const props = (s.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.entries(props).flatMap(([k, v]) => [...(v.description ? [] : [`${path}.${k}`]), ...walk(v, `${path}.${k}`)]);
    };
    expect(walk(rulesConfigSchema as never, 'rule_engine')).toEqual([]);
  });
});
