/**
 * Scenarios and their parameters. A scenario is named by a label: a base scenario followed by
 * optional `_`-separated modifiers, so the labels of the shared C benchmark (`fanin_q0_16B`,
 * `fanout_q0_16B`, `latency_q1`, `conn_10k`) mean the same thing here:
 *
 *   base      publish | subscribe | fanin | fanout | pairs | latency | conn
 *   q0 q1 q2  QoS
 *   16B 1KiB  payload size (B, KiB/KB, MiB/MB, binary units; at least 16 bytes, the payload header)
 *   v4 v5     MQTT 3.1.1 (also v3, v311) or 5
 *   10k 1000  the scenario's scale: conn → connections, fanout → subscribers, fanin / publish →
 *             publishers, pairs → publisher/subscriber pairs, latency → messages per second,
 *             subscribe → topic filters per client
 *
 * Command-line flags override what the label sets.
 */
import type { MqttVersion, QoS } from './wire.js';

/** A scenario name or setting that makes no sense (a usage error, not a run failure). */
export class ScenarioError extends Error {}

export const BASE_SCENARIOS = ['publish', 'subscribe', 'fanin', 'fanout', 'pairs', 'latency', 'conn'] as const;
export type BaseScenario = (typeof BASE_SCENARIOS)[number];
export type SubMode = 'wild' | 'pertopic';

export interface RunConfig {
  scenario: BaseScenario;
  label: string;
  /** broker name copied into the result */
  broker: string;
  host: string;
  port: number;
  /** source address of the tool's connections (e.g. 127.0.0.2: each source address has its own ephemeral ports) */
  localAddress?: string;
  /** pub/sub scenarios: subscribers connect to this host instead of `host` */
  subHost?: string;
  /** pub/sub scenarios: subscribers connect to these ports instead of `port`, subscriber i to `subPorts[i % length]` (e.g. other cluster nodes) */
  subPorts?: number[];
  /** pub/sub scenarios: seconds to wait once every connection is ready (subscribed) before publishing, e.g. while a cluster spreads the subscriptions */
  startDelay?: number;
  mqtt: MqttVersion;
  qos: QoS;
  /** payload bytes (>= 16) */
  size: number;
  pubs: number;
  subs: number;
  subMode: SubMode;
  /** pub/sub: messages per publisher "in the system" (sent, not yet seen by all its subscribers), 0 = unbounded; subscribe: SUBSCRIBEs in flight per client */
  window: number;
  /** saturation: a publisher refills its window only when this many messages fit, so one write carries several (0 = window / 8) */
  batch: number;
  /** QoS 1/2: unacknowledged PUBLISHes per publisher */
  inflight: number;
  /** fixed total rate in messages/s, 0 = saturation */
  rate: number;
  warmup: number;
  duration: number;
  drainMax: number;
  drainIdle: number;
  setupTimeout: number;
  /** cap on messages over all publishers */
  count: number;
  conns: number;
  /** parallel handshakes */
  conc: number;
  keepalive: number;
  hold: number;
  settle: number;
  /** subscribe: topic filters per client */
  topics: number;
  /** worker threads, 0 = one per available core (at least two when pacing a fixed rate) */
  workers: number;
  prefix: string;
  /** read RSS and CPU of this process (0 = none) */
  brokerPid: number;
  /** per-connection pending-output high-water mark, bytes */
  outHigh: number;
  /** busy-poll instead of sleeping between paced sends */
  spin: boolean;
  /** subscribers keep persistent sessions (clean session 0; MQTT 5: clean start 0, session expiry 1 h) */
  persistent: boolean;
  /** extra members appended to the JSON result */
  meta?: Record<string, unknown>;
}

export const DEFAULTS: RunConfig = {
  scenario: 'fanin',
  label: 'fanin',
  broker: '',
  host: '127.0.0.1',
  port: 1883,
  mqtt: 4,
  qos: 0,
  size: 16,
  pubs: 8,
  subs: 1,
  subMode: 'wild',
  window: 64,
  batch: 0,
  inflight: 1000,
  rate: 0,
  warmup: 2,
  duration: 8,
  drainMax: 15,
  drainIdle: 2,
  setupTimeout: 60,
  count: 50_000_000,
  conns: 10_000,
  conc: 100,
  keepalive: 60,
  hold: 5,
  settle: 2,
  topics: 1000,
  workers: 0,
  prefix: 'bench',
  brokerPid: 0,
  outHigh: 65536,
  spin: false,
  persistent: false,
};

/** What each base scenario changes from DEFAULTS (the shared benchmark's settings). */
export const SCENARIO_DEFAULTS: Record<BaseScenario, Partial<RunConfig>> = {
  publish: { pubs: 8, subs: 0, window: 0 },
  subscribe: { pubs: 0, subs: 0, conns: 10, topics: 1000, window: 16 },
  fanin: { pubs: 8, subs: 1, subMode: 'wild', window: 64 },
  fanout: { pubs: 1, subs: 1000, subMode: 'pertopic', window: 4 },
  pairs: { pubs: 8, subs: 8, subMode: 'pertopic', window: 64 },
  latency: { pubs: 10, subs: 10, subMode: 'pertopic', rate: 5000, duration: 10 },
  conn: { pubs: 0, subs: 0, conns: 10_000, conc: 100, hold: 5, settle: 2 },
};

/** The scenarios of the shared benchmark (`../shared/bench/run-bench.sh`), in its order. */
export const SHARED_BENCH_LABELS = [
  'fanin_q0_16B',
  'fanin_q0_1KiB',
  'fanin_q1_16B',
  'fanin_q1_1KiB',
  'pairs_q0_16B',
  'fanout_q0_16B',
  'latency_q0',
  'latency_q1',
  'conn_10k',
];

