import { describe, expect, it } from 'vitest';
import { RuleEvalError, type Value, type ValueMap } from '../src/index.js';
import { setup } from './helpers.js';

const { rules } = setup();

/** Run SQL on sample columns; the outputs, or 'no result'. */
function run(sql: string, context: ValueMap = {}): Value[] | 'no result' {
  const r = rules.test(sql, context);
  return r.passed ? r.outputs : 'no result';
}

const one = (sql: string, context: ValueMap = {}) => {
  const r = run(sql, context);
  if (r === 'no result') throw new Error('no result');
  return r[0];
};

const MSG = { clientid: 'c_emqx', username: 'u_emqx', topic: 't/a', qos: 1, payload: '{"msg": "hello", "x": {"y": 1}, "list": [1, 2, 3, 4], "temp": 31.5}' };

describe('SELECT', () => {
  it('selects fields and payload paths, as in EMQX’s example', () => {
    expect(one('SELECT payload.msg as msg, clientid, username, payload, topic, qos FROM "t/#"', MSG)).toEqual({
      msg: 'hello',
      clientid: 'c_emqx',
      username: 'u_emqx',
      payload: MSG.payload,
      topic: 't/a',
      qos: 1,
    });
  });

  it('nests an unaliased payload path, and nests dotted aliases', () => {
    expect(one('SELECT payload.x.y, 1 as a.b FROM "t"', MSG)).toEqual({ payload: { x: { y: 1 } }, a: { b: 1 } });
  });

  it('lets WHERE and later fields use aliases', () => {
    expect(one('SELECT payload.temp as t, t * 2 as d FROM "t" WHERE t > 30', MSG)).toEqual({ t: 31.5, d: 63 });
    expect(run('SELECT payload.temp as t FROM "t" WHERE t > 40', MSG)).toBe('no result');
  });

  it('copies every column with *', () => {
    const out = one('SELECT * FROM "t"', MSG) as ValueMap;
    expect(out).toMatchObject({ clientid: 'c_emqx', topic: 't/a', event: 'message.publish' });
  });

  it('indexes arrays from 1, from the end when negative, and slices', () => {
    expect(one('SELECT payload.list[1] as a, payload.list[-1] as b, payload.list[9] as c, payload.list[2..3] as d, payload.list[-2..-1] as e FROM "t"', MSG)).toEqual({
      a: 1,
      b: 4,
      c: undefined,
      d: [2, 3],
      e: [3, 4],
    });
    expect(one('SELECT payload.list[payload.x.y + 1] as v FROM "t"', MSG)).toEqual({ v: 2 });
  });

  it('reads keys with special characters when quoted', () => {
    const ctx = { pub_props: { 'User-Property': { foo: 'bar' } } };
    expect(one("SELECT pub_props.'User-Property'.foo as foo FROM \"t/#\"", ctx)).toEqual({ foo: 'bar' });
  });

  it('decodes JSON text on the way through a path', () => {
    expect(one('SELECT inner.a as a FROM "t"', { inner: '{"a": 5}' })).toEqual({ a: 5 });
    expect(one('SELECT inner.a as a FROM "t"', { inner: 'not json' })).toEqual({ a: undefined });
  });

  it('fails on a payload path when the payload is not JSON', () => {
    expect(() => run('SELECT payload.x FROM "t"', { payload: 'not json' })).toThrow(RuleEvalError);
    expect(() => run('SELECT payload.x FROM "t"', { payload: 'not json' })).toThrow(/decode_json_failed/);
    // The raw payload alone is fine.
    expect(one('SELECT payload FROM "t"', { payload: 'not json' })).toEqual({ payload: 'not json' });
  });

  it('evaluates CASE, with and without a subject', () => {
    const sql = 'SELECT CASE WHEN payload.x < 0 THEN 0 WHEN payload.x > 7 THEN 7 ELSE payload.x END as x FROM "t/#"';
    expect(one(sql, { payload: '{"x": 8}' })).toEqual({ x: 7 });
    expect(one(sql, { payload: '{"x": -1}' })).toEqual({ x: 0 });
    expect(one(sql, { payload: '{"x": 3}' })).toEqual({ x: 3 });
    expect(one("SELECT CASE qos WHEN 0 THEN 'zero' WHEN 1 THEN 'one' END as q FROM \"t\"", { qos: 1 })).toEqual({ q: 'one' });
    expect(one("SELECT CASE qos WHEN 0 THEN 'zero' END as q FROM \"t\"", { qos: 2 })).toEqual({ q: undefined });
  });

  it('builds lists and ranges', () => {
    expect(one('SELECT [1, qos, \'a\'] as l, [2..4] as r FROM "t"', { qos: 1 })).toEqual({ l: [1, 1, 'a'], r: [2, 3, 4] });
  });
});

