/**
 * Log traces, as EMQX's `/api/v5/trace`: for one client id, topic filter or client address,
 * between `start_at` and `end_at`, the broker's events of the matching clients and messages
 * (connects and refusals, disconnects, subscribes, unsubscribes, publishes, deliveries, drops)
 * are written to a file of their own, whatever the log level. The core's hooks are used only
 * while a trace runs, so brokers without traces pay nothing.
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { topicMatches, type Hooks, type Logger } from '@junction/broker-core';
import { AdminError } from '../errors.js';
import { LOG } from '../log-events.js';
import { formatLine, type PayloadEncode, type TraceEvent, type TraceFormatter } from './trace-line.js';

export type TraceType = 'clientid' | 'topic' | 'ip_address';
export type TraceStatus = 'waiting' | 'running' | 'stopped';

export interface TraceInput {
  readonly name: string;
  readonly type: TraceType;
  /** The client id, topic filter or address: the field named by `type`. */
  readonly filter: string;
  /** Epoch ms; default now. */
  readonly start_at?: number;
  /** Epoch ms; default 10 minutes after `start_at`. */
  readonly end_at?: number;
  readonly payload_encode?: PayloadEncode;
  readonly formatter?: TraceFormatter;
  /** Bytes of a payload written; default 1024. */
  readonly payload_limit?: number;
}

export interface TraceInfo {
  readonly name: string;
  readonly type: TraceType;
  readonly filter: string;
  readonly start_at: number;
  readonly end_at: number;
  readonly status: TraceStatus;
  readonly payload_encode: PayloadEncode;
  readonly formatter: TraceFormatter;
  readonly payload_limit: number;
  /** Bytes written to the file so far. */
  readonly size: number;
  /** The file's name (not its directory). */
  readonly file: string;
}

interface Trace {
  readonly input: Required<TraceInput>;
  readonly path: string;
  enable: boolean;
  size: number;
  stream: WriteStream | undefined;
  /** Set while the file is being closed. */
  closing: Promise<void> | undefined;
}

/** Up to this many traces exist at once (EMQX: 30). */
export const MAX_TRACES = 30;
const NAME = /^[A-Za-z0-9_-]{1,256}$/;
const DEFAULT_DURATION_MS = 10 * 60_000;

/** What an event is about, to match it against traces. */
interface Keys {
  readonly clientid?: string;
  readonly topic?: string;
  readonly peer?: string;
}

export class TraceManager {
  private readonly traces = new Map<string, Trace>();
  private unhooks: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private dir: string | undefined;
  private readonly ownDir: boolean;

