/**
 * EMQX's statistics (`connections.count`, `sessions.max`, ...) from the core's `stats()` and the
 * client tracker. The `*.max` values are the highest seen by this process when asked (and, for
 * connections, at every connect).
 */
import type { AdminBroker } from './context.js';
import type { ClientTracker } from './client-tracker.js';

export const STAT_NAMES = [
  'connections.count',
  'live_connections.count',
  'channels.count',
  'sessions.count',
  'subscriptions.count',
  'subscriptions.shared.count',
  'suboptions.count',
  'subscribers.count',
  'topics.count',
  'retained.count',
] as const;

export type StatName = (typeof STAT_NAMES)[number];
export type StatMaxName = `${StatName extends `${infer B}.count` ? B : never}.max`;
export type StatsSnapshot = Record<StatName | StatMaxName, number>;

export class StatsCollector {
  private readonly max = new Map<string, number>();

  constructor(
    private readonly broker: AdminBroker,
    private readonly tracker: ClientTracker,
  ) {}

  async snapshot(): Promise<StatsSnapshot> {
    const st = this.broker.stats();
    const retained = st.retained >= 0 ? st.retained : await this.broker.retained.count();
    let shared = 0;
    const subscribers = new Set<string>();
    const topics = new Set<string>();
    for (const c of this.tracker.all()) {
      for (const f of c.subscriptions.keys()) {
        subscribers.add(c.clientid);
        topics.add(routeOf(f));
        if (f.startsWith('$share/') || f.startsWith('$queue/')) shared++;
      }
    }
    const counts: Record<StatName, number> = {
      'connections.count': st.connections,
      'live_connections.count': st.connections,
      'channels.count': st.connections,
      'sessions.count': st.sessions,
      'subscriptions.count': st.subscriptions,
      'subscriptions.shared.count': shared,
      'suboptions.count': st.subscriptions,
      'subscribers.count': subscribers.size,
      'topics.count': topics.size,
      'retained.count': retained,
    };
    const out: Record<string, number> = {};
    for (const name of STAT_NAMES) {
      const base = name.slice(0, -'.count'.length);
      const seen = Math.max(this.max.get(base) ?? 0, counts[name], base.endsWith('connections') || base === 'channels' ? this.tracker.maxConnections : 0);
      this.max.set(base, seen);
      out[name] = counts[name];
      out[`${base}.max`] = seen;
    }
    return out as StatsSnapshot;
  }
}

/** The route (topic filter) of a subscription: `$share/g/a/b` and `$queue/a/b` route `a/b`. */
export function routeOf(filter: string): string {
  if (filter.startsWith('$queue/')) return filter.slice('$queue/'.length);
  if (filter.startsWith('$share/')) {
    const rest = filter.slice('$share/'.length);
    const i = rest.indexOf('/');
    return i >= 0 ? rest.slice(i + 1) : rest;
  }
  return filter;
}
