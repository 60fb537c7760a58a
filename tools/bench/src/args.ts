/** Command-line parsing: run flags onto RunConfig overrides, compare's broker specs. */
import type { RunConfig } from './scenarios.js';
import type { MqttVersion, QoS } from './wire.js';

export class UsageError extends Error {}

type Conv = (v: string, flag: string) => unknown;
const num: Conv = (v, flag) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${v}"`);
  return n;
};
const int: Conv = (v, flag) => {
  const s = v.trim().toLowerCase();
  const m = /^(\d+(?:\.\d+)?)([km]?)$/.exec(s);
  if (!m) throw new UsageError(`${flag}: expected an integer (10000, 10k), got "${v}"`);
  return Math.round(Number(m[1]) * (m[2] === 'k' ? 1000 : m[2] === 'm' ? 1e6 : 1));
};
const size: Conv = (v, flag) => {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|KB|K|MiB|MB|M)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`${flag}: expected a size (16, 1KiB), got "${v}"`);
  const u = (m[2] ?? 'b').toLowerCase();
  return Math.round(Number(m[1]) * (u === 'b' ? 1 : u.startsWith('k') ? 1024 : 1024 * 1024));
};
const mqtt: Conv = (v, flag) => {
  if (['4', '3.1.1', '311', 'v4'].includes(v)) return 4 as MqttVersion;
  if (['5', '5.0', 'v5'].includes(v)) return 5 as MqttVersion;
  throw new UsageError(`${flag}: expected 4 (3.1.1) or 5, got "${v}"`);
};
const qos: Conv = (v, flag) => {
  if (!['0', '1', '2'].includes(v)) throw new UsageError(`${flag}: expected 0, 1 or 2, got "${v}"`);
  return Number(v) as QoS;
};
const subMode: Conv = (v, flag) => {
  if (v !== 'wild' && v !== 'pertopic') throw new UsageError(`${flag}: expected wild or pertopic`);
  return v;
};
const str: Conv = (v) => v;
/** `1884` or `1884,1885`: a list of ports */
const ports: Conv = (v, flag) => {
  const parts = v.split(',').map((x) => x.trim());
  if (!parts.every((x) => /^\d+$/.test(x))) throw new UsageError(`${flag}: expected a port or a comma-separated list of ports, got "${v}"`);
  return parts.map(Number);
};

/** flag -> [RunConfig key, converter] */
export const RUN_FLAGS: Record<string, [keyof RunConfig, Conv]> = {
  host: ['host', str],
  'local-address': ['localAddress', str],
  port: ['port', int],
  'sub-host': ['subHost', str],
  'sub-port': ['subPorts', ports],
  'start-delay': ['startDelay', num],
  mqtt: ['mqtt', mqtt],
  qos: ['qos', qos],
  size: ['size', size],
  pubs: ['pubs', int],
  subs: ['subs', int],
  'sub-mode': ['subMode', subMode],
  window: ['window', int],
  batch: ['batch', int],
  inflight: ['inflight', int],
  rate: ['rate', int],
  warmup: ['warmup', num],
  duration: ['duration', num],
  'drain-max': ['drainMax', num],
  'drain-idle': ['drainIdle', num],
  'setup-timeout': ['setupTimeout', num],
  count: ['count', int],
  conns: ['conns', int],
  conc: ['conc', int],
  keepalive: ['keepalive', int],
  hold: ['hold', num],
  settle: ['settle', num],
  topics: ['topics', int],
  workers: ['workers', int],
  prefix: ['prefix', str],
  'out-high': ['outHigh', size],
};

export interface Parsed {
  positional: string[];
  overrides: Partial<RunConfig>;
  /** other --flags, by name (repeatable ones as arrays) */
  flags: Map<string, string[]>;
  /** compare: --broker specs, each the key=value tokens that followed it */
  brokerSpecs: string[][];
}

/** Flags that take no value. */
const BOOLEAN = new Set(['spin', 'persistent', 'verbose', 'v', 'no-pin', 'help', 'h', 'quiet']);
/** Flags that take a value but are not RunConfig fields. */
const VALUED = new Set(['out', 'label', 'broker', 'broker-pid', 'meta', 'scenarios', 'rounds', 'broker-cpu', 'tool-cpus', 'startup-timeout', 'logs']);

export function parseArgs(argv: string[], opts: { brokerSpecs?: boolean } = {}): Parsed {
  const out: Parsed = { positional: [], overrides: {}, flags: new Map(), brokerSpecs: [] };
  const addFlag = (k: string, v: string) => out.flags.set(k, [...(out.flags.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (!tok.startsWith('-') || tok === '-') {
      out.positional.push(tok);
      continue;
    }
    let name = tok.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (opts.brokerSpecs && name === 'broker' && value === undefined) {
      const spec: string[] = [];
      while (i + 1 < argv.length && /^[a-z_]+=/.test(argv[i + 1]!)) spec.push(argv[++i]!);
      if (spec.length === 0) throw new UsageError('--broker: expected name=... port=... cmd=... [cwd=...]');
      out.brokerSpecs.push(spec);
      continue;
    }
    if (BOOLEAN.has(name)) {
      if (name === 'spin') out.overrides.spin = true;
      if (name === 'persistent') out.overrides.persistent = true;
      else addFlag(name, value ?? 'true');
      continue;
    }
    const needValue = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`);
      return argv[++i]!;
    };
    const rf = RUN_FLAGS[name];
    if (rf) {
      (out.overrides as Record<string, unknown>)[rf[0]] = rf[1](needValue(), `--${name}`);
      continue;
    }
    if (VALUED.has(name)) {
      addFlag(name, needValue());
      continue;
    }
    throw new UsageError(`unknown option --${name}`);
  }
  return out;
}

export interface BrokerSpec {
  name: string;
  port: number;
  cmd: string;
  cwd?: string;
}

/** `name=mosquitto port=18831 cmd='mosquitto -c m.conf' [cwd=DIR]` */
export function parseBrokerSpec(tokens: string[]): BrokerSpec {
  const kv: Record<string, string> = {};
  for (const t of tokens) {
    const eq = t.indexOf('=');
    const k = t.slice(0, eq);
    if (!['name', 'port', 'cmd', 'cwd'].includes(k)) throw new UsageError(`--broker: unknown key "${k}" (name, port, cmd, cwd)`);
    kv[k] = t.slice(eq + 1);
  }
  if (!kv.name || !kv.port || !kv.cmd) throw new UsageError(`--broker ${tokens.join(' ')}: name=, port= and cmd= are required`);
  const port = Number(kv.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--broker ${kv.name}: bad port "${kv.port}"`);
  return { name: kv.name, port, cmd: kv.cmd, ...(kv.cwd ? { cwd: kv.cwd } : {}) };
}

export function lastFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return v ? v[v.length - 1] : undefined;
}
