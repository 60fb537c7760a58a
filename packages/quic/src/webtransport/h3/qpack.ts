/**
 * QPACK (RFC 9204) with the static table only: the server announces a dynamic table capacity of
 * 0 (SETTINGS_QPACK_MAX_TABLE_CAPACITY absent), so a peer may never reference a dynamic entry
 * (§3.2.3); one that does gets QPACK_DECOMPRESSION_FAILED. Field sections we send use static
 * references where an exact entry exists and plain (non-Huffman) literals otherwise.
 */
import { H3, H3Error } from './errors.js';
import { huffmanDecode, huffmanEncode } from './huffman.js';
import { STATIC_TABLE } from './qpack-static.js';

export type HeaderList = [name: string, value: string][];

/** Largest field section accepted (SETTINGS_MAX_FIELD_SECTION_SIZE we announce). */
export const MAX_FIELD_SECTION_SIZE = 16 * 1024;

const fail = (message: string): never => {
  throw new H3Error(H3.QPACK_DECOMPRESSION_FAILED, message);
};

/** A prefixed integer (RFC 7541 §5.1), starting at `buf[pos]` with an N-bit prefix. */
function readPrefixInt(buf: Uint8Array, pos: number, bits: number): { value: number; pos: number } {
  if (pos >= buf.length) return fail('truncated integer');
  const max = (1 << bits) - 1;
  let value = buf[pos]! & max;
  pos++;
  if (value < max) return { value, pos };
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) return fail('truncated integer');
    const b = buf[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (shift > 35 || value > MAX_FIELD_SECTION_SIZE * 4) return fail('integer too large');
    if ((b & 0x80) === 0) return { value, pos };
  }
}

/** A string literal whose length has an N-bit prefix after the H bit (RFC 9204 §4.1.2). */
function readString(buf: Uint8Array, pos: number, bits: number): { value: string; pos: number } {
  if (pos >= buf.length) return fail('truncated string');
  const huffman = (buf[pos]! & (1 << bits)) !== 0;
  const len = readPrefixInt(buf, pos, bits);
  const end = len.pos + len.value;
  if (end > buf.length) return fail('truncated string');
  const raw = buf.subarray(len.pos, end);
  return { value: (huffman ? huffmanDecode(raw) : Buffer.from(raw)).toString('latin1'), pos: end };
}

function staticEntry(index: number): readonly [string, string] {
  return STATIC_TABLE[index] ?? fail(`static table index ${index} out of range`);
}

/** Decode an encoded field section (the payload of a HEADERS frame). */
export function decodeFieldSection(block: Uint8Array): HeaderList {
  if (block.length > MAX_FIELD_SECTION_SIZE) fail('field section too large');
  // §4.5.1: Required Insert Count (8-bit prefix) and Base (sign + 7-bit prefix).
  const ric = readPrefixInt(block, 0, 8);
  if (ric.value !== 0) fail('dynamic table reference (Required Insert Count > 0) with capacity 0');
  const base = readPrefixInt(block, ric.pos, 7);
  let pos = base.pos;
  const headers: HeaderList = [];
  let size = 0;
  while (pos < block.length) {
    const b = block[pos]!;
    let name: string;
    let value: string;
    if (b & 0x80) {
      // §4.5.2 Indexed Field Line: 1 T index(6).
      if ((b & 0x40) === 0) fail('dynamic table reference');
      const idx = readPrefixInt(block, pos, 6);
      [name, value] = staticEntry(idx.value);
      pos = idx.pos;
    } else if (b & 0x40) {
      // §4.5.4 Literal Field Line with Name Reference: 01 N T index(4), value.
      if ((b & 0x10) === 0) fail('dynamic table reference');
      const idx = readPrefixInt(block, pos, 4);
      name = staticEntry(idx.value)[0];
      const v = readString(block, idx.pos, 7);
      value = v.value;
      pos = v.pos;
    } else if (b & 0x20) {
      // §4.5.6 Literal Field Line with Literal Name: 001 N H namelen(3), name, value.
      const n = readString(block, pos, 3);
      const v = readString(block, n.pos, 7);
      name = n.value;
      value = v.value;
      pos = v.pos;
    } else {
      // §4.5.3 and §4.5.5: post-base references always point into the dynamic table.
      return fail('post-base dynamic table reference');
    }
    // RFC 9114 §4.2: field names are lowercase.
    if (name !== name.toLowerCase()) throw new H3Error(H3.MESSAGE_ERROR, 'uppercase field name', 'stream');
    size += name.length + value.length + 32;
    if (size > MAX_FIELD_SECTION_SIZE) fail('field section too large');
    headers.push([name, value]);
  }
  return headers;
}

function writePrefixInt(out: number[], value: number, bits: number, flags: number): void {
  const max = (1 << bits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function writeString(out: number[], s: string, bits: number, flags: number, huffman: boolean): void {
  const raw = Buffer.from(s, 'latin1');
  const data = huffman ? huffmanEncode(raw) : raw;
  writePrefixInt(out, data.length, bits, flags | (huffman ? 1 << bits : 0));
  for (const byte of data) out.push(byte);
}

/** Encode a field section with static references and literals; `huffman` for string literals. */
export function encodeFieldSection(headers: HeaderList, opts: { huffman?: boolean } = {}): Buffer {
  const huffman = opts.huffman ?? false;
  const out: number[] = [0, 0]; // Required Insert Count 0, Base 0.
  for (const [name, value] of headers) {
    const exact = STATIC_TABLE.findIndex(([n, v]) => n === name && v === value);
    if (exact >= 0) {
      writePrefixInt(out, exact, 6, 0xc0);
      continue;
    }
    const named = STATIC_TABLE.findIndex(([n]) => n === name);
    if (named >= 0) {
      writePrefixInt(out, named, 4, 0x50);
    } else {
      writeString(out, name, 3, 0x20, huffman);
    }
    writeString(out, value, 7, 0, huffman);
  }
  return Buffer.from(out);
}
