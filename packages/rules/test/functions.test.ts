import { describe, expect, it } from 'vitest';
import { builtinFunctions, compileSql, Evaluation, parseExpr, RuleEvalError, type Value, type ValueMap } from '../src/index.js';

const NOW = 1_650_874_276_123;
const kv = new Map<string, Value>();

/** Evaluate one expression (its functions checked as a rule would be) over some columns. */
function ev(text: string, cols: ValueMap = {}): Value {
  compileSql(`SELECT ${text} FROM "t"`, builtinFunctions);
  return new Evaluation({ functions: builtinFunctions, now: () => NOW, kv }).eval(parseExpr(text), cols);
}

/** [expression, expected]: EMQX's documented examples first in each family. */
type Row = [string, Value];

const MATH: Row[] = [
  ['abs(-12)', 12],
  ['abs(-1.2)', 1.2],
  ['ceil(1.34)', 2],
  ['ceil(0.8)', 1],
  ['floor(1.34)', 1],
  ['round(1.34)', 1],
  ['round(1.54)', 2],
  ['round(-2.5)', -3],
  ['power(2, 10)', 1024],
  ['sqrt(2)', 1.4142135623730951],
  ['fmod(-32, 5)', -2],
  ['log10(1000)', 3],
  ['log2(1024)', 10],
  ['exp(10)', 22026.465794806718],
];

const MATH_CLOSE: [string, number][] = [
  ['cos(1.5)', 0.0707372016677029],
  ['cosh(1.5)', 2.352409615243247],
  ['acos(0.0707372016677029)', 1.5],
  ['acosh(2.352409615243247)', 1.5],
  ['sin(0.5)', 0.479425538604203],
  ['sinh(0.5)', 0.5210953054937474],
  ['asin(0.479425538604203)', 0.5],
  ['asinh(0.5210953054937474)', 0.5],
  ['tan(1.4)', 5.797883715482887],
  ['tanh(1.4)', 0.8853516482022625],
  ['atan(5.797883715482887)', 1.4],
  ['atanh(0.8853516482022625)', 1.4],
  ['log(2.718281828459045)', 1],
];

const TYPES: Row[] = [
  ['is_null(undefined_field)', true],
  ['is_null(null)', true],
  ['is_null_var(payload_null)', true],
  ['is_not_null(1)', true],
  ['is_str(1)', false],
  ["is_str('val')", true],
  ['is_bool(true)', true],
  ['is_int(1)', true],
  ['is_float(1)', false],
  ['is_float(1.234)', true],
  ['is_num(2.3)', true],
  ["is_num('val')", false],
  ["is_map(json_decode('{\"a\": 1}'))", true],
  ['is_array([1, 2])', true],
];

const CONVERSIONS: Row[] = [
  ['str(1234)', '1234'],
  ['str_utf8(1234)', '1234'],
  ['str(3.14)', '3.14'],
  ['str(0.1 + 0.2)', '0.3'],
  ['str(true)', 'true'],
  ["str(json_decode('{\"a\":[1,2]}'))", '{"a":[1,2]}'],
  ["bool('true')", true],
  ['bool(0)', false],
  ["int('1234')", 1234],
  ["int('3.9')", 3],
  ['int(-1.5)', -2],
  ['int(true)', 1],
  ["float('3.14')", 3.14],
  ["float('3')", 3],
  ['float(3.14159, 2)', 3.14],
  ['float2str(20.2, 10)', '20.2'],
  ['float2str(1.0, 3)', '1.0'],
  ["map('{\"a\": 1}')", { a: 1 }],
  ["bin2hexstr(hexstr2bin('ABEF12'))", 'ABEF12'],
  ["bin2hexstr('hello')", '68656C6C6F'],
  ["hexstr2bin('68656c6c6f')", 'hello'],
  ['int2hexstr(255)', 'FF'],
];

