/**
 * Runs one scenario: spreads its connections over worker threads, drives the phases (connect,
 * warm-up, measure, drain), samples the tool's own CPU, the broker's CPU and memory and the
 * machine's load around the measured interval, and folds the workers' results into one JSON
 * object shaped like mqttload's.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowNs } from './clock.js';
import { Histogram } from './histogram.js';
import { CTL, PHASE, WSTAT, type FromWorker, type SharedBuffers, type ToWorker, type WorkerInit, type WorkerResult } from './protocol.js';
import { cpuBusy, readCpuStat, readProcCpuS, readStatusKb, type CpuStat } from './procfs.js';
import type { RunConfig } from './scenarios.js';

export type BenchResult = Record<string, unknown>;

export interface RunOptions {
  /** progress lines (stderr in the CLI) */
  log?: (line: string) => void;
  /** aborts the run early (the result then has ok: false) */
  signal?: AbortSignal;
}

export interface Plan {
  workers: { subs: number[]; pubs: number[]; conns: number[] }[];
  nsubsOf: number[];
}

const TWO32 = 4294967296;
const mod32 = (a: number) => ((a % TWO32) + TWO32) % TWO32;

/**
 * Which worker owns which connection. Subscribers and publishers go to separate workers when
 * there are two or more (the receiving side of a fan-in is the hot one), and always at a fixed
 * rate: the pacing worker sleeps between sends, which must never delay a subscriber's reads.
 */
export function planWorkers(cfg: RunConfig, cores = availableParallelism()): Plan {
  const avail = cfg.workers > 0 ? cfg.workers : Math.max(1, Math.min(8, cores));
  const nsubsOf = new Array<number>(cfg.pubs).fill(0);
  if (cfg.scenario === 'conn' || cfg.scenario === 'subscribe') {
    const n = Math.max(1, Math.min(avail, cfg.conns));
    const workers = Array.from({ length: n }, () => ({ subs: [] as number[], pubs: [] as number[], conns: [] as number[] }));
    for (let i = 0; i < cfg.conns; i++) workers[i % n]!.conns.push(i);
    return { workers, nsubsOf };
  }
  for (let s = 0; s < cfg.subs; s++) {
    if (cfg.subMode === 'wild') for (let p = 0; p < cfg.pubs; p++) nsubsOf[p]!++;
    else nsubsOf[s % cfg.pubs]!++;
  }
  const P = cfg.pubs;
  const S = cfg.subs;
  let recvW = 0;
  let sendW: number;
  if (S === 0) sendW = Math.max(1, Math.min(avail, P));
  else {
    const W = cfg.rate > 0 ? Math.max(2, avail) : avail;
    if (W === 1) {
      const w = { subs: [] as number[], pubs: [] as number[], conns: [] as number[] };
      for (let s = 0; s < S; s++) w.subs.push(s);
      for (let p = 0; p < P; p++) w.pubs.push(p);
      return { workers: [w], nsubsOf };
    }
    recvW = Math.min(S, W - 1, Math.max(1, Math.round((W * S) / (S + P))));
    sendW = Math.max(1, Math.min(P, W - recvW));
  }
  const workers = Array.from({ length: recvW + sendW }, () => ({ subs: [] as number[], pubs: [] as number[], conns: [] as number[] }));
  for (let s = 0; s < S; s++) workers[s % recvW]!.subs.push(s);
  for (let p = 0; p < P; p++) workers[recvW + (p % sendW)]!.pubs.push(p);
  return { workers, nsubsOf };
}

const workerEntry = (() => {
  const here = fileURLToPath(import.meta.url);
  return new URL(`./worker${extname(here)}`, import.meta.url).href;
})();
const bootUrl = new URL('./boot.mjs', import.meta.url);

