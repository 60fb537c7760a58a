/**
 * The CoAP message format (RFC 7252 §3): a strict parser and an encoder. Pure functions over
 * Buffers; the parser never throws, it classifies what it cannot accept the way RFC 7252 §4.2
 * and §4.3 ask a receiver to treat it.
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Ver| T |  TKL  |      Code     |          Message ID           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |   Token (if any, TKL bytes) ...  |  Options (if any) ... |1 1 1 1 1 1 1 1|  Payload ...
 */
import { codeClass, EMPTY } from './codes.js';
import type { CoapOption } from './options.js';

export type MessageType = 'CON' | 'NON' | 'ACK' | 'RST';
const TYPES: readonly MessageType[] = ['CON', 'NON', 'ACK', 'RST'];

export interface CoapMessage {
  readonly type: MessageType;
  /** Class in the top 3 bits, detail in the low 5 (see `codes.ts`). */
  readonly code: number;
  readonly messageId: number;
  readonly token: Buffer;
  /** In wire order, i.e. sorted by option number. */
  readonly options: readonly CoapOption[];
  readonly payload: Buffer;
}

export type ParseResult =
  | { readonly ok: true; readonly message: CoapMessage }
  /** §3: shorter than a header, or a version other than 1: silently ignored. */
  | { readonly ok: false; readonly kind: 'ignore'; readonly reason: string }
  /** §4.2, §4.3: a message format error: a CON is rejected with RST, anything else ignored. */
  | { readonly ok: false; readonly kind: 'format_error'; readonly type: MessageType; readonly messageId: number; readonly reason: string };

const PAYLOAD_MARKER = 0xff;
const EMPTY_BUFFER = Buffer.alloc(0);

export function parse(buf: Buffer): ParseResult {
  if (buf.length < 4) return { ok: false, kind: 'ignore', reason: 'shorter than the 4-byte header' };
  const b0 = buf[0]!;
  if (b0 >>> 6 !== 1) return { ok: false, kind: 'ignore', reason: `version ${b0 >>> 6}` };
  const type = TYPES[(b0 >>> 4) & 3]!;
  const tkl = b0 & 0x0f;
  const code = buf[1]!;
  const messageId = buf.readUInt16BE(2);
  const fail = (reason: string): ParseResult => ({ ok: false, kind: 'format_error', type, messageId, reason });

  if (code === EMPTY) {
    // §4.1: an Empty message has TKL 0 and nothing after the Message ID.
    if (tkl !== 0 || buf.length !== 4) return fail('empty message with token, options or payload');
    return { ok: true, message: { type, code, messageId, token: EMPTY_BUFFER, options: [], payload: EMPTY_BUFFER } };
  }
  const cls = codeClass(code);
  // §3 and §12.1: classes 1, 3, 6 and 7 are reserved.
  if (cls === 1 || cls === 3 || cls >= 6) return fail(`reserved code class ${cls}`);
  // §3: token lengths 9 to 15 are reserved and MUST be processed as a message format error.
  if (tkl > 8) return fail(`token length ${tkl}`);
  if (buf.length < 4 + tkl) return fail('truncated token');
  const token = Buffer.from(buf.subarray(4, 4 + tkl));

  const options: CoapOption[] = [];
  let pos = 4 + tkl;
  let number = 0;
  while (pos < buf.length) {
    const byte = buf[pos++]!;
    if (byte === PAYLOAD_MARKER) {
      // §3: a marker followed by a zero-length payload MUST be processed as a format error.
      if (pos === buf.length) return fail('payload marker without payload');
      return { ok: true, message: { type, code, messageId, token, options, payload: Buffer.from(buf.subarray(pos)) } };
    }
    // §3.1: nibble 15 is reserved for both delta and length (apart from the payload marker).
    const delta = extended(byte >>> 4);
    if (delta === undefined) return fail('reserved option delta 15');
    const length = extended(byte & 0x0f);
    if (length === undefined) return fail('reserved option length 15');
    if (pos + delta.extra + length.extra > buf.length) return fail('truncated option header');
    number += delta.read(buf, pos);
    pos += delta.extra;
    const len = length.read(buf, pos);
    pos += length.extra;
    if (pos + len > buf.length) return fail('truncated option value');
    options.push({ number, value: Buffer.from(buf.subarray(pos, pos + len)) });
    pos += len;
  }
  return { ok: true, message: { type, code, messageId, token, options, payload: EMPTY_BUFFER } };
}

/** §3.1: 0..12 as is; 13 and 14 take one or two more bytes; 15 is reserved. */
function extended(nibble: number): { extra: number; read(buf: Buffer, pos: number): number } | undefined {
  if (nibble < 13) return { extra: 0, read: () => nibble };
  if (nibble === 13) return { extra: 1, read: (b, p) => b[p]! + 13 };
  if (nibble === 14) return { extra: 2, read: (b, p) => b.readUInt16BE(p) + 269 };
  return undefined;
}

export interface EncodeInput {
  readonly type: MessageType;
  readonly code: number;
  readonly messageId: number;
  readonly token?: Buffer;
  readonly options?: readonly CoapOption[];
  readonly payload?: Buffer;
}

/** Encodes a message; options are sorted by number (stable, so repeated options keep order). */
export function encode(m: EncodeInput): Buffer {
  const token = m.token ?? EMPTY_BUFFER;
  if (token.length > 8) throw new RangeError('a token is at most 8 bytes (RFC 7252 §3)');
  if (!Number.isInteger(m.messageId) || m.messageId < 0 || m.messageId > 0xffff) throw new RangeError(`bad message id ${m.messageId}`);
  const options = [...(m.options ?? [])].sort((a, b) => a.number - b.number);
  const payload = m.payload ?? EMPTY_BUFFER;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(4);
  header[0] = 0x40 | (TYPES.indexOf(m.type) << 4) | token.length;
  header[1] = m.code;
  header.writeUInt16BE(m.messageId, 2);
  parts.push(header, token);
  let last = 0;
  for (const o of options) {
    const delta = o.number - last;
    last = o.number;
    const d = nibble(delta);
    const l = nibble(o.value.length);
    parts.push(Buffer.of((d.nibble << 4) | l.nibble), d.ext, l.ext, o.value);
  }
  if (payload.length > 0) parts.push(Buffer.of(PAYLOAD_MARKER), payload);
  return Buffer.concat(parts);
}

function nibble(n: number): { nibble: number; ext: Buffer } {
  if (n < 13) return { nibble: n, ext: EMPTY_BUFFER };
  if (n < 269) return { nibble: 13, ext: Buffer.of(n - 13) };
  if (n <= 65535 + 269) {
    const ext = Buffer.alloc(2);
    ext.writeUInt16BE(n - 269);
    return { nibble: 14, ext };
  }
  throw new RangeError(`option delta or length ${n} too large`);
}

/** §4.2: a Reset rejecting a message: empty, same Message ID. */
export function reset(messageId: number): Buffer {
  return encode({ type: 'RST', code: EMPTY, messageId });
}
