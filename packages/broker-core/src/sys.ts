import type { BrokerCore } from './broker.js';

export const VERSION = '0.1.0';

export interface SysOptions {
  /** Milliseconds between `$SYS` publications; 0 disables them. EMQX default: 1 minute. */
  intervalMs: number;
  sysdescr?: string;
}

/**
 * Publishes `$SYS/brokers/{node}/…` as EMQX does: version and sysdescr (retained), uptime,
 * datetime, stats and metrics, every interval.
 */
export class SysPublisher {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: BrokerCore,
    private readonly opts: SysOptions,
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    const base = `$SYS/brokers/${this.broker.nodeName}`;
    this.put(`${base}/version`, VERSION, true);
    this.put(`${base}/sysdescr`, this.opts.sysdescr ?? 'Junction MQTT broker', true);
    this.publishStats();
    this.timer = setInterval(() => this.publishStats(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of `$SYS` messages (also used by tests). */
  publishStats(): void {
    const b = this.broker;
    const base = `$SYS/brokers/${b.nodeName}`;
    const st = b.stats();
    const c = b.metrics.counters;
    const uptimeS = Math.floor((b.clock.now() - b.startedAt) / 1000);
    this.put(`${base}/uptime`, String(uptimeS));
    this.put(`${base}/datetime`, new Date(b.clock.now()).toISOString());
    this.put(`${base}/stats/connections/count`, String(st.connections));
    this.put(`${base}/stats/sessions/count`, String(st.sessions));
    this.put(`${base}/stats/subscriptions/count`, String(st.subscriptions));
    this.put(`${base}/stats/retained/count`, String(st.retained));
    for (const name of ['messages.received', 'messages.sent', 'messages.dropped', 'messages.retained', 'bytes.received', 'bytes.sent', 'packets.received', 'packets.sent'] as const) {
      this.put(`${base}/metrics/${name.replaceAll('.', '/')}`, String(c[name]));
    }
  }

  private put(topic: string, value: string, retain = false): void {
    this.broker.publish({ topic, payload: Buffer.from(value), qos: 0, retain }, { clientId: '$sys', protocol: '$sys' });
  }
}
