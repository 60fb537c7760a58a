import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';

/**
 * Human-friendly config value types shared by every package's schema. The gateway's loader turns
 * the marked strings into numbers before validation, so code always sees plain numbers.
 */
export const FORMAT_KEY = 'x-junction-format';

/** A duration: `500ms`, `30s`, `5m`, `2h`, `7d`, or a number of milliseconds. Value: ms. */
export function Duration(options: SchemaOptions & { default?: number | string } = {}): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'number', minimum: 0, ...options, [FORMAT_KEY]: 'duration' });
}

/** A size: `1MB`, `64KB`, `512B`, or a number of bytes. Value: bytes. */
export function Bytes(options: SchemaOptions & { default?: number | string } = {}): TUnsafe<number> {
  return Type.Unsafe<number>({ type: 'number', minimum: 0, ...options, [FORMAT_KEY]: 'bytes' });
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parse a duration to milliseconds; undefined when the text is not one. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(v);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()]!);
}

/** Parse a size to bytes; undefined when the text is not one. */
export function parseBytes(v: unknown): number | undefined {
  if (typeof v === 'number') return v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(v);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * BYTE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

/** A listen address: `host:port`, `[v6]:port`, or a bare port (which binds 127.0.0.1). */
export interface BindAddress {
  host: string;
  port: number;
}

/** Parse a bind address; undefined when the text is not one. */
export function parseBind(v: unknown): BindAddress | undefined {
  if (typeof v === 'number') v = String(v);
  if (typeof v !== 'string') return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))?:?(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/** True when an address can only be reached from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.') || host.startsWith('::ffff:127.');
}
