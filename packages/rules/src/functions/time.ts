/**
 * Date and time functions. Units are 'second', 'millisecond', 'microsecond', 'nanosecond'; the
 * clock has millisecond resolution. Offsets are 'z'/'Z', 'local', '+HHMM', '+HH:MM',
 * '+HH:MM:SS' or seconds. Formats use %Y %m %d %H %M %S %N %3N %6N %z %:z %::z.
 */
import { RuleEvalError, textOf, type Value } from '../runtime/values.js';
import { badarg, def, int, num, text, type FunctionContext, type FunctionDef } from './registry.js';

export type TimeUnit = 'second' | 'millisecond' | 'microsecond' | 'nanosecond';
const PER_SECOND: Record<TimeUnit, number> = { second: 1, millisecond: 1e3, microsecond: 1e6, nanosecond: 1e9 };
const UNIT_ALIASES: Record<string, TimeUnit> = { second: 'second', millisecond: 'millisecond', microsecond: 'microsecond', nanosecond: 'nanosecond', s: 'second', ms: 'millisecond', us: 'microsecond', ns: 'nanosecond' };

export function timeUnit(fn: string, v: Value): TimeUnit {
  const u = UNIT_ALIASES[textOf(v) ?? ''];
  if (!u) return badarg(fn, v, "a time unit ('second', 'millisecond', 'microsecond' or 'nanosecond')");
  return u;
}

/** An instant: whole seconds since the epoch and nanoseconds within the second. */
interface Instant {
  s: number;
  ns: number;
}

function fromEpoch(epoch: number, unit: TimeUnit): Instant {
  const per = PER_SECOND[unit];
  const s = Math.floor(epoch / per);
  return { s, ns: Math.round((epoch - s * per) * (1e9 / per)) };
}

function toEpoch(t: Instant, unit: TimeUnit): number {
  const per = PER_SECOND[unit];
  return t.s * per + Math.floor(t.ns / (1e9 / per));
}

function nowInstant(ctx: FunctionContext): Instant {
  return fromEpoch(ctx.now(), 'millisecond');
}

/** The local UTC offset at an instant, in seconds. */
export function localOffset(seconds: number): number {
  return -new Date(seconds * 1000).getTimezoneOffset() * 60;
}

/** An offset argument in seconds; 'local' is resolved at `at` (seconds since the epoch). */
export function offsetSeconds(fn: string, v: Value, at: number): number {
  if (typeof v === 'number') return int(fn, v);
  const t = textOf(v);
  if (t === 'z' || t === 'Z') return 0;
  if (t === 'local') return localOffset(at);
  const m = t === undefined ? null : /^([+-])(\d{2}):?(\d{2})(?::?(\d{2}))?$/.exec(t);
  if (!m) return badarg(fn, v, "an offset ('Z', 'local', '+08:00', '+0800' or seconds)");
  const secs = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -secs : secs;
}

const p2 = (n: number) => String(n).padStart(2, '0');

function offsetText(secs: number, style: '' | ':' | '::'): string {
  const sign = secs < 0 ? '-' : '+';
  const a = Math.abs(secs);
  const h = p2(Math.floor(a / 3600));
  const m = p2(Math.floor((a % 3600) / 60));
  const s = p2(a % 60);
  return style === '' ? `${sign}${h}${m}` : style === ':' ? `${sign}${h}:${m}` : `${sign}${h}:${m}:${s}`;
}

/** Wall-clock fields of an instant at an offset. */
function fields(t: Instant, offset: number) {
  const d = new Date((t.s + offset) * 1000);
  return { Y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), H: d.getUTCHours(), M: d.getUTCMinutes(), S: d.getUTCSeconds() };
}