const STRINGS: Row[] = [
  ["lower('AbC')", 'abc'],
  ["lower('abc')", 'abc'],
  ["upper('AbC')", 'ABC'],
  ["upper('ABC')", 'ABC'],
  ["trim(' hello  ')", 'hello'],
  ["ltrim(' hello  ')", 'hello  '],
  ["rtrim(' hello  ')", ' hello'],
  ["trim('xxhixx', 'x')", 'hi'],
  ["reverse('hello')", 'olleh'],
  ["strlen('hello')", 5],
  ["strlen('héllo')", 5],
  ["substr('abcdef', 2)", 'cdef'],
  ["substr('abcdef', 2, 3)", 'cde'],
  ["substr('abc', 5)", ''],
  ["split('a/b/ c', '/')", ['a', 'b', ' c']],
  ["split('/a//b/', '/')", ['a', 'b']],
  ["split('/a//b/', '/', 'notrim')", ['', 'a', '', 'b', '']],
  ["split('a/b/ c', '/', 'leading')", ['a', 'b/ c']],
  ["split('a/b/ c', '/', 'trailing')", ['a/b', ' c']],
  ["split('/a/b', '/', 'leading_notrim')", ['', 'a/b']],
  ["tokens('a b;c', ' ;')", ['a', 'b', 'c']],
  ["tokens('a\\nb c', ' ', 'nocrlf')", ['a\\nb', 'c']],
  ["concat('a', 'b')", 'ab'],
  ["concat('a', 1)", 'a1'],
  ["concat(['a', 'b', 3])", 'ab3'],
  ["sprintf('~s is ~p', 'x', 1)", 'x is 1'],
  ["sprintf('~p', 'abc')", '<<"abc">>'],
  ["sprintf('~.2f|~5s|~-5s|~~|~b', 3.14159, 'ab', 'ab', 255)", '3.14|   ab|ab   |~|255'],
  ["sprintf_s('~s-~s', ['a', 'b'])", 'a-b'],
  ["pad('abc', 5)", 'abc  '],
  ["pad('abc', 5, 'leading')", '  abc'],
  ["pad('abc', 6, 'both', '*')", '*abc**'],
  ["pad('abc', 2)", 'abc'],
  ["replace('ababa', 'a', 'c')", 'cbcbc'],
  ["replace('ababa', 'a', 'c', 'leading')", 'cbaba'],
  ["replace('ababa', 'a', 'c', 'trailing')", 'ababc'],
  ["regex_match('abc123', '[0-9]+')", true],
  ["regex_match('abc', '^[0-9]+$')", false],
  ["regex_replace('ab1cd3', '[0-9]', '-')", 'ab-cd-'],
  ["regex_replace('hello world', '(\\w+) (\\w+)', '\\2 \\1')", 'world hello'],
  ["regex_replace('abc', 'b', '[&]')", 'a[b]c'],
  ["regex_extract('Number: 12345', '(\\d+)')", ['12345']],
  ["regex_extract('Date: 2021-05-20', '(\\d{4})-(\\d{2})-(\\d{2})')", ['2021', '05', '20']],
  ["regex_extract('No numbers here!', '(\\d+)')", []],
  ["ascii('a')", 97],
  ["find('hello world', 'o')", 'o world'],
  ["find('hello world', 'o', 'trailing')", 'orld'],
  ["find('hello', 'z')", ''],
  ["join_to_string(['a', 1, true])", 'a, 1, true'],
  ["join_to_string('-', ['a', 'b'])", 'a-b'],
  ["unescape('a\\nb\\tc\\x41')", 'a\nb\tcA'],
  ["rm_prefix('foo/bar', 'foo/')", 'bar'],
  ["is_empty('')", true],
];

