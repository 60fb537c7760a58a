/**
 * EMQX-style human values in config: durations (`30s`), byte sizes (`1MB`) and bind addresses
 * (`127.0.0.1:1883`). A schema marks such a value with the broker core's format keyword
 * (`FORMAT_KEY`); the gateway's loader parses marked values before validation (see `formats.ts`), so the schema
 * describes, and the app and adapters receive, the parsed form: milliseconds, bytes,
 * `{ host, port }`.
 */
import { Type, type NumberOptions, type ObjectOptions, type TInteger, type TNumber, type TObject, type TSchema, type TString } from '@sinclair/typebox';

/** The schema keyword that marks a human-value schema. */
export const FORMAT_KEY = 'x-junction-format';

export type HumanFormat = 'duration' | 'bytes' | 'bind';

/** A parsed bind address. IPv6 hosts are given without brackets (`::1`), as `net.listen` wants. */
export interface BindAddress {
  host: string;
  port: number;
}

/** Host a bare port binds to: loopback, so that a bare port never opens the gateway to the network. */
export const BARE_PORT_HOST = '127.0.0.1';

/** What each format accepts, in words; used in error messages and the config reference. */
export const FORMAT_EXPECTED: Readonly<Record<HumanFormat, string>> = {
  duration: 'a duration such as "500ms", "30s", "5m", "2h", "1d", "1h30m", or a number of milliseconds',
  bytes: 'a size such as "256", "512B", "64KB", "1MB", "1GB" (1KB = 1024 bytes), or a number of bytes',
  bind: `a bind address such as "127.0.0.1:1883", "[::1]:1883", "0.0.0.0:1883", or a bare port "1883" (which binds ${BARE_PORT_HOST})`,
};

/** Schema options of the human values; `default` may be given in the human form, e.g. `'30s'`. */
export type HumanOptions<O> = Omit<O, 'default'> & { default?: string | number };

/** A duration; the config holds milliseconds. A bare number (or digits-only string) is milliseconds. */
export function Duration(opts: HumanOptions<NumberOptions> = {}): TNumber {
  return Type.Number({ minimum: 0, ...opts, [FORMAT_KEY]: 'duration' });
}

/** A byte size; the config holds bytes. Units are binary: 1KB = 1024 bytes, 1MB = 1024 KB. */
export function Bytes(opts: HumanOptions<NumberOptions> = {}): TInteger {
  return Type.Integer({ minimum: 0, ...opts, [FORMAT_KEY]: 'bytes' });
}

/**
 * A bind address; the config holds `{ host, port }`. A bare port (`1883` or `"1883"`) binds
 * 127.0.0.1, not every interface: opening to the network must be written out (`0.0.0.0:1883`).
 * Port 0 asks the OS for a free port.
 */
export function Bind(opts: HumanOptions<ObjectOptions> = {}): TObject<{ host: TString; port: TInteger }> {
  return Type.Object(
    {
      host: Type.String({ description: 'Interface address or host name to bind.' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, description: 'Port to bind; 0 picks a free port.' }),
    },
    { additionalProperties: false, ...opts, [FORMAT_KEY]: 'bind' },
  );
}

/** The human format a schema is marked with, if it is one this module parses. */
export function formatOf(schema: TSchema): HumanFormat | undefined {
  const f: unknown = (schema as Record<string, unknown>)[FORMAT_KEY];
  return f === 'duration' || f === 'bytes' || f === 'bind' ? f : undefined;
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w)\s*)+$/i;
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gi;

const BYTE_UNIT: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };
const BYTES = /^(\d+(?:\.\d+)?)\s*([kmgt]b?|b)?$/i;

const BIND_BARE = /^(\d{1,5})$/;
const BIND_IPV6 = /^\[([0-9a-f:.]+(?:%[\w.-]+)?)\]:(\d{1,5})$/i;
const BIND_HOST = /^([a-z0-9.-]+):(\d{1,5})$/i;

/**
 * Parses a duration into milliseconds (rounded): `500ms`, `30s`, `5m`, `2h`, `1d`, `1w`,
 * combinations such as `1h30m`, or a number of milliseconds. Units are case-insensitive.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else {
    const text = value.trim();
    if (/^\d+$/.test(text)) return Number(text);
    if (DURATION.test(text)) {
      let ms = 0;
      for (const [, amount, unit] of text.matchAll(DURATION_PART)) ms += Number(amount) * (DURATION_UNIT_MS[(unit ?? '').toLowerCase()] ?? NaN);
      if (Number.isSafeInteger(Math.round(ms))) return Math.round(ms);
    }
  }
  throw new Error(`expected ${FORMAT_EXPECTED.duration}, got ${JSON.stringify(value)}`);
}

/** Parses a byte size into bytes (rounded): `256`, `512B`, `64KB`, `1MB`, `2GB`, `1TB`; K = KB. */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
  } else {
    const m = BYTES.exec(value.trim());
    if (m) {
      const bytes = Math.round(Number(m[1]) * (BYTE_UNIT[(m[2] ?? '').toLowerCase()] ?? NaN));
      if (Number.isSafeInteger(bytes)) return bytes;
    }
  }
  throw new Error(`expected ${FORMAT_EXPECTED.bytes}, got ${JSON.stringify(value)}`);
}

/** Parses a bind address: `host:port`, `[ipv6]:port`, or a bare port meaning 127.0.0.1. */
export function parseBind(value: string | number): BindAddress {
  let parsed: BindAddress | undefined;
  if (typeof value === 'number') {
    if (Number.isInteger(value)) parsed = { host: BARE_PORT_HOST, port: value };
  } else {
    const text = value.trim();
    const bare = BIND_BARE.exec(text);
    const hosted = BIND_IPV6.exec(text) ?? BIND_HOST.exec(text);
    if (bare) parsed = { host: BARE_PORT_HOST, port: Number(bare[1]) };
    else if (hosted) parsed = { host: hosted[1] ?? '', port: Number(hosted[2]) };
  }
  if (!parsed) throw new Error(`expected ${FORMAT_EXPECTED.bind}, got ${JSON.stringify(value)}`);
  if (parsed.port < 0 || parsed.port > 65535) {
    throw new Error(`port ${parsed.port} is out of range 0..65535 in ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** Parses a value of the given format; throws an Error saying what was expected. */
export function parseHuman(format: HumanFormat, value: string | number): number | BindAddress {
  switch (format) {
    case 'duration':
      return parseDuration(value);
    case 'bytes':
      return parseBytes(value);
    case 'bind':
      return parseBind(value);
  }
}

/** True when an address can only be reached from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
}
