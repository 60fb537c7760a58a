/** Type tests (is_*) and conversions (str, int, float, bool, map, hex). */
import { RuleEvalError, bytesOf, fromBytes, isInt, isMap, isText, jsonDecode, textOf, toStr, type Value, type ValueMap } from '../runtime/values.js';
import { badarg, def, int, num, type FunctionDef } from './registry.js';

const INT_TEXT = /^[+-]?\d+$/;
/** Erlang's binary_to_float: digits, a dot, digits, an optional exponent. */
const FLOAT_TEXT = /^[+-]?\d+\.\d+(?:[eE][+-]?\d+)?$/;

/** Text to a number the way EMQX compares and converts: integer syntax, else float syntax. */
export function parseNumber(t: string): number | undefined {
  if (INT_TEXT.test(t)) return Number(t);
  if (FLOAT_TEXT.test(t)) return Number(t);
  return undefined;
}

export function toInt(v: Value): number {
  if (typeof v === 'number') return Math.floor(v);
  if (v === true) return 1;
  if (v === false) return 0;
  const t = textOf(v);
  const n = t === undefined ? undefined : parseNumber(t.trim());
  if (n === undefined) return badarg('int', v, 'a number, a numeric string or a boolean');
  return Math.floor(n);
}

export function toFloat(v: Value): number {
  if (typeof v === 'number') return v;
  const t = textOf(v);
  const n = t === undefined ? undefined : parseNumber(t.trim());
  if (n === undefined) return badarg('float', v, 'a number or a numeric string');
  return n;
}

export function toBool(v: Value): boolean {
  if (v === true || v === 'true' || v === 1) return true;
  if (v === false || v === 'false' || v === 0) return false;
  return badarg('bool', v, "true, false, 'true', 'false', 1 or 0");
}

/** Float formatting with a number of decimals, trailing zeros dropped (Erlang `compact`). */
export function floatWithDecimals(f: number, decimals: number): string {
  let s = f.toFixed(Math.min(100, Math.max(0, decimals)));
  if (s.includes('.')) s = s.replace(/0+$/, '');
  if (s.endsWith('.')) s += '0';
  if (!s.includes('.')) s += '.0';
  return s;
}

export function toHex(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

export function fromHex(fn: string, v: Value): Buffer {
  let t = textOf(v);
  if (t === undefined || !/^[0-9a-fA-F]*$/.test(t)) return badarg(fn, v, 'a hex string');
  if (t.length % 2 === 1) t = `0${t}`;
  return Buffer.from(t, 'hex');
}

function toMap(v: Value): ValueMap {
  if (isMap(v)) return v;
  if (isText(v)) {
    const d = jsonDecode(v);
    if (isMap(d)) return d;
  }
  if (Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && isText(p[0]))) {
    return Object.fromEntries(v.map((p) => [textOf((p as Value[])[0])!, (p as Value[])[1]]));
  }
  return badarg('map', v, 'a map, a JSON object string or a list of [key, value] pairs');
}

export { toMap };

export const typeFunctions: FunctionDef[] = [
  def('is_null', 'type', 1, 'is_null(x)', 'True when x has no value (undefined).', ([x]) => x === undefined),
  def('is_null_var', 'type', 1, 'is_null_var(x)', 'True when x has no value or is JSON null.', ([x]) => x === undefined || x === null),
  def('is_not_null', 'type', 1, 'is_not_null(x)', 'True when x has a value.', ([x]) => x !== undefined),
  def('is_not_null_var', 'type', 1, 'is_not_null_var(x)', 'True when x has a value other than JSON null.', ([x]) => x !== undefined && x !== null),
  def('is_str', 'type', 1, 'is_str(x)', 'True for a string (or binary).', ([x]) => isText(x)),
  def('is_bool', 'type', 1, 'is_bool(x)', 'True for true or false.', ([x]) => typeof x === 'boolean'),
  def('is_int', 'type', 1, 'is_int(x)', 'True for an integer.', ([x]) => isInt(x)),
  def('is_float', 'type', 1, 'is_float(x)', 'True for a number with a fraction (1.0 counts as an integer in Junction).', ([x]) => typeof x === 'number' && !Number.isInteger(x)),
  def('is_num', 'type', 1, 'is_num(x)', 'True for a number.', ([x]) => typeof x === 'number'),
  def('is_map', 'type', 1, 'is_map(x)', 'True for a map (JSON object).', ([x]) => isMap(x)),
  def('is_array', 'type', 1, 'is_array(x)', 'True for an array.', ([x]) => Array.isArray(x)),
];

export const conversionFunctions: FunctionDef[] = [
  def('str', 'conversion', 1, 'str(x)', 'x as a string; maps and arrays as JSON, floats with up to 10 decimals.', ([x]) => toStr(x)),
  def('str_utf8', 'conversion', 1, 'str_utf8(x)', 'Like str(x), as UTF-8.', ([x]) => toStr(x)),
  def('bool', 'conversion', 1, 'bool(x)', "true/'true'/1 to true, false/'false'/0 to false; anything else fails.", ([x]) => toBool(x)),
  def('int', 'conversion', 1, 'int(x)', 'x as an integer; floats are floored, booleans are 1 and 0.', ([x]) => toInt(x)),
  def('float', 'conversion', [1, 2], 'float(x[, decimals])', 'x as a float, optionally rounded to a number of decimals.', ([x, d]) => {
    const f = toFloat(x);
    if (d === undefined) return f;
    const n = int('float', d);
    if (n <= 0) return badarg('float', d, 'a positive number of decimals');
    return Number(f.toFixed(Math.min(n, 100)));
  }),
  def('float2str', 'conversion', 2, 'float2str(x, precision)', 'A float as a string with at most `precision` decimals.', ([x, p]) => floatWithDecimals(num('float2str', x), int('float2str', p))),
  def('map', 'conversion', 1, 'map(x)', 'A JSON object string (or [key, value] pairs) as a map.', ([x]) => toMap(x)),
  def('bin2hexstr', 'conversion', 1, 'bin2hexstr(bin)', 'Bytes as an upper-case hex string.', ([x]) => toHex(bytesOf(x) ?? badarg('bin2hexstr', x, 'a binary'))),
  def('hexstr2bin', 'conversion', 1, 'hexstr2bin(hex)', 'A hex string as bytes.', ([x]) => fromBytes(fromHex('hexstr2bin', x))),
  def('int2hexstr', 'conversion', 1, 'int2hexstr(n)', 'A non-negative integer as an upper-case hex string.', ([x]) => {
    const n = int('int2hexstr', x);
    if (n < 0) throw new RuleEvalError('int2hexstr(): expected a non-negative integer');
    return n.toString(16).toUpperCase();
  }),
];