const ALIASES: Record<string, BaseScenario> = {
  pub: 'publish',
  sub: 'subscribe',
  'fan-in': 'fanin',
  'fan-out': 'fanout',
  lat: 'latency',
  conns: 'conn',
  connections: 'conn',
};

function parseScale(tok: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(tok);
  if (!m) return null;
  const mul = m[2]!.toLowerCase() === 'k' ? 1000 : m[2]!.toLowerCase() === 'm' ? 1_000_000 : 1;
  return Math.round(Number(m[1]) * mul);
}

function parseSize(tok: string): number | null {
  // a size always ends in B (16B, 1KiB, 1KB, 1MiB), so "10k" stays a scale
  const m = /^(\d+(?:\.\d+)?)(B|KiB|KB|MiB|MB)$/i.exec(tok);
  if (!m) return null;
  const u = m[2]!.toLowerCase();
  const mul = u === 'b' ? 1 : u.startsWith('k') ? 1024 : 1024 * 1024;
  return Math.round(Number(m[1]) * mul);
}

/** The parameters a label sets (base scenario defaults plus its modifiers). */
export function parseLabel(label: string): Partial<RunConfig> & { scenario: BaseScenario; label: string } {
  const [head, ...mods] = label.split('_');
  const base = (ALIASES[head!.toLowerCase()] ?? head!.toLowerCase()) as BaseScenario;
  if (!BASE_SCENARIOS.includes(base)) throw new ScenarioError(`unknown scenario "${head}" in "${label}" (expected one of ${BASE_SCENARIOS.join(', ')})`);
  const out: Partial<RunConfig> & { scenario: BaseScenario; label: string } = { ...SCENARIO_DEFAULTS[base], scenario: base, label };
  for (const mod of mods) {
    const q = /^q([012])$/i.exec(mod);
    if (q) {
      out.qos = Number(q[1]) as QoS;
      continue;
    }
    const v = /^v(3|311|4|5)$/i.exec(mod);
    if (v) {
      out.mqtt = v[1] === '5' ? 5 : 4;
      continue;
    }
    const size = parseSize(mod);
    if (size !== null) {
      out.size = size;
      continue;
    }
    const scale = parseScale(mod);
    if (scale !== null) {
      switch (base) {
        case 'conn':
          out.conns = scale;
          break;
        case 'subscribe':
          out.topics = scale;
          break;
        case 'fanout':
          out.subs = scale;
          break;
        case 'fanin':
        case 'publish':
          out.pubs = scale;
          break;
        case 'pairs':
          out.pubs = scale;
          out.subs = scale;
          break;
        case 'latency':
          out.rate = scale;
          break;
      }
      continue;
    }
    throw new ScenarioError(`unknown modifier "${mod}" in scenario "${label}"`);
  }
  return out;
}

/** DEFAULTS, then the label's settings, then explicit overrides (command-line flags). */
export function resolveConfig(label: string, overrides: Partial<RunConfig> = {}): RunConfig {
  const cfg: RunConfig = { ...DEFAULTS, ...parseLabel(label) };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  validate(cfg);
  return cfg;
}

export function validate(c: RunConfig): void {
  const bad = (m: string) => {
    throw new ScenarioError(`${c.label}: ${m}`);
  };
  if (c.mqtt !== 4 && c.mqtt !== 5) bad('--mqtt must be 4 (3.1.1) or 5');
  if (![0, 1, 2].includes(c.qos)) bad('--qos must be 0, 1 or 2');
  if (!(c.size >= 16 && c.size <= 16 * 1024 * 1024)) bad('--size must be 16 B .. 16 MiB (the payload carries a 16-byte header)');
  if (c.inflight < 1 || c.inflight > 65000) bad('--inflight must be 1..65000');
  if (!(c.port > 0 && c.port < 65536)) bad('--port must be 1..65535');
  if (c.subPorts !== undefined && (c.subPorts.length === 0 || !c.subPorts.every((p) => Number.isInteger(p) && p > 0 && p < 65536))) bad('--sub-port must be one or more ports 1..65535');
  if (c.subHost !== undefined && c.subHost.trim() === '') bad('--sub-host must not be empty');
  if (c.localAddress !== undefined && c.localAddress.trim() === '') bad('--local-address must not be empty');
  if (c.startDelay !== undefined && !(c.startDelay >= 0)) bad('--start-delay must be >= 0');
  const pubsub = c.scenario !== 'conn' && c.scenario !== 'subscribe';
  if (pubsub) {
    if (c.pubs < 1) bad('needs at least one publisher');
    if (c.scenario !== 'publish' && c.subs < 1) bad('needs at least one subscriber');
    if (c.subMode === 'pertopic' && c.subs > 0 && c.subs < c.pubs) bad('per-topic subscriptions need subs >= pubs');
    if (!(c.duration > 0)) bad('--duration must be > 0');
    if (c.scenario === 'latency' && !(c.rate > 0)) bad('latency needs --rate > 0');
  } else if (c.conns < 1) bad('needs at least one connection');
  if (c.scenario === 'subscribe' && c.topics < 1) bad('--topics must be >= 1');
}

/** The scenario's kind, for reports: which metric is its headline. */
export type Kind = 'throughput' | 'publish' | 'latency' | 'conn' | 'subscribe';
export function kindOf(label: string): Kind {
  let base: string;
  try {
    base = parseLabel(label).scenario;
  } catch {
    base = label.split('_')[0]!;
  }
  if (base === 'latency') return 'latency';
  if (base === 'conn') return 'conn';
  if (base === 'subscribe') return 'subscribe';
  if (base === 'publish') return 'publish';
  return 'throughput';
}
