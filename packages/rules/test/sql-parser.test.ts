import { describe, expect, it } from 'vitest';
import { builtinFunctions, compileSql, parseExpr, parseSql, printExpr, printStatement, RuleSqlError, tokenize } from '../src/index.js';
import { strip } from './helpers.js';

/** Valid SQL and its canonical pretty-printed form. */
const VALID: [string, string][] = [
  ['SELECT * FROM "t/#"', 'SELECT * FROM "t/#"'],
  ['select clientid, payload.x as x from "t/a", "t/b"', 'SELECT clientid, payload.x as x FROM "t/a", "t/b"'],
  ['SELECT payload.temp as t, clientid FROM "sensors/#" WHERE payload.temp > 30', 'SELECT payload.temp as t, clientid FROM "sensors/#" WHERE payload.temp > 30'],
  ["SELECT * FROM \"#\" WHERE username = 'eric' and qos >= 1 or not retain", "SELECT * FROM \"#\" WHERE username = 'eric' and qos >= 1 or not retain"],
  ['SELECT payload.a.b.c.deep as my_field FROM "t/#"', 'SELECT payload.a.b.c.deep as my_field FROM "t/#"'],
  ["SELECT pub_props.'User-Property'.foo as foo FROM \"t/#\"", "SELECT pub_props.'User-Property'.foo as foo FROM \"t/#\""],
  ['SELECT payload.list[1] as first, payload.list[-1] as last, payload.list[2..3] as mid FROM "t"', 'SELECT payload.list[1] as first, payload.list[-1] as last, payload.list[2..3] as mid FROM "t"'],
  ['SELECT payload.list[payload.i] FROM "t"', 'SELECT payload.list[payload.i] FROM "t"'],
  ['SELECT (payload.integer_field + 2) * 2 as num FROM "t/#"', 'SELECT (payload.integer_field + 2) * 2 as num FROM "t/#"'],
  ["SELECT (upper(clientid) + '_UPPERCASE_LETTERS') as cid FROM \"t/#\"", "SELECT upper(clientid) + '_UPPERCASE_LETTERS' as cid FROM \"t/#\""],
  ['SELECT 7 div 2 as d, 7 mod 2 as m, mod(7, 2) as f, -x as n, 1.5e3 as e FROM "t"', 'SELECT 7 div 2 as d, 7 mod 2 as m, mod(7, 2) as f, -x as n, 1500 as e FROM "t"'],
  ['SELECT CASE WHEN payload.x < 0 THEN 0 WHEN payload.x > 7 THEN 7 ELSE payload.x END as x FROM "t/#"', 'SELECT case when payload.x < 0 then 0 when payload.x > 7 then 7 else payload.x end as x FROM "t/#"'],
  ["SELECT CASE qos WHEN 0 THEN 'zero' WHEN 1 THEN 'one' END as q FROM \"t\"", "SELECT case qos when 0 then 'zero' when 1 then 'one' end as q FROM \"t\""],
  ['SELECT [1, 2, payload.x] as l, [1..3] as r, true as b, null as n FROM "t"', 'SELECT [1, 2, payload.x] as l, [1..3] as r, true as b, null as n FROM "t"'],
  ["SELECT clientid FROM \"$events/session_subscribed\" WHERE topic =~ 't/#' and qos = 1", "SELECT clientid FROM \"$events/session_subscribed\" WHERE topic =~ 't/#' and qos = 1"],
  ["SELECT * FROM \"t\" WHERE qos in (1, 2) and clientid not in ('a', 'b')", "SELECT * FROM \"t\" WHERE qos in (1, 2) and clientid not in ('a', 'b')"],
  ['SELECT 1 as a.b.c FROM "t"', 'SELECT 1 as a.b.c FROM "t"'],
  ['SELECT x <> 1, x != 2 FROM "t"', 'SELECT x <> 1, x != 2 FROM "t"'],
  [
    'FOREACH payload.sensors as sensor DO timestamp, clientid, upper(sensor.name) as name, sensor.idx as idx INCASE sensor.idx >= 1 FROM "t/#"',
    'FOREACH payload.sensors as sensor DO timestamp, clientid, upper(sensor.name) as name, sensor.idx as idx INCASE sensor.idx >= 1 FROM "t/#"',
  ],
  ['FOREACH payload.a FROM "t" WHERE qos = 1', 'FOREACH payload.a FROM "t" WHERE qos = 1'],
  ["SELECT 'it\\'s', \"double\" FROM \"t\"", "SELECT 'it\\'s', 'double' FROM \"t\""],
  ['-- a comment\nSELECT /* inline */ a FROM "t"', 'SELECT a FROM "t"'],
];

