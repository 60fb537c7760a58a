/**
 * The Prometheus exposition (`GET /api/v5/prometheus/stats`) with EMQX's metric names: every core
 * counter as `emqx_<name with _>` (`emqx_messages_received`, `emqx_messages_qos1_sent`,
 * `emqx_messages_dropped_no_subscribers`, ...) and every statistic as a gauge
 * (`emqx_connections_count`, `emqx_sessions_max`, ...), read at scrape time. One registry per
 * server: nothing global, so several brokers in one process do not mix.
 */
import { COUNTERS } from '@junction/broker-core';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AdminBroker } from './context.js';
import { STAT_NAMES, type StatsCollector, type StatsSnapshot } from './stats.js';

export const STAT_HELP: Readonly<Record<string, string>> = {
  connections: 'Connected clients',
  live_connections: 'Connected clients (EMQX: excluding those in a graceful shutdown)',
  channels: 'Client channels',
  sessions: 'Sessions, connected or not',
  subscriptions: 'Subscriptions',
  'subscriptions.shared': 'Shared subscriptions',
  suboptions: 'Subscription option records',
  subscribers: 'Clients with at least one subscription',
  topics: 'Distinct subscribed topic filters (routes)',
  retained: 'Retained messages',
};

export class PrometheusExporter {
  readonly registry = new Registry();
  private current: StatsSnapshot | undefined;

  constructor(
    broker: AdminBroker,
    private readonly stats: StatsCollector,
    opts: { processMetrics: boolean },
  ) {
    const r = [this.registry];
    const counters = broker.metrics.counters;
    for (const name of COUNTERS) {
      new Counter({
        name: `emqx_${name.replaceAll('.', '_')}`,
        help: `EMQX metric ${name}`,
        registers: r,
        collect() {
          this.reset();
          this.inc(counters[name]);
        },
      });
    }
    const self = this;
    for (const stat of STAT_NAMES) {
      const base = stat.slice(0, -'.count'.length);
      const help = STAT_HELP[base] ?? base;
      for (const suffix of ['count', 'max'] as const) {
        const key = `${base}.${suffix}` as keyof StatsSnapshot;
        new Gauge({
          name: `emqx_${base.replaceAll('.', '_')}_${suffix}`,
          help: suffix === 'count' ? `${help}: now` : `${help}: highest seen`,
          registers: r,
          collect() {
            this.set(self.current?.[key] ?? 0);
          },
        });
      }
    }
    new Gauge({ name: 'emqx_cluster_nodes_running', help: 'Nodes running in the cluster', registers: r, collect: function () { this.set(1); } });
    new Gauge({ name: 'emqx_cluster_nodes_stopped', help: 'Nodes stopped in the cluster', registers: r, collect: function () { this.set(0); } });
    new Gauge({
      name: 'emqx_uptime_seconds',
      help: 'Seconds since the broker started',
      registers: r,
      collect() {
        this.set(Math.floor((broker.clock.now() - broker.startedAt) / 1000));
      },
    });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition, statistics taken once for the whole scrape. */
  async render(): Promise<string> {
    // Concurrent scrapes may share the newer snapshot; both are current.
    this.current = await this.stats.snapshot();
    return this.registry.metrics();
  }

  close(): void {
    this.registry.clear();
  }
}
