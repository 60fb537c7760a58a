/**
 * CoAP option numbers and value formats: RFC 7252 §5.10 and §12.2, Observe (RFC 7641 §2),
 * Block1/Block2/Size2 (RFC 7959 §2.1, §4), Request-Tag (RFC 9175 §3.2).
 */
export const Option = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  OSCORE: 9,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  HOP_LIMIT: 16,
  ACCEPT: 17,
  Q_BLOCK1: 19,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  Q_BLOCK2: 31,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
  ECHO: 252,
  NO_RESPONSE: 258,
  REQUEST_TAG: 292,
} as const;

/** One option as it appears on the wire: its number and raw value. */
export interface CoapOption {
  readonly number: number;
  readonly value: Buffer;
}

/** RFC 7252 §5.4.6: odd option numbers are critical. */
export function isCritical(number: number): boolean {
  return (number & 1) === 1;
}

/** Options that may occur more than once (RFC 7252 §5.10 table 4, "R"). */
const REPEATABLE: ReadonlySet<number> = new Set([Option.IF_MATCH, Option.ETAG, Option.LOCATION_PATH, Option.URI_PATH, Option.URI_QUERY, Option.LOCATION_QUERY]);

export function isRepeatable(number: number): boolean {
  return REPEATABLE.has(number);
}

/**
 * The critical options the gateway understands in a request (RFC 7252 §5.4.1): any other
 * critical option is answered with 4.02 Bad Option. Uri-Host, Uri-Port, If-Match, Accept and the
 * proxy options are accepted and ignored, as EMQX does.
 */
export const RECOGNISED_CRITICAL: ReadonlySet<number> = new Set([
  Option.IF_MATCH,
  Option.URI_HOST,
  Option.IF_NONE_MATCH,
  Option.URI_PORT,
  Option.URI_PATH,
  Option.URI_QUERY,
  Option.ACCEPT,
  Option.BLOCK2,
  Option.BLOCK1,
  Option.PROXY_URI,
  Option.PROXY_SCHEME,
]);

/** RFC 7252 §3.2 "uint": big-endian, no leading zero bytes, 0 is the empty value. */
export function encodeUint(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a 32-bit option uint: ${n}`);
  if (n === 0) return Buffer.alloc(0);
  if (n <= 0xff) return Buffer.of(n);
  if (n <= 0xffff) return Buffer.of(n >>> 8, n & 0xff);
  if (n <= 0xffffff) return Buffer.of(n >>> 16, (n >>> 8) & 0xff, n & 0xff);
  return Buffer.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Decodes a uint option value; leading zero bytes are tolerated (RFC 7252 §3.2). */
export function decodeUint(value: Buffer): number {
  let n = 0;
  for (const byte of value) n = n * 256 + byte;
  return n;
}

export function getOption(options: readonly CoapOption[], number: number): Buffer | undefined {
  for (const o of options) if (o.number === number) return o.value;
  return undefined;
}

export function getOptions(options: readonly CoapOption[], number: number): Buffer[] {
  const values: Buffer[] = [];
  for (const o of options) if (o.number === number) values.push(o.value);
  return values;
}

export function getUintOption(options: readonly CoapOption[], number: number): number | undefined {
  const v = getOption(options, number);
  return v === undefined ? undefined : decodeUint(v);
}
