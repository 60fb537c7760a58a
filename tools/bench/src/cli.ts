#!/usr/bin/env -S node --import tsx
/**
 * junction-bench: Junction's MQTT benchmark.
 *
 *   node --import tsx tools/bench/src/cli.ts run fanin_q0_16B --port 1883
 *   node --import tsx tools/bench/src/cli.ts compare --broker name=... port=... cmd=... --broker ... --scenarios ... --rounds 3
 */
import { appendFileSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastFlag, parseArgs, parseBrokerSpec, UsageError, type Parsed } from './args.js';
import { compare, summaryLine } from './compare.js';
import { findListenerPid } from './procfs.js';
import { table } from './report.js';
import { runScenario, type BenchResult } from './runner.js';
import { BASE_SCENARIOS, DEFAULTS, resolveConfig, SCENARIO_DEFAULTS, ScenarioError, SHARED_BENCH_LABELS, type RunConfig } from './scenarios.js';

const USAGE = `usage: junction-bench <command> [options]

  run <scenario>[,<scenario>...]   run scenarios against a running broker; one JSON line each
  compare --broker name=N port=P cmd='CMD' [cwd=DIR] --broker ... --scenarios a,b [--rounds 3]
                                   start each broker in turn, alternating, and print a table
  report FILE.jsonl                the medians table of a results file
  list                             the scenarios and their defaults

Scenarios: a base name and optional modifiers joined by "_":
  publish | subscribe | fanin | fanout | pairs | latency | conn
  q0 q1 q2 (QoS)   16B 1KiB (payload)   v4 v5 (MQTT)   10k (scale: conn → connections,
  fanout → subscribers, fanin/publish → publishers, pairs → pairs, latency → msg/s,
  subscribe → filters per client).  e.g. fanin_q1_1KiB, fanout_q0_16B_1k, latency_q1_v5, conn_10k
  The shared benchmark's set: ${SHARED_BENCH_LABELS.join(',')}

Options (override the scenario's settings):
  --host H --port N           broker (127.0.0.1:1883)
  --local-address A           source address of the connections (each has its own ephemeral
                              ports: several runs from 127.0.0.2, .3 ... open more than ~28k;
                              see conn-many.sh). Slows the tool's connects (the kernel searches
                              a free port at each bind): not for connect rates
  --sub-port N[,N...] --sub-host H
                              pub/sub scenarios: subscribers connect there instead, subscriber i
                              to the (i mod count)-th port, e.g. other nodes of a cluster (run only)
  --start-delay S             pub/sub scenarios: wait S s after subscribing before publishing (0)
  --mqtt 4|5  --qos 0|1|2  --size 16|1KiB
  --pubs N --subs N --sub-mode wild|pertopic
  --window N                  messages per publisher in flight end to end (0 = unbounded);
                              subscribe: SUBSCRIBEs in flight per client
  --batch N                   at saturation, refill a publisher's window only when N messages
                              fit, sent in one write (default window/8; 1 = as mqttload)
  --inflight N                QoS 1/2 unacknowledged PUBLISHes per publisher (1000)
  --rate R                    fixed total msgs/s (0 = saturation)
  --warmup S --duration S     (2 / 8; latency 10)
  --drain-max S --drain-idle S --setup-timeout S --count N
  --conns N --conc N --hold S --settle S --keepalive S --topics N
  --workers N                 load worker threads (default: one per available CPU, max 8)
  --prefix T                  topic prefix (bench)
  --spin                      busy-poll between paced sends instead of sleeping
  --persistent                subscribers keep persistent sessions (clean 0; MQTT 5: session expiry 1 h)
  --broker NAME               name copied into the results (run)
  --broker-pid PID|auto       read this process's RSS and CPU (auto: the port's listener)
  --label L                   result label (run, one scenario)
  --out FILE                  also append the JSON lines to FILE
  --meta JSON                 members added to each result, e.g. '{"machine":"ci"}'
  -v, --verbose               progress on stderr
compare only:
  --rounds N (3)  --out FILE.jsonl (bench-results/compare-<time>.jsonl)  --logs DIR
  --broker-cpu C (0)  --tool-cpus LIST (the other CPUs)  --no-pin  --startup-timeout S (20)
`;

function splitLabels(xs: string[]): string[] {
  return xs.flatMap((x) => x.split(',')).map((s) => s.trim()).filter(Boolean).flatMap((s) => (s === 'shared' || s === 'all' ? SHARED_BENCH_LABELS : [s]));
}

function metaOf(p: Parsed): Record<string, unknown> | undefined {
  const m = lastFlag(p, 'meta');
  if (!m) return undefined;
  try {
    const v = JSON.parse(m);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* below */
  }
  throw new UsageError('--meta: expected a JSON object');
}