describe('operators', () => {
  const truth = (cond: string, ctx: ValueMap = {}) => run(`SELECT 1 as one FROM "t" WHERE ${cond}`, ctx) !== 'no result';

  it.each([
    ["1 = 1", true],
    ["1 = 1.0", true],
    ["'1' = 1", true],
    ["2 > '10'", false],
    ["'abc' < 'abd'", true],
    ["true = 'true'", true],
    ["missing = 1", false],
    ["missing != 1", false],
    ["missing = missing2", true],
    ["1 <> 2", true],
    ["1 != 1", false],
    ["'t/a/b' =~ 't/#'", true],
    ["'t/a/b' =~ 't/+'", false],
    ["qos in (1, 2)", true],
    ["qos not in (1, 2)", false],
    ["not qos = 2", true],
    ["not 'x'", false],
    ["qos = 1 and (clientid = 'c' or clientid = 'd')", true],
    ["is_null(missing) and is_not_null(qos)", true],
    ["3 > 2 > 1", 'error'],
  ] as [string, boolean | 'error'][])('%s is %s', (cond, expected) => {
    if (expected === 'error') expect(() => truth(cond, { qos: 1, clientid: 'c' })).toThrow();
    else expect(truth(cond, { qos: 1, clientid: 'c' })).toBe(expected);
  });

  it.each([
    ['1 + 2', 3],
    ["'a' + 'b'", 'ab'],
    ["'n=' + 1", 'n=1'],
    ["'x' + missing", 'xundefined'],
    ['7 / 2', 3.5],
    ['7 div 2', 3],
    ['-7 div 2', -3],
    ['7 mod 3', 1],
    ['-7 mod 3', -1],
    ['2 * 3 - 1', 5],
    ['-qos', -1],
    ['qos = 1', true],
  ] as [string, Value][])('%s evaluates to %j', (e, expected) => {
    expect(one(`SELECT ${e} as v FROM "t"`, { qos: 1 })).toEqual({ v: expected });
  });

  it.each(['1 / 0', '1 div 0', '1.5 div 1', "1 - 'a'", "1 = 'abc'", "-'a'", 'missing + 1'])('%s is an error', (e) => {
    expect(() => run(`SELECT ${e} as v FROM "t"`, {})).toThrow(RuleEvalError);
  });

  it('names an unaliased expression by its SQL text', () => {
    expect(one('SELECT abs(-1), 1 + 1, \'lit\' FROM "t"')).toEqual({ 'abs(-1)': 1, '1 + 1': 2, lit: 'lit' });
  });
});

describe('FOREACH', () => {
  const SENSORS = { payload: JSON.stringify({ sensors: [{ idx: 0, name: 't0' }, { idx: 1, name: 't1' }, { idx: 2, name: 't2' }] }), clientid: 'c1', timestamp: 1000 };

  it('runs EMQX’s documented example: one output per element that passes INCASE', () => {
    const sql = 'FOREACH payload.sensors as sensor DO timestamp, clientid, upper(sensor.name) as name, sensor.idx as idx INCASE sensor.idx >= 1 FROM "t/#"';
    expect(run(sql, SENSORS)).toEqual([
      { timestamp: 1000, clientid: 'c1', name: 'T1', idx: 1 },
      { timestamp: 1000, clientid: 'c1', name: 'T2', idx: 2 },
    ]);
  });

  it('names the element item by default and outputs the columns with it without DO', () => {
    const out = run('FOREACH payload.sensors FROM "t"', SENSORS) as ValueMap[];
    expect(out).toHaveLength(3);
    expect(out[1]).toMatchObject({ clientid: 'c1', item: { idx: 1, name: 't1' } });
  });

  it('has no result when WHERE is false, the collection is empty or not an array', () => {
    expect(run('FOREACH payload.sensors FROM "t" WHERE clientid = \'other\'', SENSORS)).toBe('no result');
    expect(run('FOREACH payload.none FROM "t"', SENSORS)).toBe('no result');
    expect(run('FOREACH payload.sensors INCASE item.idx > 5 FROM "t"', SENSORS)).toBe('no result');
  });

  it('lets WHERE see the FOREACH fields', () => {
    expect(run('FOREACH payload.sensors as s DO s.idx FROM "t" WHERE length(s) = 3', SENSORS)).toHaveLength(3);
  });

  it('iterates over a range literal', () => {
    expect(run('FOREACH [1..3] as n DO n * n as sq FROM "t"')).toEqual([{ sq: 1 }, { sq: 4 }, { sq: 9 }]);
  });
});
