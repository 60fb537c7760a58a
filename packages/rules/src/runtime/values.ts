/**
 * The values rule SQL computes with, and EMQX's conversions between them.
 *
 * - `undefined` is "no value" (a missing field, SQL `null`, EMQX's `undefined`);
 * - `null` is JSON's null (EMQX's `null` atom), which is a value;
 * - numbers are JavaScript numbers: integers are those with no fraction, so `1.0` is an
 *   integer here (Erlang keeps 1.0 a float), and integers beyond 2^53 lose precision;
 * - strings are text; `Buffer`s are bytes that are not UTF-8 text (payloads, `gzip()` output);
 * - arrays and plain objects are EMQX's lists and maps.
 */
import { isUtf8 } from 'node:buffer';

export type Value = undefined | null | boolean | number | string | Buffer | Value[] | { [key: string]: Value };
export type ValueMap = { [key: string]: Value };

/** An evaluation error: counted as `failed.exception` for the rule. */
export class RuleEvalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuleEvalError';
  }
}

export function isMap(v: Value): v is ValueMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

export function isText(v: Value): v is string | Buffer {
  return typeof v === 'string' || Buffer.isBuffer(v);
}

export function isInt(v: Value): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Text of a string or bytes (UTF-8); undefined for anything else. */
export function textOf(v: Value): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}

/** Bytes of a string (UTF-8) or bytes; undefined for anything else. */
export function bytesOf(v: Value): Buffer | undefined {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (Buffer.isBuffer(v)) return v;
  return undefined;
}

/** Bytes as a value: text when they are valid UTF-8, else the bytes themselves. */
export function fromBytes(b: Buffer): string | Buffer {
  return isUtf8(b) ? b.toString('utf8') : b;
}

/** Short type name for error messages. */
export function typeName(v: Value): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Buffer.isBuffer(v)) return 'binary';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  return typeof v;
}

/** EMQX's float formatting: at most 10 decimals, trailing zeros dropped, at least one decimal. */
export function floatToString(f: number): string {
  if (!Number.isFinite(f)) throw new RuleEvalError(`cannot convert ${f} to a string`);
  if (Math.abs(f) >= 1e21) return f.toExponential();
  let s = f.toFixed(10).replace(/0+$/, '');
  if (s.endsWith('.')) s += '0';
  return s === '-0.0' ? '0.0' : s;
}

export function numberToString(n: number): string {
  return Number.isInteger(n) ? String(n) : floatToString(n);
}

/**
 * EMQX's `str()` / implicit string conversion: text as is, numbers in their shortest form,
 * booleans and null by name, `undefined` as "undefined", maps and arrays as JSON.
 */
export function toStr(v: Value): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number') return numberToString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  return jsonEncode(v);
}

/** JSON text of a value: bytes as their UTF-8 text, undefined as null. */
export function jsonEncode(v: Value): string {
  return JSON.stringify(toJson(v));
}

/** A value as plain JSON data (bytes become text, undefined becomes null). */
export function toJson(v: Value): unknown {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toJson(x);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new RuleEvalError(`cannot encode ${v} as JSON`);
  return v;
}

/** Parse JSON into values; throws `RuleEvalError`. */
export function jsonDecode(text: string | Buffer): Value {
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8')) as Value;
  } catch (err) {
    throw new RuleEvalError(`invalid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Erlang's `==`: structural, numbers by value, text by content. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (isText(a) && isText(b)) return textOf(a) === textOf(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && valuesEqual(a[k], b[k]));
  }
  return false;
}

/** Erlang's term order: number < atom (booleans, null, undefined) < map < list < binary. */
function rank(v: Value): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'boolean' || v === null || v === undefined) return 1;
  if (Array.isArray(v)) return 3;
  if (isText(v)) return 4;
  return 2;
}

const atomText = (v: Value) => (v === undefined ? 'undefined' : String(v));

/** Erlang's term comparison: negative, zero or positive. */
export function compareValues(a: Value, b: Value): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) - (b as number);
    case 1: {
      const x = atomText(a);
      const y = atomText(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 4:
      return Buffer.compare(bytesOf(a)!, bytesOf(b)!);
    case 3: {
      const x = a as Value[];
      const y = b as Value[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    default: {
      const x = a as ValueMap;
      const y = b as ValueMap;
      const kx = Object.keys(x).sort();
      const ky = Object.keys(y).sort();
      if (kx.length !== ky.length) return kx.length - ky.length;
      for (let i = 0; i < kx.length; i++) if (kx[i] !== ky[i]) return kx[i]! < ky[i]! ? -1 : 1;
      for (const k of kx) {
        const c = compareValues(x[k], y[k]);
        if (c !== 0) return c;
      }
      return 0;
    }
  }
}