interface Sample {
  t: number;
  recv: number;
  uniq: number;
  sent: number;
  acked: number;
  cpu: NodeJS.CpuUsage;
  brokerCpu: number;
  cs: CpuStat;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A timer that does not keep the process alive (timeouts that usually never fire). */
const sleepUnref = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export async function runScenario(cfg: RunConfig, opts: RunOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const plan = planWorkers(cfg);
  const W = plan.workers.length;
  const shared: SharedBuffers = {
    ctl: new SharedArrayBuffer(4 * CTL.SIZE),
    pubSent: new SharedArrayBuffer(4 * Math.max(1, cfg.pubs)),
    pubPos: new SharedArrayBuffer(4 * Math.max(1, cfg.pubs)),
    wstat: new SharedArrayBuffer(4 * WSTAT.SIZE * W),
  };
  const ctl = new Int32Array(shared.ctl);
  const pubSent = new Uint32Array(shared.pubSent);
  const pubPos = new Uint32Array(shared.pubPos);
  const wstat = new Uint32Array(shared.wstat);
  const tag = randomBytes(3).toString('hex');
  const pid = cfg.brokerPid;
  const tWall0 = nowNs();
  const cpuRun0 = process.cpuUsage();

  let error = '';
  let onFail: () => void = () => {};
  const failed = new Promise<void>((r) => (onFail = r));
  const setError = (reason: string) => {
    if (!error) {
      error = reason;
      log(`${cfg.label}: FAIL ${reason}`);
    }
    onFail();
  };
  const abort = () => setError('interrupted');
  opts.signal?.addEventListener('abort', abort, { once: true });
  const wait = (ms: number) => Promise.race([sleep(ms), failed]);

  const waiters = new Map<string, { want: number; got: FromWorker[]; done: () => void }>();
  const results: WorkerResult[] = [];
  const gather = (type: string, want = W) =>
    new Promise<FromWorker[]>((resolve) => {
      const w = { want, got: [] as FromWorker[], done: () => resolve(w.got) };
      waiters.set(type, w);
    });
  // a worker is settled once it reported its result or died
  const settled = new Set<number>();
  let onAllSettled: () => void = () => {};
  const allSettled = new Promise<void>((r) => (onAllSettled = r));
  const settle = (i: number) => {
    settled.add(i);
    if (settled.size === W) onAllSettled();
  };
  const onMessage = (m: FromWorker) => {
    if (m.type === 'fail') return setError(m.reason);
    if (m.type === 'result') {
      results.push(m);
      settle(m.index);
    }
    const w = waiters.get(m.type);
    if (w) {
      w.got.push(m);
      if (w.got.length >= w.want) {
        waiters.delete(m.type);
        w.done();
      }
    }
  };

  const rssStart = readStatusKb(pid, 'VmRSS');
  const booted = gather('booted');
  const exits: Promise<void>[] = [];
  const workers: Worker[] = plan.workers.map((part, index) => {
    const init: WorkerInit = {
      entry: workerEntry,
      index,
      cfg: { ...cfg, meta: undefined },
      subs: part.subs,
      pubs: part.pubs,
      conns: part.conns,
      conc: Math.max(1, Math.ceil(cfg.conc / W)),
      nsubsOf: plan.nsubsOf,
      tag,
      shared,
    };
    const w = new Worker(bootUrl, { workerData: init });
    w.on('message', onMessage);
    w.on('error', (e) => setError(`worker ${index}: ${e instanceof Error ? e.message : String(e)}`));
    exits.push(new Promise<void>((r) => w.once('exit', () => r())));
    w.on('exit', (code) => {
      if (!results.some((r) => r.index === index)) setError(`worker ${index} exited (${code}) before reporting`);
      settle(index);
    });
    return w;
  });
  const send = (m: ToWorker) => workers.forEach((w) => w.postMessage(m));
  const timers: NodeJS.Timeout[] = [];
  const timeout = (s: number, what: string) =>
    new Promise<void>((r) => {
      const t = setTimeout(() => {
        setError(`${what} timeout (${s} s)`);
        r();
      }, s * 1000);
      t.unref();
      timers.push(t);
    });
  /** `stage` within `s` seconds (else the run fails with a timeout error), whichever settles first of it and a failure. */
  const within = async <T>(stage: Promise<T>, s: number, what: string): Promise<void> => {
    const n = timers.length;
    await Promise.race([stage, failed, timeout(s, what)]);
    clearTimeout(timers[n]);
  };

  const out: BenchResult = {};
  let workersOut: WorkerResult[] = [];
  let finished = false;
  const finishWorkers = async () => {
    if (finished) return;
    finished = true;
    Atomics.store(ctl, CTL.PHASE, PHASE.DONE);
    send({ type: 'finish' });
    const tf = nowNs();
    await Promise.race([allSettled, sleepUnref(15_000)]);
    workersOut = [...results].sort((a, b) => a.index - b.index);
    // each worker sends DISCONNECT, waits for its sockets to close, then exits by itself
    await Promise.race([Promise.all(exits), sleepUnref(3000)]);
    log(`${cfg.label}: workers finished in ${((nowNs() - tf) / 1e6).toFixed(0)} ms`);
    await Promise.all(workers.map((w) => w.terminate().catch(() => 0)));
  };

  try {
    await within(booted, 30, 'worker start');
    const ready = gather('ready');
    const cpuSetup0 = process.cpuUsage();
    const bcpuSetup0 = readProcCpuS(pid);
    const csSetup0 = readCpuStat();
    const tSetup0 = nowNs();
    if (!error) {
      log(`${cfg.label}: ${W} worker(s), connecting`);
      send({ type: 'connect' });
      await within(ready, cfg.setupTimeout, 'setup');
    }
    const readies = (await Promise.race([ready, Promise.resolve([] as FromWorker[])])) as Extract<FromWorker, { type: 'ready' }>[];
    const tReady = readies.length ? Math.max(...readies.map((r) => r.t)) : nowNs();
    const connected = readies.reduce((a, r) => a + r.connected, 0);

    if (cfg.scenario === 'conn') {
      const connectS = (tReady - tSetup0) / 1e9;
      if (!error) log(`${cfg.label}: ${connected} connected in ${connectS.toFixed(3)} s, holding ${cfg.hold} s`);
      if (!error) await wait(cfg.hold * 1000);
      const ht = (nowNs() - tSetup0) / 1e9;
      const cpu = process.cpuUsage(cpuSetup0);
      const bcpu = readProcCpuS(pid);
      const cs = cpuBusy(csSetup0, readCpuStat());
      const rssAfter = readStatusKb(pid, 'VmRSS');
      const hwmAfter = readStatusKb(pid, 'VmHWM');
      await finishWorkers();
      if (pid > 0 && cfg.settle > 0) await sleep(cfg.settle * 1000);
      const rssClosed = readStatusKb(pid, 'VmRSS');
      const connLat = new Histogram();
      for (const r of workersOut) connLat.merge(r.connLat);
      if (!error && connected < cfg.conns) error = `${cfg.conns - connected} of ${cfg.conns} connections failed`;
      Object.assign(out, head(cfg, error, W), {
        conns: cfg.conns,
        connected,
        conc: cfg.conc,
        keepalive: cfg.keepalive,
        connect_s: round3(connectS),
        connect_rate: connectS > 0 ? round1(connected / connectS) : 0,
        connect_lat_us: connLat.summary(),
        rss_before_kb: rssStart,
        rss_after_kb: rssAfter,
        hwm_after_kb: hwmAfter,
        rss_closed_kb: rssClosed,
        bytes_per_conn: rssStart >= 0 && rssAfter >= 0 && connected > 0 ? Math.round(((rssAfter - rssStart) * 1024) / connected) : -1,
        pingresp: sum(workersOut, (r) => r.counters.pingresp),
        ...toolCpu(cpu, ht, W),
        broker_cpu_pct: pid > 0 && bcpu >= 0 && bcpuSetup0 >= 0 ? round1((100 * (bcpu - bcpuSetup0)) / ht) : -1,
        cpu_busy_pct: cs.pct,
        unattributed_cpu_pct: pid > 0 && bcpu >= 0 ? round1((100 * (cs.seconds - (cpu.user + cpu.system) / 1e6 - (bcpu - bcpuSetup0))) / ht) : -1,
      });
    } else if (cfg.scenario === 'subscribe') {
      const rssMid = readStatusKb(pid, 'VmRSS');
      const cpu0 = process.cpuUsage();
      const bcpu0 = readProcCpuS(pid);
      const cs0 = readCpuStat();
      const t0 = nowNs();
      let tEnd = t0;
      if (!error) {
        const subscribed = gather('subscribed');
        send({ type: 'start', t0 });
        const n = timers.length;
        const got = await Promise.race([subscribed, failed.then(() => [] as FromWorker[]), timeout(cfg.setupTimeout, 'subscribe').then(() => [] as FromWorker[])]);
        clearTimeout(timers[n]);
        if (got.length) tEnd = Math.max(...(got as { t: number }[]).map((g) => g.t));
      }
      const st = Math.max(1e-9, (tEnd - t0) / 1e9);
      const cpu = process.cpuUsage(cpu0);
      const bcpu = readProcCpuS(pid);
      const cs = cpuBusy(cs0, readCpuStat());
      if (pid > 0 && cfg.settle > 0 && !error) await wait(Math.min(cfg.settle, 1) * 1000);
      const rssAfter = readStatusKb(pid, 'VmRSS');
      await finishWorkers();
      const subLat = new Histogram();
      for (const r of workersOut) subLat.merge(r.subLat);
      const subscribed = sum(workersOut, (r) => r.counters.subscribed);
      if (!error && subscribed < cfg.conns * cfg.topics) error = `${subscribed} of ${cfg.conns * cfg.topics} subscriptions acknowledged`;
      Object.assign(out, head(cfg, error, W), {
        conns: cfg.conns,
        connected,
        qos: cfg.qos,
        topics_per_client: cfg.topics,
        window: cfg.window,
        subscriptions: subscribed,
        subscribe_s: round3(st),
        subscribe_rate: round1(subscribed / st),
        suback_lat_us: subLat.summary(),
        rss_before_kb: rssMid,
        rss_after_kb: rssAfter,
        bytes_per_sub: rssMid >= 0 && rssAfter >= 0 && subscribed > 0 ? Math.round(((rssAfter - rssMid) * 1024) / subscribed) : -1,
        ...toolCpu(cpu, st, W),
        broker_cpu_pct: pid > 0 && bcpu >= 0 && bcpu0 >= 0 ? round1((100 * (bcpu - bcpu0)) / st) : -1,
        cpu_busy_pct: cs.pct,
      });
    } else {
      // ---- pub/sub
      const sample = (): Sample => {
        let recv = 0;
        let uniq = 0;
        let acked = 0;
        for (let w = 0; w < W; w++) {
          recv += Atomics.load(wstat, w * WSTAT.SIZE + WSTAT.RECV);
          uniq += Atomics.load(wstat, w * WSTAT.SIZE + WSTAT.UNIQ);
          acked += Atomics.load(wstat, w * WSTAT.SIZE + WSTAT.ACKED);
        }
        let sent = 0;
        for (let p = 0; p < cfg.pubs; p++) sent += Atomics.load(pubSent, p);
        return { t: nowNs(), recv, uniq, sent, acked, cpu: process.cpuUsage(), brokerCpu: readProcCpuS(pid), cs: readCpuStat() };
      };
      const diff32 = (b: number, a: number) => mod32(b - a);
      let a: Sample | null = null;
      let b: Sample | null = null;
      const series: number[] = [];
      let tDrain0 = 0;
      let tEnd = nowNs();
      if (!error && cfg.startDelay) {
        log(`${cfg.label}: waiting ${cfg.startDelay} s before publishing`);
        await wait(cfg.startDelay * 1000);
      }
      if (!error) {
        const t0 = nowNs();
        Atomics.store(ctl, CTL.PHASE, PHASE.WARMUP);
        send({ type: 'start', t0 });
        log(`${cfg.label}: ${connected} connections ready; warm-up ${cfg.warmup} s`);
        if (cfg.warmup > 0) await wait(cfg.warmup * 1000);
        a = sample();
        Atomics.store(ctl, CTL.PHASE, PHASE.MEASURE);
        let last = a.recv;
        const tick = setInterval(() => {
          const r = sample().recv;
          series.push(diff32(r, last));
          last = r;
        }, 1000);
        await wait(cfg.duration * 1000);
        clearInterval(tick);
        b = sample();
        Atomics.store(ctl, CTL.PHASE, PHASE.DRAIN);
        tDrain0 = nowNs();
        // drain: until every delivery is accounted for and acknowledged, or no progress
        let lastProgress = tDrain0;
        let lastRecv = b.recv;
        let lastAcked = b.acked;
        while (!error) {
          let done = true;
          for (let p = 0; p < cfg.pubs && done; p++) if (mod32(Atomics.load(pubSent, p) * plan.nsubsOf[p]!) !== Atomics.load(pubPos, p)) done = false;
          let inflight = 0;
          for (let w = 0; w < W; w++) inflight += Atomics.load(wstat, w * WSTAT.SIZE + WSTAT.INFLIGHT);
          if (done && inflight === 0) break;
          const s = sample();
          const now = s.t;
          if (s.recv !== lastRecv || s.acked !== lastAcked) {
            lastProgress = now;
            lastRecv = s.recv;
            lastAcked = s.acked;
          }
          if (now - tDrain0 >= cfg.drainMax * 1e9 || now - lastProgress >= cfg.drainIdle * 1e9) break;
          await wait(10);
        }
        tEnd = nowNs();
      }
      const rssEnd = readStatusKb(pid, 'VmRSS');
      const hwmEnd = readStatusKb(pid, 'VmHWM');
      const sentPer = Array.from(pubSent);
      await finishWorkers();
      if (!a || !b) {
        const s = sample();
        a ??= s;
        b ??= s;
      }
      const mt = (b.t - a.t) / 1e9;
      const lat = new Histogram();
      const lag = new Histogram();
      for (const r of workersOut) {
        lat.merge(r.lat);
        lag.merge(r.sendLag);
      }
      const c = (f: (r: WorkerResult) => number) => sum(workersOut, f);
      const expected = sentPer.reduce((acc, s, p) => acc + s * plan.nsubsOf[p]!, 0);
      const received = c((r) => r.received);
      const unique = c((r) => r.unique);
      const firstRx = Math.min(...workersOut.map((r) => r.firstRx).filter((x) => x > 0), Number.POSITIVE_INFINITY);
      const lastRx = Math.max(0, ...workersOut.map((r) => r.lastRx));
      const span = Number.isFinite(firstRx) && lastRx > firstRx ? (lastRx - firstRx) / 1e9 : 0;
      const cpu = { user: b.cpu.user - a.cpu.user, system: b.cpu.system - a.cpu.system };
      const cs = cpuBusy(a.cs, b.cs);
      const bcpu = pid > 0 && a.brokerCpu >= 0 && b.brokerCpu >= 0 ? b.brokerCpu - a.brokerCpu : -1;
      const lost = c((r) => r.lost);
      const duplicates = c((r) => r.duplicates);
      const outOfOrder = c((r) => r.outOfOrder);
      Object.assign(out, head(cfg, error, W), {
        pubs: cfg.pubs,
        subs: cfg.subs,
        sub_mode: cfg.subMode,
        qos: cfg.qos,
        size: cfg.size,
        window: cfg.window,
        inflight: cfg.inflight,
        rate_target: cfg.rate,
        measure_s: round3(mt),
        recv_rate: mt > 0 ? round1(diff32(b.recv, a.recv) / mt) : 0,
        send_rate: mt > 0 ? round1(diff32(b.sent, a.sent) / mt) : 0,
        uniq_rate: mt > 0 ? round1(diff32(b.uniq, a.uniq) / mt) : 0,
        ack_rate: mt > 0 && cfg.qos > 0 ? round1(diff32(b.acked, a.acked) / mt) : 0,
        sent: sentPer.reduce((x, y) => x + y, 0),
        expected,
        received,
        unique,
        lost,
        duplicates,
        out_of_order: outOfOrder,
        gaps: c((r) => r.gaps),
        misrouted: c((r) => r.counters.misrouted),
        bad_payload: c((r) => r.counters.badPayload),
        puback: c((r) => r.counters.puback),
        pubrec: c((r) => r.counters.pubrec),
        pubcomp: c((r) => r.counters.pubcomp),
        bad_ack: c((r) => r.counters.badAck),
        unacked_at_end: c((r) => r.counters.inflightEnd),
        skipped_rate_slots: c((r) => r.counters.skipped),
        rx_span_s: round3(span),
        drain_s: tDrain0 ? round3((tEnd - tDrain0) / 1e9) : 0,
        lat_us: lat.summary(),
        ...(cfg.rate > 0 ? { send_lag_us: lag.summary() } : {}),
        ...toolCpu(cpu, mt, W),
        broker_cpu_pct: bcpu >= 0 && mt > 0 ? round1((100 * bcpu) / mt) : -1,
        cpu_busy_pct: cs.pct,
        unattributed_cpu_pct: bcpu >= 0 && mt > 0 ? round1((100 * (cs.seconds - (cpu.user + cpu.system) / 1e6 - bcpu)) / mt) : -1,
        series,
        broker_rss_start_kb: rssStart,
        broker_rss_end_kb: rssEnd,
        broker_hwm_kb: hwmEnd,
      });
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', abort);
    await finishWorkers().catch(() => {});
  }
  const cpuRun = process.cpuUsage(cpuRun0);
  Object.assign(out, {
    ok: !error,
    error,
    conn_fail: sum(workersOut, (r) => r.counters.connFail),
    disconnects: sum(workersOut, (r) => r.counters.disconnects),
    proto_err: sum(workersOut, (r) => r.counters.protoErr),
    suback_fail: sum(workersOut, (r) => r.counters.subackFail),
    connack_fail: sum(workersOut, (r) => r.counters.connackFail),
    open_at_end: sum(workersOut, (r) => r.counters.openAtEnd),
    tool_reads: sum(workersOut, (r) => r.counters.reads),
    tool_writes: sum(workersOut, (r) => r.counters.writes),
    tool_cpu_total_s: round3((cpuRun.user + cpuRun.system) / 1e6),
    broker_pid: pid,
    wall_s: round3((nowNs() - tWall0) / 1e9),
    ...(cfg.meta ?? {}),
  });
  return out;
}

function head(cfg: RunConfig, error: string, workers: number): BenchResult {
  return {
    scenario: cfg.scenario,
    label: cfg.label,
    broker: cfg.broker,
    ok: !error,
    error,
    mqtt: cfg.mqtt === 5 ? 5 : 3,
    port: cfg.port,
    ...(cfg.subHost !== undefined ? { sub_host: cfg.subHost } : {}),
    ...(cfg.subPorts !== undefined ? { sub_ports: cfg.subPorts } : {}),
    workers,
  };
}

/** The tool's own CPU over an interval: all its threads, in % of one core. */
function toolCpu(cpu: NodeJS.CpuUsage, seconds: number, workers: number): BenchResult {
  const cores = availableParallelism();
  const pct = seconds > 0 ? (100 * (cpu.user + cpu.system)) / 1e6 / seconds : -1;
  return {
    tool_cpu_pct: round1(pct),
    tool_user_pct: seconds > 0 ? round1((100 * cpu.user) / 1e6 / seconds) : -1,
    tool_cores: cores,
    // the tool used (nearly) all the CPU it could: the figures may measure the tool, not the broker
    tool_bound: pct >= 90 * Math.min(cores, workers + 1),
  };
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  let s = 0;
  for (const x of xs) s += f(x);
  return s;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
