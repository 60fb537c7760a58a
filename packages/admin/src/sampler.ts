/**
 * The time series behind the dashboard's overview (EMQX's `/api/v5/monitor` and
 * `/monitor_current`): every `intervalMs` it reads the core's gauges (connections, sessions,
 * subscriptions, retained) and counters (messages received, sent, dropped) and keeps the last
 * `capacity` samples, each with the counter increase since the previous sample and the rate per
 * second. Cheap: one `stats()` and three counter reads per interval; nothing per message.
 */
import type { Clock } from '@junction/broker-core';
import type { AdminBroker } from './context.js';

export interface MonitorSample {
  /** Milliseconds since the epoch. */
  time_stamp: number;
  connections: number;
  live_connections: number;
  sessions: number;
  subscriptions: number;
  retained_msg_count: number;
  /** Messages received from clients since the previous sample. */
  received: number;
  sent: number;
  dropped: number;
  /** Per second, over the time since the previous sample. */
  received_msg_rate: number;
  sent_msg_rate: number;
  dropped_msg_rate: number;
}

export interface SamplerOptions {
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Samples kept; default 3600 (one hour at 1 s). */
  capacity?: number;
}

export class MonitorSampler {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly ring: MonitorSample[] = [];
  private last: { at: number; received: number; sent: number; dropped: number } | undefined;
  private timer: unknown;
  private running = false;

  constructor(
    private readonly broker: Pick<AdminBroker, 'stats' | 'metrics'>,
    private readonly clock: Clock,
    opts: SamplerOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.capacity = opts.capacity ?? 3600;
  }

  /** Take a first sample now and one every interval until `stop()`. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.sample();
    const tick = () => {
      if (!this.running) return;
      this.sample();
      this.timer = this.clock.setTimeout(tick, this.intervalMs);
    };
    this.timer = this.clock.setTimeout(tick, this.intervalMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Read the broker now and append a sample. */
  sample(): MonitorSample {
    const now = this.clock.now();
    const c = this.broker.metrics.counters;
    const cur = { at: now, received: c['messages.received'], sent: c['messages.sent'], dropped: c['messages.dropped'] };
    const prev = this.last;
    const secs = prev && now > prev.at ? (now - prev.at) / 1000 : 0;
    const delta = (k: 'received' | 'sent' | 'dropped') => (prev ? Math.max(0, cur[k] - prev[k]) : 0);
    const rate = (k: 'received' | 'sent' | 'dropped') => (secs > 0 ? Math.round((delta(k) / secs) * 100) / 100 : 0);
    const st = this.broker.stats();
    const s: MonitorSample = {
      time_stamp: now,
      connections: st.connections,
      live_connections: st.connections,
      sessions: st.sessions,
      subscriptions: st.subscriptions,
      retained_msg_count: Math.max(0, st.retained),
      received: delta('received'),
      sent: delta('sent'),
      dropped: delta('dropped'),
      received_msg_rate: rate('received'),
      sent_msg_rate: rate('sent'),
      dropped_msg_rate: rate('dropped'),
    };
    this.last = cur;
    this.ring.push(s);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    return s;
  }

  /** Samples of the last `seconds` (all kept when undefined), oldest first. */
  latest(seconds?: number): MonitorSample[] {
    if (seconds === undefined) return [...this.ring];
    const since = this.clock.now() - seconds * 1000;
    return this.ring.filter((s) => s.time_stamp > since);
  }

  /** The newest sample (one is taken if there is none yet). */
  current(): MonitorSample {
    return this.ring.at(-1) ?? this.sample();
  }
}
