/**
 * The little DER (X.690) this library needs: reading certificates, CRLs and OCSP responses, and
 * writing OCSP requests. Malformed input throws `DerError`.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One TLV: `tag` is the identifier octet; `raw` the whole encoding; `value` the contents. */
export interface Tlv {
  tag: number;
  raw: Buffer;
  value: Buffer;
}

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

/** Context-specific tag number `n`: constructed (`[n] EXPLICIT` or a constructed IMPLICIT) or primitive. */
export const ctx = (n: number, constructed = true): number => (constructed ? 0xa0 : 0x80) | n;

/** Reads the TLV at `offset`; returns it and the offset after it. */
export function readTlv(buf: Buffer, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = buf[offset + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw new DerError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    head += n;
  }
  const end = offset + head + len;
  if (end > buf.length) throw new DerError('truncated DER');
  return { tlv: { tag, raw: buf.subarray(offset, end), value: buf.subarray(offset + head, end) }, next: end };
}

/** The children of a constructed TLV. */
export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < t.value.length) {
    const { tlv, next } = readTlv(t.value, off);
    out.push(tlv);
    off = next;
  }
  return out;
}

/** Parses a whole buffer as one TLV. */
export function parseDer(buf: Buffer): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) throw new DerError('trailing bytes after DER value');
  return tlv;
}

/** `t`, or a DerError naming what is missing. */
export function need(t: Tlv | undefined, what: string, tag?: number): Tlv {
  if (!t || (tag !== undefined && t.tag !== tag)) throw new DerError(`${what}: missing or malformed`);
  return t;
}

/** `children(t)` checking the tag first. */
export function expectSeq(t: Tlv | undefined, what: string): Tlv[] {
  if (!t || t.tag !== TAG.SEQUENCE) throw new DerError(`${what}: expected a SEQUENCE`);
  return children(t);
}

export function decodeOid(value: Buffer): string {
  if (value.length === 0) throw new DerError('empty OID');
  const parts: number[] = [Math.floor(value[0]! / 40), value[0]! % 40];
  let n = 0;
  for (let i = 1; i < value.length; i++) {
    n = n * 128 + (value[i]! & 0x7f);
    if (!(value[i]! & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** UTCTime or GeneralizedTime to epoch milliseconds. */
export function decodeTime(t: Tlv | undefined): number {
  if (!t) throw new DerError('missing time');
  const s = t.value.toString('latin1');
  const m = (t.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/ : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/).exec(s);
  if (!m || (t.tag !== TAG.UTC_TIME && t.tag !== TAG.GENERALIZED_TIME)) throw new DerError(`bad time ${JSON.stringify(s)}`);
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
}

/** Hex of an INTEGER's contents without leading zero bytes (how serial numbers are compared). */
export function integerHex(value: Buffer): string {
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  return value.subarray(i).toString('hex').toUpperCase();
}

// ---- writing ---------------------------------------------------------------------------------

export function encodeTlv(tag: number, value: Buffer): Buffer {
  const len = value.length;
  let head: Buffer;
  if (len < 0x80) head = Buffer.from([tag, len]);
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
    head = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([head, value]);
}

export const seq = (...items: Buffer[]): Buffer => encodeTlv(TAG.SEQUENCE, Buffer.concat(items));

export function encodeOid(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const bytes = [p & 0x7f];
    for (let n = Math.floor(p / 128); n > 0; n = Math.floor(n / 128)) bytes.unshift((n & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return encodeTlv(TAG.OID, Buffer.from(out));
}