async function cmdRun(argv: string[]): Promise<number> {
  const p = parseArgs(argv);
  const labels = splitLabels(p.positional);
  if (labels.length === 0) throw new UsageError('run: which scenario? (junction-bench list)');
  const verbose = p.flags.has('verbose') || p.flags.has('v');
  const log = verbose ? (l: string) => process.stderr.write(`[junction-bench] ${l}\n`) : undefined;
  const out = lastFlag(p, 'out');
  const label = lastFlag(p, 'label');
  if (label && labels.length > 1) throw new UsageError('--label applies to one scenario');
  const meta = metaOf(p);
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  let okAll = true;
  try {
    for (const [i, l] of labels.entries()) {
      if (ac.signal.aborted) break;
      const overrides: Partial<RunConfig> = { ...p.overrides, broker: lastFlag(p, 'broker') ?? '', meta };
      const cfg = resolveConfig(l, overrides);
      if (label) cfg.label = label;
      const bp = lastFlag(p, 'broker-pid');
      if (bp === 'auto') {
        cfg.brokerPid = findListenerPid(cfg.port);
        if (!cfg.brokerPid) process.stderr.write(`[junction-bench] no visible process listens on ${cfg.port}: broker RSS/CPU not measured\n`);
      } else if (bp) cfg.brokerPid = Number(bp);
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      const r: BenchResult = await runScenario(cfg, { log, signal: ac.signal });
      const line = JSON.stringify(r);
      process.stdout.write(`${line}\n`);
      if (out) appendFileSync(out, `${line}\n`);
      if (log) log(summaryLine(r));
      if (!r.ok) okAll = false;
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
  return okAll ? 0 : 1;
}

async function cmdCompare(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { brokerSpecs: true });
  if (p.brokerSpecs.length === 0) throw new UsageError('compare: at least one --broker name=... port=... cmd=...');
  if (p.overrides.subPorts !== undefined || p.overrides.subHost !== undefined) throw new UsageError('compare: --sub-port and --sub-host apply to run only');
  const brokers = p.brokerSpecs.map(parseBrokerSpec);
  const names = new Set(brokers.map((b) => b.name));
  if (names.size !== brokers.length) throw new UsageError('compare: broker names must differ');
  const labels = splitLabels([...(p.flags.get('scenarios') ?? []), ...p.positional]);
  if (labels.length === 0) throw new UsageError('compare: --scenarios a,b,c (or "shared" for the shared benchmark\'s set)');
  const rounds = Number(lastFlag(p, 'rounds') ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new UsageError('--rounds must be a positive integer');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const out = lastFlag(p, 'out') ?? join('bench-results', `compare-${stamp}.jsonl`);
  const logsDir = lastFlag(p, 'logs') ?? join(dirname(out), 'logs');
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  const log = p.flags.has('quiet') ? undefined : (l: string) => process.stderr.write(`[junction-bench ${new Date().toTimeString().slice(0, 8)}] ${l}\n`);
  const meta = metaOf(p);
  const startup = lastFlag(p, 'startup-timeout');
  const res = await compare({
    brokers,
    labels,
    rounds,
    overrides: { ...p.overrides, ...(meta ? { meta } : {}) },
    out,
    logsDir,
    pin: p.flags.has('no-pin') ? false : undefined,
    brokerCpu: lastFlag(p, 'broker-cpu'),
    toolCpus: lastFlag(p, 'tool-cpus'),
    startupTimeout: startup ? Number(startup) : undefined,
    log,
    signal: ac.signal,
  });
  process.off('SIGINT', onSig);
  process.off('SIGTERM', onSig);
  process.stdout.write(`${res.table}\n\nRaw results: ${out}\n`);
  if (ac.signal.aborted) return 130;
  return res.rows.every((r) => r.ok) ? 0 : 1;
}

function cmdReport(argv: string[]): number {
  const p = parseArgs(argv);
  if (p.positional.length === 0) throw new UsageError('report FILE.jsonl');
  const rows = p.positional.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as BenchResult),
  );
  process.stdout.write(`${table(rows)}\n`);
  return 0;
}

function cmdList(): number {
  const lines = ['scenario   defaults (over the common ones)'];
  for (const s of BASE_SCENARIOS) lines.push(`${s.padEnd(10)} ${JSON.stringify(SCENARIO_DEFAULTS[s])}`);
  const { scenario: _s, label: _l, broker: _b, meta: _m, ...common } = DEFAULTS;
  lines.push('', `common: ${JSON.stringify(common)}`, '', `shared benchmark set: ${SHARED_BENCH_LABELS.join(',')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'run':
        return await cmdRun(rest);
      case 'compare':
        return await cmdCompare(rest);
      case 'report':
        return cmdReport(rest);
      case 'list':
        return cmdList();
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ScenarioError) {
      process.stderr.write(`junction-bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function isMain(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`junction-bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
