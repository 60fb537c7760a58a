/** Medians of several rounds per scenario and broker, as a Markdown table with ratios against the first broker. */
import { kindOf, type Kind } from './scenarios.js';
import type { BenchResult } from './runner.js';

/** [path in the result, row label] */
export const METRICS: Record<Kind, [string, string][]> = {
  throughput: [
    ['recv_rate', 'delivered msg/s'],
    ['lat_us.p50', 'p50 latency at saturation (µs)'],
    ['lat_us.p99', 'p99 latency at saturation (µs)'],
    ['broker_cpu_pct', 'broker CPU %'],
    ['tool_cpu_pct', 'tool CPU %'],
    ['broker_hwm_kb', 'broker peak RSS (MiB)'],
  ],
  publish: [
    ['send_rate', 'published msg/s'],
    ['ack_rate', 'acknowledged msg/s'],
    ['broker_cpu_pct', 'broker CPU %'],
    ['tool_cpu_pct', 'tool CPU %'],
  ],
  latency: [
    ['lat_us.p50', 'p50 µs'],
    ['lat_us.p90', 'p90 µs'],
    ['lat_us.p99', 'p99 µs'],
    ['lat_us.p999', 'p99.9 µs'],
    ['lat_us.max', 'max µs'],
    ['send_lag_us.p99', 'tool send-lag p99 µs'],
    ['broker_cpu_pct', 'broker CPU %'],
  ],
  conn: [
    ['connect_rate', 'connects/s'],
    ['bytes_per_conn', 'RSS bytes/conn'],
    ['rss_after_kb', 'RSS with conns (MiB)'],
    ['connect_lat_us.p99', 'connect p99 µs'],
    ['connected', 'connected'],
  ],
  subscribe: [
    ['subscribe_rate', 'subscriptions/s'],
    ['bytes_per_sub', 'RSS bytes/subscription'],
    ['suback_lat_us.p99', 'SUBACK p99 µs'],
  ],
};

export function get(r: BenchResult, path: string): number | undefined {
  let cur: unknown = r;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(p in cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return typeof cur === 'number' && cur >= 0 ? cur : undefined;
}

export function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}

export function fmt(v: number | undefined, path: string): string {
  if (v === undefined) return '–';
  if (path.endsWith('_kb')) return (v / 1024).toFixed(1);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(1);
}

/** The Markdown table: one row per scenario and metric, one column per broker, then ratios. */
export function table(rows: BenchResult[], brokerOrder?: string[]): string {
  const brokers = brokerOrder ?? [...new Set(rows.map((r) => String(r.broker)))];
  const labels = [...new Set(rows.map((r) => String(r.label)))];
  const base = brokers[0]!;
  const hdr = ['scenario', 'metric', ...brokers, ...brokers.slice(1).map((b) => `${b}/${base}`)];
  const lines = [`| ${hdr.join(' | ')} |`, `|${['---', '---', ...hdr.slice(2).map(() => '---:')].join('|')}|`];
  for (const label of labels) {
    const per = new Map(brokers.map((b) => [b, rows.filter((r) => r.label === label && r.broker === b)]));
    for (const [path, name] of METRICS[kindOf(label)]) {
      const med = new Map(brokers.map((b) => [b, median(per.get(b)!.filter((r) => r.ok).map((r) => get(r, path)).filter((x): x is number => x !== undefined))]));
      const cells = [label, name, ...brokers.map((b) => fmt(med.get(b), path))];
      for (const b of brokers.slice(1)) {
        const v = med.get(b);
        const bv = med.get(base);
        cells.push(v !== undefined && bv ? (v / bv).toFixed(2) : '–');
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
    const check = [label, 'runs ok / lost / dup / out of order'];
    for (const b of brokers) {
      const rs = per.get(b)!;
      const n = (k: string) => rs.reduce((a, r) => a + (typeof r[k] === 'number' ? (r[k] as number) : 0), 0);
      check.push(`${rs.filter((r) => r.ok).length}/${rs.length} / ${n('lost')} / ${n('duplicates')} / ${n('out_of_order')}`);
    }
    for (let i = 1; i < brokers.length; i++) check.push('');
    lines.push(`| ${check.join(' | ')} |`);
  }
  const failures = rows.filter((r) => !r.ok);
  if (failures.length) {
    lines.push('', 'Failed runs:');
    for (const r of failures) lines.push(`- ${r.label} ${r.broker}${r.round !== undefined ? ` round ${r.round}` : ''}: ${r.error}`);
  }
  const bound = rows.filter((r) => r.tool_bound === true);
  if (bound.length) {
    lines.push('', `The tool used all the CPU it had in ${bound.length} run(s) (tool_bound): those figures may measure the tool, not the broker.`);
  }
  return lines.join('\n');
}