/** Invalid SQL: the message (a substring) and where it points. */
const INVALID: [string, string, number, number][] = [
  ['', 'expected SELECT or FOREACH, found end of input', 1, 1],
  ['SELECT FROM "t"', 'expected an expression, found FROM', 1, 8],
  ['SELECT a "t"', 'expected FROM, found string', 1, 10],
  ['SELECT a FROM t', 'expected a quoted topic filter or event, found identifier t', 1, 15],
  ['SELECT a FROM "t" WHERE', 'expected an expression, found end of input', 1, 24],
  ['SELECT a FROM "t" WHERE x = ', 'expected an expression', 1, 29],
  ["SELECT 'abc FROM \"t\"", 'unterminated string', 1, 8],
  ['SELECT a,\n  b +\n  FROM "t"', 'expected an expression, found FROM', 3, 3],
  ['SELECT a FROM "t"\nWHERE x = 1 y', 'expected end of input, found identifier y', 2, 13],
  ['SELECT a FROM "t" WHERE a = 1 = 2', 'expected end of input, found "="', 1, 31],
  ['SELECT f(1, FROM "t"', 'expected an expression, found FROM', 1, 13],
  ['SELECT a FROM "t" WHERE a ; b', 'unexpected character ";"', 1, 27],
  ['SELECT CASE WHEN a THEN b FROM "t"', 'expected END, found FROM', 1, 27],
  ['SELECT CASE END FROM "t"', 'expected WHEN, found END', 1, 13],
  ['FOREACH * FROM "t"', 'expected an expression, found "*"', 1, 9],
  ['SELECT a AS FROM "t"', 'expected an alias, found FROM', 1, 13],
  ['SELECT 12abc FROM "t"', 'invalid number', 1, 8],
  ['SELECT a FROM ""', 'empty source in FROM', 1, 15],
  ['SELECT x[1..] FROM "t"', 'expected an integer, found "]"', 1, 13],
  ['SELECT a /* never closed FROM "t"', 'unterminated comment', 1, 10],
];

/** Parses, but compiling refuses: unknown functions and events, argument counts, bad filters. */
const UNCOMPILABLE: [string, string, number, number][] = [
  ['SELECT nosuch(1) FROM "t"', 'unknown function nosuch()', 1, 8],
  ['SELECT a FROM "t"\n  WHERE upper(a, b) = 1', 'upper() takes 1 argument, got 2', 2, 9],
  ['SELECT substr(a) FROM "t"', 'substr() takes 2 to 3 arguments, got 1', 1, 8],
  ['SELECT sprintf() FROM "t"', 'sprintf() takes at least 1 argument', 1, 8],
  ['SELECT * FROM "$events/no_such_event"', 'unknown event "$events/no_such_event"', 1, 15],
  ['SELECT * FROM "t/#/x"', 'invalid topic filter', 1, 15],
  ['SELECT * FROM "$bridges/nocolon"', 'a bridge source is "$bridges/<type>:<name>"', 1, 15],
  ['FOREACH payload.l DO abs() FROM "t"', 'abs() takes 1 argument, got 0', 1, 22],
];

function errorOf(fn: () => unknown): RuleSqlError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RuleSqlError);
    return err as RuleSqlError;
  }
  throw new Error('expected a RuleSqlError');
}

describe('rule SQL parser', () => {
  it.each(VALID)('parses %j', (sql, canonical) => {
    const stmt = parseSql(sql);
    expect(printStatement(stmt)).toBe(canonical);
    // The canonical form parses to the same tree.
    expect(strip(parseSql(canonical))).toEqual(strip(stmt));
  });

  it.each(INVALID)('rejects %j: %s at %i:%i', (sql, message, line, column) => {
    const err = errorOf(() => parseSql(sql));
    expect(err.reason).toContain(message);
    expect(err.pos).toMatchObject({ line, column });
    expect(err.message).toMatch(new RegExp(`^line ${line}, column ${column}: `));
    expect(err.code).toBe('config_invalid');
  });

  it.each(UNCOMPILABLE)('refuses to compile %j: %s at %i:%i', (sql, message, line, column) => {
    const err = errorOf(() => compileSql(sql, builtinFunctions));
    expect(err.reason).toContain(message);
    expect(err.pos).toMatchObject({ line, column });
  });

  it('builds the tree EMQX describes for a FOREACH statement', () => {
    const stmt = strip(parseSql('FOREACH payload.sensors as s DO s.name INCASE s.idx >= 1 FROM "t/#" WHERE qos = 1'));
    expect(stmt).toEqual({
      type: 'foreach',
      fields: [{ kind: 'expr', expr: { kind: 'path', root: 'payload', segments: [{ kind: 'key', key: 'sensors' }] }, alias: ['s'] }],
      do: [{ kind: 'expr', expr: { kind: 'path', root: 's', segments: [{ kind: 'key', key: 'name' }] } }],
      incase: { kind: 'binary', op: '>=', left: { kind: 'path', root: 's', segments: [{ kind: 'key', key: 'idx' }] }, right: { kind: 'const', value: 1 } },
      from: [{ source: 't/#' }],
      where: { kind: 'binary', op: '=', left: { kind: 'path', root: 'qos', segments: [] }, right: { kind: 'const', value: 1 } },
    });
  });

  it('gives arithmetic the usual precedence and left associativity', () => {
    expect(printExpr(parseExpr('1 + 2 * 3 - 4 - 5'))).toBe('1 + 2 * 3 - 4 - 5');
    expect(printExpr(parseExpr('1 - (2 - 3)'))).toBe('1 - (2 - 3)');
    expect(printExpr(parseExpr('(1 + 2) * 3'))).toBe('(1 + 2) * 3');
    expect(printExpr(parseExpr('a or b and c'))).toBe('a or b and c');
    expect(printExpr(parseExpr('(a or b) and c'))).toBe('(a or b) and c');
    expect(printExpr(parseExpr('not a = 1 and b'))).toBe('not a = 1 and b');
  });

  it('treats keywords case-insensitively and keeps function names lower case', () => {
    expect(strip(parseSql('sElEcT UPPER(a) As B fRoM "t"'))).toEqual(strip(parseSql('SELECT upper(a) as B FROM "t"')));
  });

  it('records line and column of every token', () => {
    const tokens = tokenize('SELECT a,\n  b FROM "t"');
    expect(tokens.map((t) => [t.pos.line, t.pos.column])).toEqual([
      [1, 1],
      [1, 8],
      [1, 9],
      [2, 3],
      [2, 5],
      [2, 10],
      [2, 13],
    ]);
  });
});