const MAPS_ARRAYS: Row[] = [
  ["map_get('a', json_decode('{ \"a\" : 1 }'))", 1],
  ["map_get('b', json_decode('{ \"a\" : 1 }'), 2)", 2],
  ["map_get('a', map_put('a', 2, json_decode('{ \"a\" : 1 }')))", 2],
  ["map_get('a.b', json_decode('{\"a\": {\"b\": 3}}'))", 3],
  ["map_put('a.b', 1, map_new())", { a: { b: 1 } }],
  ["mget('a', '{\"a\": 1}')", 1],
  ["mget('x', '{\"a\": 1}', 'none')", 'none'],
  ["mput('b', 2, json_decode('{\"a\": 1}'))", { a: 1, b: 2 }],
  ["map_keys(json_decode('{\"a\": 1, \"b\": 2}'))", ['a', 'b']],
  ["map_values(json_decode('{\"a\": 1, \"b\": 2}'))", [1, 2]],
  ["map_to_entries(json_decode('{\"a\": 1}'))", [{ key: 'a', value: 1 }]],
  ['nth(2, [1, 2, 3, 4])', 2],
  ['length([1, 2, 3, 4])', 4],
  ['sublist(3, [1, 2, 3, 4])', [1, 2, 3]],
  ['sublist(1, 2, [1, 2, 3, 4])', [1, 2]],
  ['sublist(3, 9, [1, 2, 3, 4])', [3, 4]],
  ['first([1, 2, 3, 4])', 1],
  ['last([1, 2, 3, 4])', 4],
  ['contains(2, [1, 2, 3, 4])', true],
  ["contains('x', [1, 2])", false],
];

const HASH_CODEC: Row[] = [
  ["md5('some val')", '1b68352b3e9c2de52ffd322e30bffcc4'],
  ["sha('some val')", 'f85ba28ff5ea84a0cbfa118319acb0c5e58ee2b9'],
  ["sha256('some val')", '67f97635d8a0e064f60ba6e8846a0ac0be664f18f0c1dc6445cd3542d2b71993'],
  ["hash('sha256', 'some val')", '67f97635d8a0e064f60ba6e8846a0ac0be664f18f0c1dc6445cd3542d2b71993'],
  ["base64_encode('some val')", 'c29tZSB2YWw='],
  ["base64_decode('c29tZSB2YWw=')", 'some val'],
  ["json_encode(json_decode( '{ \"a\" : 1 }' ))", '{"a":1}'],
  ["bin2hexstr(zip('hello world'))", 'CB48CDC9C95728CF2FCA490100'],
  ["unzip(hexstr2bin('CB48CDC9C95728CF2FCA490100'))", 'hello world'],
  ["bin2hexstr(zip_compress('hello world'))", '789CCB48CDC9C95728CF2FCA4901001A0B045D'],
  ["zip_uncompress(hexstr2bin('789CCB48CDC9C95728CF2FCA4901001A0B045D'))", 'hello world'],
  ["gunzip(hexstr2bin('1F8B0800000000000003CB48CDC9C95728CF2FCA49010085114A0D0B000000'))", 'hello world'],
  ["gunzip(gzip('hello world'))", 'hello world'],
];

const BITS: Row[] = [
  ["subbits('abc', 8)", 97],
  ["subbits('abc', 9, 8)", 98],
  ["subbits('abc', 17, 8)", 99],
  ["subbits('abc', 9, 16, 'integer', 'signed', 'big')", 25187],
  ["subbits('abc', 9, 16, 'integer', 'signed', 'little')", 25442],
  ["subbits(hexstr2bin('FF'), 1, 8, 'integer', 'signed')", -1],
  ["subbits(hexstr2bin('3FC00000'), 1, 32, 'float')", 1.5],
  ["subbits('abc', 30, 8)", undefined],
  ["subbits('abc', 17, 16)", 99],
  ['bitand(12, 10)', 8],
  ['bitor(12, 10)', 14],
  ['bitxor(12, 10)', 6],
  ['bitnot(0)', -1],
  ['bitsl(1, 40)', 1099511627776],
  ['bitsr(-16, 2)', -4],
  ["bitsize('abc')", 24],
  ["bytesize('héllo')", 6],
];

