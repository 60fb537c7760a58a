/**
 * Bitwise integer operations (bitand ... bitsr, on arbitrary-size integers as Erlang does, within
 * JavaScript's safe integer range) and bit extraction from binaries (`subbits`, offsets from 1).
 */
import { RuleEvalError, bytesOf, fromBytes, type Value } from '../runtime/values.js';
import { badarg, def, int, option, type FunctionDef } from './registry.js';

function big(fn: string, v: Value): bigint {
  return BigInt(int(fn, v));
}

function safe(fn: string, n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new RuleEvalError(`${fn}(): result ${n} is beyond 2^53`);
  return Number(n);
}

function bin(fn: string, v: Value): Buffer {
  return bytesOf(v) ?? badarg(fn, v, 'a binary');
}

/** `len` bits of `b` starting at bit `start` (0-based), big-endian, as an unsigned bigint. */
function readBits(b: Buffer, start: number, len: number): bigint {
  let n = 0n;
  for (let i = 0; i < len; i++) {
    const bit = start + i;
    n = (n << 1n) | BigInt((b[bit >> 3]! >> (7 - (bit & 7))) & 1);
  }
  return n;
}

export type BitsType = 'integer' | 'float' | 'bits';

/** EMQX's subbits: `len` bits from the 1-based bit offset `start` (fewer when the binary ends first). */
export function subbits(data: Value, start: number, len: number, type: BitsType = 'integer', signed = false, little = false): Value {
  const b = bin('subbits', data);
  const total = b.length * 8;
  const begin = start - 1;
  if (begin < 0 || begin >= total || len < 0) return undefined;
  const n = Math.min(len, total - begin);
  const raw = readBits(b, begin, n);
  if (type === 'bits') {
    if (n % 8 !== 0) throw new RuleEvalError('subbits(): bit strings that are not whole bytes are not supported');
    const out = Buffer.alloc(n / 8);
    for (let i = 0; i < out.length; i++) out[i] = Number((raw >> BigInt(n - 8 * (i + 1))) & 0xffn);
    return fromBytes(out);
  }
  let value = raw;
  if (little) {
    if (n % 8 !== 0) throw new RuleEvalError('subbits(): little-endian needs a whole number of bytes');
    let swapped = 0n;
    for (let i = 0; i < n / 8; i++) swapped = (swapped << 8n) | ((value >> BigInt(8 * i)) & 0xffn);
    value = swapped;
  }
  if (type === 'float') {
    const buf = Buffer.alloc(8);
    if (n === 32) {
      buf.writeUInt32BE(Number(value));
      return buf.readFloatBE(0);
    }
    if (n === 64) {
      buf.writeBigUInt64BE(value);
      return buf.readDoubleBE(0);
    }
    throw new RuleEvalError('subbits(): a float is 32 or 64 bits');
  }
  if (signed && n > 0 && value >> BigInt(n - 1) === 1n) value -= 1n << BigInt(n);
  return safe('subbits', value);
}

export const bitFunctions: FunctionDef[] = [
  def('bitnot', 'bits', 1, 'bitnot(n)', 'Bitwise not (-n - 1).', ([x]) => safe('bitnot', ~big('bitnot', x))),
  def('bitand', 'bits', 2, 'bitand(a, b)', 'Bitwise and.', ([x, y]) => safe('bitand', big('bitand', x) & big('bitand', y))),
  def('bitor', 'bits', 2, 'bitor(a, b)', 'Bitwise or.', ([x, y]) => safe('bitor', big('bitor', x) | big('bitor', y))),
  def('bitxor', 'bits', 2, 'bitxor(a, b)', 'Bitwise exclusive or.', ([x, y]) => safe('bitxor', big('bitxor', x) ^ big('bitxor', y))),
  def('bitsl', 'bits', 2, 'bitsl(n, shift)', 'Shift left.', ([x, s]) => safe('bitsl', big('bitsl', x) << big('bitsl', s))),
  def('bitsr', 'bits', 2, 'bitsr(n, shift)', 'Arithmetic shift right.', ([x, s]) => safe('bitsr', big('bitsr', x) >> big('bitsr', s))),
  def('bitsize', 'bits', 1, 'bitsize(bin)', 'Size in bits.', ([x]) => bin('bitsize', x).length * 8),
  def('bytesize', 'bits', 1, 'bytesize(bin)', 'Size in bytes.', ([x]) => bin('bytesize', x).length),
  def(
    'subbits',
    'bits',
    [2, 6],
    "subbits(bin, [start, ]length[, 'integer' | 'float' | 'bits'[, 'unsigned' | 'signed'[, 'big' | 'little']]])",
    'Bits from a 1-based bit offset, as an unsigned big-endian integer by default.',
    (args) => {
      if (args.length === 2) return subbits(args[0], 1, int('subbits', args[1]));
      const [data, start, len, type, sign, endian] = args;
      return subbits(
        data,
        int('subbits', start),
        int('subbits', len),
        type === undefined ? 'integer' : option<BitsType>('subbits', type, ['integer', 'float', 'bits']),
        sign === undefined ? false : option('subbits', sign, ['unsigned', 'signed']) === 'signed',
        endian === undefined ? false : option('subbits', endian, ['big', 'little']) === 'little',
      );
    },
  ),
];