export function toRfc3339(t: Instant, unit: TimeUnit, offset = localOffset(t.s)): string {
  const f = fields(t, offset);
  const digits = unit === 'second' ? 0 : unit === 'millisecond' ? 3 : unit === 'microsecond' ? 6 : 9;
  const frac = digits === 0 ? '' : `.${String(t.ns).padStart(9, '0').slice(0, digits)}`;
  return `${String(f.Y).padStart(4, '0')}-${p2(f.m)}-${p2(f.d)}T${p2(f.H)}:${p2(f.M)}:${p2(f.S)}${frac}${offsetText(offset, ':')}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(fn: string, v: Value): Instant {
  const m = RFC3339.exec(text(fn, v));
  if (!m) return badarg(fn, v, 'an RFC 3339 date-time');
  const off = m[8] === 'Z' || m[8] === 'z' ? 0 : offsetSeconds(fn, m[8]!, 0);
  const s = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000 - off;
  return { s, ns: Number((m[7] ?? '').padEnd(9, '0').slice(0, 9)) };
}

/** format_date: %Y %m %d %H %M %S %N %3N %6N %z %:z %::z; other text as is. */
export function formatDate(t: Instant, offset: number, format: string): string {
  const f = fields(t, offset);
  const ns = String(t.ns).padStart(9, '0');
  return format.replace(/%(::z|:z|z|3N|6N|N|Y|m|d|H|M|S|%)/g, (_m, k: string) => {
    switch (k) {
      case 'Y':
        return String(f.Y).padStart(4, '0');
      case 'm':
        return p2(f.m);
      case 'd':
        return p2(f.d);
      case 'H':
        return p2(f.H);
      case 'M':
        return p2(f.M);
      case 'S':
        return p2(f.S);
      case 'N':
        return ns;
      case '3N':
        return ns.slice(0, 3);
      case '6N':
        return ns.slice(0, 6);
      case 'z':
        return offsetText(offset, '');
      case ':z':
        return offsetText(offset, ':');
      case '::z':
        return offsetText(offset, '::');
      default:
        return '%';
    }
  });
}

const PARSE_PARTS: Record<string, string> = {
  Y: '(\\d{4})', m: '(\\d{1,2})', d: '(\\d{1,2})', H: '(\\d{1,2})', M: '(\\d{1,2})', S: '(\\d{1,2})',
  N: '(\\d{9})', '3N': '(\\d{3})', '6N': '(\\d{6})', z: '([+-]\\d{4}|[Zz])', ':z': '([+-]\\d{2}:\\d{2}|[Zz])', '::z': '([+-]\\d{2}:\\d{2}:\\d{2}|[Zz])',
};

/**
 * The instant a formatted date names; without an offset in the text, it is read as UTC. As in
 * EMQX, a literal character of the format stands for any one character of the text (EMQX's own
 * example reads '18:40:12' with '%H-%M-%S').
 */
export function parseDate(fn: string, format: string, input: string): Instant {
  const keys: string[] = [];
  const source = format.replace(/%(::z|:z|z|3N|6N|N|Y|m|d|H|M|S)|[\s\S]/g, (tok, k: string | undefined) => {
    if (!k) return '.';
    keys.push(k);
    return PARSE_PARTS[k]!;
  });
  const m = new RegExp(`^${source}$`).exec(input);
  if (!m) throw new RuleEvalError(`${fn}(): ${JSON.stringify(input)} does not match the format ${JSON.stringify(format)}`);
  const v: Record<string, string> = {};
  keys.forEach((k, i) => (v[k] = m[i + 1]!));
  const off = v.z ?? v[':z'] ?? v['::z'];
  const offset = off === undefined || off === 'Z' || off === 'z' ? 0 : offsetSeconds(fn, off, 0);
  const s = Date.UTC(Number(v.Y ?? 1970), Number(v.m ?? 1) - 1, Number(v.d ?? 1), Number(v.H ?? 0), Number(v.M ?? 0), Number(v.S ?? 0)) / 1000 - offset;
  const ns = v.N !== undefined ? Number(v.N) : v['6N'] !== undefined ? Number(v['6N']) * 1e3 : v['3N'] !== undefined ? Number(v['3N']) * 1e6 : 0;
  return { s, ns };
}

export const timeFunctions: FunctionDef[] = [
  def('now_timestamp', 'time', [0, 1], 'now_timestamp([unit])', 'Now since the epoch, in seconds or the given unit.', ([u], ctx) => toEpoch(nowInstant(ctx), u === undefined ? 'second' : timeUnit('now_timestamp', u))),
  def('now_rfc3339', 'time', [0, 1], 'now_rfc3339([unit])', 'Now as RFC 3339 text in the local offset, to the second or the given unit.', ([u], ctx) => toRfc3339(nowInstant(ctx), u === undefined ? 'second' : timeUnit('now_rfc3339', u))),
  def('unix_ts_to_rfc3339', 'time', [1, 2], 'unix_ts_to_rfc3339(epoch[, unit])', 'An epoch (seconds, or the unit) as RFC 3339 text in the local offset.', ([e, u]) => {
    const unit = u === undefined ? 'second' : timeUnit('unix_ts_to_rfc3339', u);
    return toRfc3339(fromEpoch(int('unix_ts_to_rfc3339', e), unit), unit);
  }),
  def('rfc3339_to_unix_ts', 'time', [1, 2], 'rfc3339_to_unix_ts(text[, unit])', 'RFC 3339 text as an epoch in seconds or the unit.', ([t, u]) => toEpoch(parseRfc3339('rfc3339_to_unix_ts', t), u === undefined ? 'second' : timeUnit('rfc3339_to_unix_ts', u))),
  def('format_date', 'time', [3, 4], 'format_date(unit, offset, format[, epoch])', 'An epoch (default now) formatted at an offset.', ([u, off, fmt, e], ctx) => {
    const unit = timeUnit('format_date', u);
    const t = e === undefined ? nowInstant(ctx) : fromEpoch(num('format_date', e), unit);
    return formatDate(t, offsetSeconds('format_date', off, t.s), text('format_date', fmt));
  }),
  def('date_to_unix_ts', 'time', [3, 4], 'date_to_unix_ts(unit, [offset, ]format, text)', 'Formatted text as an epoch; without an offset in the text it is UTC, minus the offset argument.', (args) => {
    const unit = timeUnit('date_to_unix_ts', args[0]);
    const fmt = text('date_to_unix_ts', args[args.length - 2]);
    const t = parseDate('date_to_unix_ts', fmt, text('date_to_unix_ts', args[args.length - 1]));
    if (args.length === 4) t.s -= offsetSeconds('date_to_unix_ts', args[1], t.s);
    return toEpoch(t, unit);
  }),
  def('timezone_to_second', 'time', 1, 'timezone_to_second(offset)', 'An offset as seconds.', ([o], ctx) => offsetSeconds('timezone_to_second', o, Math.floor(ctx.now() / 1000))),
  def('timezone_to_offset_seconds', 'time', 1, 'timezone_to_offset_seconds(offset)', 'An offset as seconds.', ([o], ctx) => offsetSeconds('timezone_to_offset_seconds', o, Math.floor(ctx.now() / 1000))),
];