const TIME: Row[] = [
  ['now_timestamp()', 1_650_874_276],
  ["now_timestamp('millisecond')", NOW],
  ["rfc3339_to_unix_ts('2022-04-25T16:11:16+08:00')", 1_650_874_276],
  ["rfc3339_to_unix_ts('2022-04-25T16:11:58.331+08:00', 'millisecond')", 1_650_874_318_331],
  ["format_date('second', '+0800', '%Y-%m-%d %H:%M:%S%:z', 1653561612)", '2022-05-26 18:40:12+08:00'],
  ["format_date('second', 0, '%Y-%m-%d %H:%M:%S%:z', 1653561612)", '2022-05-26 10:40:12+00:00'],
  ["format_date('millisecond', 'Z', '%Y-%m-%dT%H:%M:%S.%3N%z', 1653561612345)", '2022-05-26T10:40:12.345+0000'],
  ["format_date('second', '-03:30', '%H:%M %::z', 1653561612)", '07:10 -03:30:00'],
  ["date_to_unix_ts('second', '%Y-%m-%d %H:%M:%S%:z', '2022-05-26 18:40:12+08:00')", 1_653_561_612],
  ["date_to_unix_ts('second', '%Y-%m-%d %H-%M-%S', '2022-05-26 10:40:12')", 1_653_561_612],
  ["date_to_unix_ts('second', '+08:00', '%Y-%m-%d %H-%M-%S', '2022-05-26 18:40:12')", 1_653_561_612],
  ["date_to_unix_ts('millisecond', '%Y-%m-%d %H:%M:%S.%3N', '2022-05-26 10:40:12.250')", 1_653_561_612_250],
  ["timezone_to_second('+08:00')", 28800],
  ["timezone_to_offset_seconds('-0130')", -5400],
  ["timezone_to_second('Z')", 0],
];

const MESSAGE_COLS: ValueMap = { topic: 'sensors/room1/temp', clientid: 'c1', username: 'u1', qos: 1, id: 'ID', peerhost: '10.0.0.1', flags: { retain: true }, payload: '{"a": {"b": 7}}' };
const MESSAGE: Row[] = [
  ['topic()', 'sensors/room1/temp'],
  ['topic(2)', 'room1'],
  ['clientid()', 'c1'],
  ['username()', 'u1'],
  ['qos()', 1],
  ['msgid()', 'ID'],
  ['peerhost()', '10.0.0.1'],
  ['clientip()', '10.0.0.1'],
  ["flag('retain')", true],
  ["payload('a.b')", 7],
  ['payload()', '{"a": {"b": 7}}'],
  ["contains_topic(json_decode('[{\"topic\": \"t/1\", \"qos\": 1}]'), 't/1')", true],
  ["contains_topic(json_decode('[{\"topic\": \"t/1\", \"qos\": 1}]'), 't/1', 2)", false],
  ["contains_topic_match(json_decode('[{\"topic\": \"t/#\", \"qos\": 1}]'), 't/1/2', 1)", true],
  ['is_null(null())', true],
];

const CONDITIONALS: Row[] = [
  ["coalesce(missing, null, 'a', 'b')", 'a'],
  ["coalesce([missing, 2])", 2],
  ['coalesce(missing)', undefined],
  ["coalesce_ne('', missing, 'x')", 'x'],
  ["iif(true, 'y', 'n')", 'y'],
  ["iif('', 'y', 'n')", 'n'],
  ["iif(1 > 2, 'y', 'n')", 'n'],
];

/** Calls that fail (the rule counts failed.exception). */
const FAILING: [string, RegExp][] = [
  ["abs('x')", /abs\(\): expected a number, got string "x"/],
  ["int('abc')", /int\(\): expected a number, a numeric string or a boolean/],
  ["bool('yes')", /bool\(\)/],
  ["nth(5, [1])", /index 5 is outside 1..1/],
  ['first([])', /empty array/],
  ['sqrt(-1)', /not a finite number/],
  ['log(0)', /not a finite number/],
  ["json_decode('{bad')", /invalid JSON/],
  ["base64_decode('***')", /valid base64/],
  ["regex_match('a', '(')", /invalid regular expression/],
  ["sprintf('~s ~s', 'a')", /needs more than 1 argument/],
  ["substr('abc', -1)", /non-negative start/],
  ["hash('nope', 'x')", /unsupported hash type/],
  ["format_date('year', 'Z', '%Y')", /a time unit/],
  ["date_to_unix_ts('second', '%Y', 'abcd')", /does not match the format/],
  ["unescape('\\q')", /unrecognized escape/],
  ['topic(9)', /outside 1..1/],
];