  constructor(
    private readonly hooks: Hooks,
    private readonly opts: { readonly dir?: string; readonly now?: () => number; readonly log: Logger },
  ) {
    this.dir = opts.dir;
    this.ownDir = opts.dir === undefined;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  create(input: TraceInput): TraceInfo {
    if (!NAME.test(input.name)) throw new AdminError('bad_request', 'name: 1 to 256 letters, digits, `_` or `-`');
    if (this.traces.has(input.name)) throw new AdminError('already_exists', `trace ${input.name} already exists`);
    if (input.filter === '') throw new AdminError('bad_request', `${input.type} is required for a ${input.type} trace`);
    const now = this.now();
    const start = input.start_at ?? now;
    const end = input.end_at ?? Math.max(start, now) + DEFAULT_DURATION_MS;
    if (!Number.isFinite(start) || !Number.isFinite(end)) throw new AdminError('bad_request', 'start_at and end_at must be RFC 3339 times or epoch seconds');
    if (end <= start || end <= now) throw new AdminError('bad_request', 'end_at must be later than start_at and than now');
    for (const t of this.traces.values()) {
      if (t.input.type === input.type && t.input.filter === input.filter && this.status(t, now) !== 'stopped') {
        throw new AdminError('already_exists', `trace ${t.input.name} already traces ${input.type} ${input.filter}`, { apiCode: 'DUPLICATE_CONDITION' });
      }
    }
    if (this.traces.size >= MAX_TRACES) throw new AdminError('bad_request', `at most ${MAX_TRACES} traces; delete some first`);
    const full: Required<TraceInput> = {
      name: input.name,
      type: input.type,
      filter: input.filter,
      start_at: start,
      end_at: end,
      payload_encode: input.payload_encode ?? 'text',
      formatter: input.formatter ?? 'text',
      payload_limit: input.payload_limit ?? 1024,
    };
    const dir = this.directory();
    const path = join(dir, `trace_${full.name}_${stamp(start)}.log`);
    const trace: Trace = { input: full, path, enable: true, size: 0, stream: undefined, closing: undefined };
    trace.stream = this.openStream(trace);
    this.traces.set(full.name, trace);
    this.opts.log.info({ name: full.name, type: full.type, filter: full.filter, start_at: start, end_at: end }, LOG.traceCreated);
    this.refresh();
    return this.info(trace, now);
  }

  /** Newest first. */
  list(): TraceInfo[] {
    const now = this.now();
    return [...this.traces.values()].sort((a, b) => b.input.start_at - a.input.start_at).map((t) => this.info(t, now));
  }

  get(name: string): TraceInfo {
    return this.info(this.find(name), this.now());
  }

  /** EMQX `PUT /trace/{name}/stop`: stop writing; the file stays. */
  async stop(name: string): Promise<TraceInfo> {
    const t = this.find(name);
    t.enable = false;
    await this.endStream(t);
    this.opts.log.info({ name }, LOG.traceStopped);
    this.refresh();
    return this.info(t, this.now());
  }

  /** Delete a trace and its file. */
  async delete(name: string): Promise<void> {
    const t = this.find(name);
    this.traces.delete(name);
    await this.endStream(t);
    rmSync(t.path, { force: true });
    this.opts.log.info({ name }, LOG.traceDeleted);
    this.refresh();
  }

  async clear(): Promise<void> {
    for (const name of [...this.traces.keys()]) await this.delete(name);
  }

  /** The file, everything written so far flushed. */
  async file(name: string): Promise<{ path: string; filename: string }> {
    const t = this.find(name);
    await flush(t.stream);
    await t.closing;
    return { path: t.path, filename: basename(t.path) };
  }

  /** Up to `bytes` of the file from `position` (EMQX `GET /trace/{name}/log`). */
  async read(name: string, position: number, bytes: number): Promise<{ items: string; position: number }> {
    const { path } = await this.file(name);
    const fh = await open(path, 'r').catch(() => undefined);
    if (!fh) return { items: '', position };
    try {
      const buf = Buffer.alloc(bytes);
      const { bytesRead } = await fh.read(buf, 0, bytes, position);
      return { items: buf.subarray(0, bytesRead).toString('utf8'), position: position + bytesRead };
    } finally {
      await fh.close();
    }
  }

  /** Unhook and close the files; a directory made here (no data dir) is removed. */
  async close(): Promise<void> {
    for (const u of this.unhooks.splice(0)) u();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.traces.values()) await this.endStream(t);
    this.traces.clear();
    if (this.ownDir && this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private find(name: string): Trace {
    const t = this.traces.get(name);
    if (!t) throw new AdminError('not_found', `no trace ${JSON.stringify(name)}`);
    return t;
  }

  private status(t: Trace, now: number): TraceStatus {
    if (!t.enable || now >= t.input.end_at) return 'stopped';
    return now < t.input.start_at ? 'waiting' : 'running';
  }

  private info(t: Trace, now: number): TraceInfo {
    const { name, type, filter, start_at, end_at, payload_encode, formatter, payload_limit } = t.input;
    return { name, type, filter, start_at, end_at, status: this.status(t, now), payload_encode, formatter, payload_limit, size: t.size, file: basename(t.path) };
  }

  private directory(): string {
    if (!this.dir) this.dir = mkdtempSync(join(tmpdir(), 'junction-trace-'));
    else mkdirSync(this.dir, { recursive: true });
    return this.dir;
  }

  private openStream(t: Trace): WriteStream {
    const stream = createWriteStream(t.path, { flags: 'a', mode: 0o600 });
    stream.on('error', (err) => {
      this.opts.log.warn({ name: t.input.name, err }, LOG.traceWriteFailed);
      t.enable = false;
      t.stream = undefined;
      this.refresh();
    });
    return stream;
  }

  private async endStream(t: Trace): Promise<void> {
    const s = t.stream;
    t.stream = undefined;
    if (s) t.closing = new Promise<void>((resolve) => s.end(() => resolve()));
    await t.closing;
  }

  /** Hook in while a trace runs or waits; close the files of traces that ended; wake up at the
   * next start or end. */
  private refresh(): void {
    const now = this.now();
    let next = Infinity;
    let live = false;
    for (const t of this.traces.values()) {
      const s = this.status(t, now);
      if (s === 'stopped') {
        if (t.stream) void this.endStream(t);
        continue;
      }
      live = true;
      next = Math.min(next, s === 'waiting' ? t.input.start_at : t.input.end_at);
    }
    if (live && this.unhooks.length === 0) this.hook();
    if (!live) for (const u of this.unhooks.splice(0)) u();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (next < Infinity) {
      this.timer = setTimeout(() => this.refresh(), Math.min(Math.max(0, next - now) + 5, 2 ** 31 - 1));
      this.timer.unref();
    }
  }

  /** Write `build()` to every running trace that matches `keys`. */
  private emit(keys: Keys, build: () => Omit<TraceEvent, 'time'>): void {
    let event: TraceEvent | undefined;
    const now = this.now();
    for (const t of this.traces.values()) {
      if (!t.stream || this.status(t, now) !== 'running' || !matches(t.input, keys)) continue;
      event ??= { time: now, ...build() };
      const line = formatLine(event, t.input.formatter, t.input.payload_encode, t.input.payload_limit);
      t.size += Buffer.byteLength(line);
      t.stream.write(line);
    }
  }

  private hook(): void {
    const h = this.hooks;
    this.unhooks.push(
      h.on('client.connected', (c, info) =>
        this.emit({ clientid: c.clientId, peer: c.peer }, () => ({
          event: 'client.connected',
          clientid: c.clientId,
          peer: c.peer,
          fields: { username: c.username, proto_name: c.protocol, proto_ver: info.protocolVersion, listener: c.listener, keepalive: info.keepalive, clean_start: info.cleanStart },
        })),
      ),
      h.on('client.connack', (info, result) => {
        if (result === 'success') return;
        this.emit({ clientid: info.clientId, peer: info.peer }, () => ({ event: 'client.connect_refused', clientid: info.clientId, peer: info.peer, fields: { username: info.username, proto_name: info.protocol, reason: result } }));
      }),
      h.on('client.disconnected', (c, reason) => this.emit({ clientid: c.clientId, peer: c.peer }, () => ({ event: 'client.disconnected', clientid: c.clientId, peer: c.peer, fields: { reason } }))),
      h.on('session.subscribed', (c, sub) =>
        this.emit({ clientid: c.clientId, peer: c.peer, topic: sub.filter }, () => ({ event: 'session.subscribed', clientid: c.clientId, peer: c.peer, fields: { topic: sub.filter, qos: sub.qos } })),
      ),
      h.on('session.unsubscribed', (c, filter) => this.emit({ clientid: c.clientId, peer: c.peer, topic: filter }, () => ({ event: 'session.unsubscribed', clientid: c.clientId, peer: c.peer, fields: { topic: filter } }))),
      h.intercept('message.publish', (msg) => {
        this.emit({ clientid: msg.from.clientId, peer: msg.from.peer, topic: msg.topic }, () => ({
          event: 'message.publish',
          clientid: msg.from.clientId,
          peer: msg.from.peer,
          fields: { topic: msg.topic, qos: msg.qos, retain: msg.retain, payload: msg.payload },
        }));
        return msg;
      }),
      h.on('message.delivered', (c, d) =>
        this.emit({ clientid: c.clientId, peer: c.peer, topic: d.message.topic }, () => ({
          event: 'message.delivered',
          clientid: c.clientId,
          peer: c.peer,
          fields: { topic: d.message.topic, qos: d.qos, retain: d.retain, from_clientid: d.message.from.clientId, payload: d.message.payload },
        })),
      ),
      h.on('message.dropped', (msg, reason, clientId) =>
        this.emit({ clientid: clientId ?? msg.from.clientId, peer: clientId === undefined ? msg.from.peer : undefined, topic: msg.topic }, () => ({
          event: 'message.dropped',
          clientid: clientId ?? msg.from.clientId,
          fields: { topic: msg.topic, qos: msg.qos, reason, from_clientid: msg.from.clientId },
        })),
      ),
    );
  }
}

function matches(t: Required<TraceInput>, k: Keys): boolean {
  switch (t.type) {
    case 'clientid':
      return k.clientid === t.filter;
    case 'topic':
      return k.topic !== undefined && (k.topic === t.filter || topicMatches(t.filter, k.topic));
    case 'ip_address':
      return k.peer !== undefined && hostOf(k.peer) === t.filter;
  }
}

function hostOf(peer: string): string {
  if (peer.startsWith('[')) return peer.slice(1, peer.indexOf(']'));
  const i = peer.lastIndexOf(':');
  return i > 0 && peer.indexOf(':') === i ? peer.slice(0, i) : peer;
}

function flush(s: WriteStream | undefined): Promise<void> {
  return s ? new Promise<void>((resolve) => s.write('', () => resolve())) : Promise.resolve();
}

/** `20261129-080102` */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}
