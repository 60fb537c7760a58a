/**
 * One traced event as a line of a trace file: `text` (a readable line, as EMQX's trace files)
 * or `json` (one object per line). Payloads as the trace asks: `text` (UTF-8), `hex` or
 * `hidden`, cut at `payload_limit` bytes.
 */
export type TraceFormatter = 'text' | 'json';
export type PayloadEncode = 'text' | 'hex' | 'hidden';

export interface TraceEvent {
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** `client.connected`, `message.publish`, `message.delivered`, ... */
  readonly event: string;
  readonly clientid?: string;
  readonly peer?: string;
  /** Further fields; a `payload` Buffer is encoded by `formatLine`. */
  readonly fields: Readonly<Record<string, unknown>>;
}

export function encodePayload(payload: Buffer, encode: PayloadEncode, limit: number): string {
  if (encode === 'hidden') return '******';
  const cut = payload.length > limit ? payload.subarray(0, limit) : payload;
  const more = payload.length > limit ? `...(${payload.length - limit} more bytes)` : '';
  return (encode === 'hex' ? cut.toString('hex') : cut.toString('utf8')) + more;
}

export function formatLine(e: TraceEvent, formatter: TraceFormatter, encode: PayloadEncode, limit: number): string {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.fields)) {
    if (v === undefined) continue;
    fields[k] = Buffer.isBuffer(v) ? encodePayload(v, encode, limit) : v;
  }
  if (formatter === 'json') {
    return `${JSON.stringify({ time: new Date(e.time).toISOString(), event: e.event, ...(e.clientid !== undefined ? { clientid: e.clientid } : {}), ...(e.peer !== undefined ? { peer: e.peer } : {}), ...fields })}\n`;
  }
  const who = e.clientid !== undefined ? ` ${e.clientid}${e.peer ? `@${e.peer}` : ''}` : '';
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
  return `${new Date(e.time).toISOString()} [${e.event}]${who}${rest ? ` ${rest}` : ''}\n`;
}