describe('built-in functions', () => {
  describe.each([
    ['math', MATH],
    ['type tests', TYPES],
    ['conversions', CONVERSIONS],
    ['strings', STRINGS],
    ['maps and arrays', MAPS_ARRAYS],
    ['hashes, compression and encodings', HASH_CODEC],
    ['bits', BITS],
    ['date and time', TIME],
    ['conditionals', CONDITIONALS],
  ] as [string, Row[]][])('%s', (_family, rows) => {
    it.each(rows)('%s = %j', (text, expected) => {
      expect(ev(text, { payload_null: null })).toEqual(expected);
    });
  });

  describe('message helpers', () => {
    it.each(MESSAGE)('%s = %j', (text, expected) => {
      expect(ev(text, MESSAGE_COLS)).toEqual(expected);
    });
  });

  it.each(MATH_CLOSE)('%s is close to %d', (text, expected) => {
    expect(ev(text) as number).toBeCloseTo(expected, 12);
  });

  it.each(FAILING)('%s fails: %s', (text, message) => {
    expect(() => ev(text, { topic: 't' })).toThrow(RuleEvalError);
    expect(() => ev(text, { topic: 't' })).toThrow(message);
  });

  it('formats RFC 3339 in the local offset and reads it back', () => {
    const text = ev('now_rfc3339()') as string;
    expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(ev(`rfc3339_to_unix_ts('${text}')`)).toBe(1_650_874_276);
    const ms = ev("unix_ts_to_rfc3339(1650874318331, 'millisecond')") as string;
    expect(ms).toMatch(/\.331[+-]\d{2}:\d{2}$/);
    expect(ev(`rfc3339_to_unix_ts('${ms}', 'millisecond')`)).toBe(1_650_874_318_331);
    expect(ev("now_rfc3339('millisecond')")).toMatch(/\.123[+-]/);
  });

  it('gives random values of the documented shape', () => {
    expect(ev('uuid_v4()')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ev('uuid_v4_no_hyphen()')).toMatch(/^[0-9a-f]{32}$/);
    expect(ev('rand_str(12)')).toMatch(/^[A-Za-z0-9]{12}$/);
    const r = ev('random()') as number;
    expect(r).toBeGreaterThanOrEqual(0);
    expect(r).toBeLessThan(1);
  });

  it('gzips with the gzip header and the deflate stream EMQX produces', () => {
    expect(ev("bin2hexstr(gzip('hello world'))")).toMatch(/^1F8B08000000000000(03|00|FF)CB48CDC9C95728CF2FCA49010085114A0D0B000000$/);
  });

  it('keeps values in a store shared by all rules', () => {
    expect(ev("kv_store_put('k', 42)")).toBe(true);
    expect(ev("kv_store_get('k')")).toBe(42);
    expect(ev("kv_store_del('k')")).toBe(true);
    expect(ev("kv_store_get('k', 'gone')")).toBe('gone');
  });

  it('has a summary and a signature for every function, and EMQX names', () => {
    const names = builtinFunctions.list().map((f) => f.name);
    expect(names.length).toBeGreaterThan(130);
    for (const f of builtinFunctions.list()) {
      expect(f.summary.length).toBeGreaterThan(3);
      expect(f.signature.startsWith(f.name)).toBe(true);
    }
    for (const n of ['abs', 'str', 'lower', 'split', 'sprintf', 'regex_replace', 'map_get', 'nth', 'md5', 'base64_encode', 'json_decode', 'now_timestamp', 'format_date', 'subbits', 'coalesce', 'is_null', 'topic', 'uuid_v4']) {
      expect(names).toContain(n);
    }
  });
});
