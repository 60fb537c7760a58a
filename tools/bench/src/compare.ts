/**
 * Compare mode: several brokers, the same scenarios, alternating. For every scenario of every
 * round each broker is started fresh (its own process group; pinned to one CPU when the machine
 * has two or more, the tool itself pinned to the others), the tool waits for its port, runs the
 * scenario with the broker's pid (for its RSS and CPU), then stops it: SIGTERM to the group,
 * SIGKILL after 5 s. The brokers' order rotates from round to round so slow drifts of a shared
 * machine do not favour one of them. Raw results go to a JSON-lines file as they come; the
 * medians table is returned.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import type { BrokerSpec } from './args.js';
import { findListenerPid, isListening, pidsInGroup } from './procfs.js';
import { table } from './report.js';
import { runScenario, type BenchResult } from './runner.js';
import { resolveConfig, type RunConfig } from './scenarios.js';

export interface CompareOptions {
  brokers: BrokerSpec[];
  labels: string[];
  rounds: number;
  overrides: Partial<RunConfig>;
  /** raw JSON lines are appended here */
  out: string;
  /** broker logs */
  logsDir: string;
  /** pin brokers and the tool (default: when the machine has >= 2 CPUs and taskset exists) */
  pin?: boolean;
  brokerCpu?: string;
  toolCpus?: string;
  startupTimeout?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface StartedBroker {
  child: ChildProcess;
  pgid: number;
  pid: number;
}

/** Starts a broker in its own process group and waits until its port listens. */
export async function startBroker(b: BrokerSpec, o: { pinCpu?: string; log: string; timeoutS: number }): Promise<StartedBroker> {
  if (isListening(b.port)) throw new Error(`port ${b.port} is already in use: refusing to benchmark a process this tool did not start`);
  const fd = openSync(o.log, 'a');
  const argv = o.pinCpu !== undefined ? ['taskset', '-c', o.pinCpu, 'bash', '-c', `exec ${b.cmd}`] : ['bash', '-c', `exec ${b.cmd}`];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: b.cwd ?? process.cwd(), detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited: string | null = null;
  child.on('exit', (code, sig) => (exited = `exited (${sig ?? code}) during startup, see ${o.log}`));
  child.on('error', (e) => (exited = `could not start: ${e.message}`));
  const pgid = child.pid ?? 0;
  const deadline = Date.now() + o.timeoutS * 1000;
  while (!isListening(b.port)) {
    if (exited) throw new Error(`${b.name} ${exited}`);
    if (Date.now() > deadline) {
      await stopBroker({ child, pgid, pid: pgid }, b.port);
      throw new Error(`${b.name} did not listen on ${b.port} within ${o.timeoutS} s (see ${o.log})`);
    }
    await sleep(100);
  }
  // only the process that owns the listening socket is measured
  const pid = findListenerPid(b.port, pidsInGroup(pgid)) || pgid;
  await sleep(500);
  return { child, pgid, pid };
}

export async function stopBroker(s: StartedBroker, port: number): Promise<void> {
  if (!s.pgid) return;
  const gone = new Promise<void>((r) => (s.child.exitCode !== null || s.child.signalCode !== null ? r() : s.child.once('exit', () => r())));
  try {
    process.kill(-s.pgid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  for (let i = 0; i < 50 && groupAlive(s.pgid); i++) await sleep(100);
  try {
    process.kill(-s.pgid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await Promise.race([gone, sleep(2000)]);
  for (let i = 0; i < 50 && isListening(port); i++) await sleep(100);
}

export async function compare(o: CompareOptions): Promise<{ rows: BenchResult[]; table: string }> {
  const log = o.log ?? (() => {});
  // resolve every scenario once, so a bad label fails before anything starts
  for (const l of o.labels) resolveConfig(l, o.overrides);
  const ncpu = cpus().length;
  const pin = o.pin ?? (ncpu >= 2 && hasTaskset());
  const brokerCpu = o.brokerCpu ?? '0';
  const toolCpus = o.toolCpus ?? (ncpu > 2 ? `1-${ncpu - 1}` : '1');
  if (pin) {
    // all threads of this process; workers created later inherit it
    execFileSync('taskset', ['-a', '-cp', toolCpus, String(process.pid)], { stdio: 'ignore' });
    log(`brokers pinned to CPU ${brokerCpu}, the tool to CPU ${toolCpus}`);
  } else log(`not pinning (${ncpu} CPU${ncpu > 1 ? 's' : ''}${ncpu >= 2 ? ', no taskset' : ''})`);
  mkdirSync(dirname(o.out), { recursive: true });
  mkdirSync(o.logsDir, { recursive: true });

  const rows: BenchResult[] = [];
  const n = o.brokers.length;
  for (let round = 1; round <= o.rounds && !o.signal?.aborted; round++) {
    for (const label of o.labels) {
      for (let k = 0; k < n && !o.signal?.aborted; k++) {
        const b = o.brokers[(k + round - 1) % n]!;
        const meta = { round, broker_cpu: pin ? brokerCpu : '', tool_cpus: pin ? toolCpus : '' };
        const blog = join(o.logsDir, `broker-${b.name}-${label}-r${round}.log`);
        let row: BenchResult;
        let started: StartedBroker | null = null;
        try {
          started = await startBroker(b, { pinCpu: pin ? brokerCpu : undefined, log: blog, timeoutS: o.startupTimeout ?? 20 });
          log(`round ${round}/${o.rounds}: ${b.name} ${label} (broker pid ${started.pid})`);
          const cfg = resolveConfig(label, { ...o.overrides, broker: b.name, port: b.port, host: '127.0.0.1', brokerPid: started.pid, meta: { ...o.overrides.meta, ...meta } });
          row = await runScenario(cfg, { log, signal: o.signal });
          if (!groupAlive(started.pgid) || started.child.exitCode !== null) {
            row.ok = false;
            row.error = `broker died during the run (see ${blog})`;
            row.broker_died = true;
          }
        } catch (e) {
          row = { scenario: 'error', label, broker: b.name, ok: false, error: e instanceof Error ? e.message : String(e), ...o.overrides.meta, ...meta };
          log(`${b.name} ${label}: ${row.error}`);
        } finally {
          if (started) await stopBroker(started, b.port);
        }
        rows.push(row);
        appendFileSync(o.out, `${JSON.stringify(row)}\n`);
        if (row.ok) log(`  ${summaryLine(row)}`);
      }
    }
  }
  return { rows, table: table(rows, o.brokers.map((b) => b.name)) };
}

/** One human line for progress output. */
export function summaryLine(r: BenchResult): string {
  const lat = r.lat_us as { p50: number; p99: number } | undefined;
  if (r.scenario === 'conn') return `${r.connected} conns, ${r.connect_rate} conn/s, ${r.bytes_per_conn} B/conn`;
  if (r.scenario === 'subscribe') return `${r.subscriptions} subs, ${r.subscribe_rate} subs/s, ${r.bytes_per_sub} B/sub`;
  if (r.scenario === 'publish') return `${r.send_rate} msg/s sent, tool CPU ${r.tool_cpu_pct}%`;
  return `${r.recv_rate} msg/s delivered, lost ${r.lost}, dup ${r.duplicates}, ooo ${r.out_of_order}, p50 ${lat?.p50} µs, p99 ${lat?.p99} µs, tool CPU ${r.tool_cpu_pct}%`;
}
