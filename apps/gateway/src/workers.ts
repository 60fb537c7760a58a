/**
 * `node.workers: N`: the primary process forks N workers with node:cluster. Every worker runs the
 * whole gateway (broker core and adapters); TCP, TLS and WebSocket listeners share their ports
 * through node:cluster (round-robin). The workers act as one broker through the core's cluster
 * seam: each has a `LocalLink` to the `LocalHub` in the primary (`@junction/cluster`), which
 * routes messages by interest, serves shared groups once, owns the client-id registry, the
 * retained messages and the wills of a crashed worker's clients. The primary restarts a worker
 * that dies. Signals go to the primary, which stops the workers.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError, type ListenerInfo } from '@junction/broker-core';
import { clusterHubPort, LocalHub, LocalLink, processWorkerPort } from '@junction/cluster';
import type { GatewayConfig } from './config/schema.js';
import type { Logger } from './logger.js';
import type { startGateway as StartGateway } from './server.js';
import { SHUTDOWN_SIGNALS, type ShutdownSignal } from './shutdown.js';
import type { WorkerRole } from './worker-role.js';

/** Set by the primary in each worker's environment: the worker's index, 1..N. */
export const WORKER_INDEX_ENV = 'JUNCTION_WORKER_INDEX';

/** Adapters that cannot share a port between processes (the kernel spreads datagrams of one peer
 * over every process bound to it): worker 1 runs them, with the admin API and ingress bridges. */
const WORKER_ONE_ONLY = new Set(['admin', 'sources', 'gateway.mqttsn', 'gateway.coap', 'listeners.quic', 'listeners.webtransport']);

const STOP_TIMEOUT = 30_000;
const RESTART_DELAY = 250;
const MAX_RESTART_DELAY = 10_000;
/** A worker that dies sooner than this after it started is restarted with a growing delay. */
const QUICK_DEATH = 5_000;

/** Messages between the primary and a worker's gateway (the link's own have a `k` instead). */
type GatewayMessage = { gw: 'ready'; listeners: ListenerInfo[] } | { gw: 'failed'; message: string } | { gw: 'stop' };

function isGatewayMessage(m: unknown): m is GatewayMessage {
  return typeof m === 'object' && m !== null && typeof (m as { gw?: unknown }).gw === 'string';
}

/** `node.workers` as a number of processes: `auto` is one per CPU; 0 and 1 mean one process. */
export function workerCount(config: GatewayConfig): number {
  const w = (config.node as { workers?: number | 'auto' }).workers;
  if (w === 'auto') return availableParallelism();
  return typeof w === 'number' ? w : 1;
}

/** Refuse what workers cannot do (yet), naming the key to change. */
export function checkWorkersConfig(config: GatewayConfig): void {
  const n = workerCount(config);
  if (n <= 1) return;
  const durable = config.durable_sessions as { enable?: boolean } | undefined;
  if (durable?.enable !== false) {
    throw new ConfigError(
      'node.workers',
      `${n} workers need durable_sessions.enable: false: the durable store can be opened by one process only (with workers, sessions and retained messages are kept in memory)`,
    );
  }
  if ((config.cluster as { enable?: boolean } | undefined)?.enable === true) {
    throw new ConfigError('node.workers', 'workers cannot be combined with cluster.enable (clustering over NATS) yet: run one process per node');
  }
}

// ---------------------------------------------------------------- worker side

/** Run this process as worker `JUNCTION_WORKER_INDEX`: start the gateway, report, wait for `stop`. */
export async function runWorker(config: GatewayConfig, log: Logger, start: typeof StartGateway): Promise<number> {
  const index = Number(process.env[WORKER_INDEX_ENV]) || 1;
  // A terminal's Ctrl-C reaches the whole process group: the primary decides, and tells us.
  const ignore = (signal: ShutdownSignal) => log.debug({ signal }, 'worker_signal_ignored');
  for (const s of SHUTDOWN_SIGNALS) process.on(s, ignore);
  let stop!: () => void;
  const stopRequested = new Promise<void>((r) => (stop = r));
  const onMessage = (m: unknown) => {
    if (isGatewayMessage(m) && m.gw === 'stop') stop();
  };
  process.on('message', onMessage);
  const mqtt = config.mqtt as { max_retained_messages?: number } | undefined;
  const link = new LocalLink({ port: processWorkerPort(), log: log.child({ component: 'local_link' }), maxRetained: mqtt?.max_retained_messages });
  const role: WorkerRole = { index, link, runs: (part) => index === 1 || !WORKER_ONE_ONLY.has(part) };
  let gateway;
  try {
    await link.start();
    gateway = await start(config, log, role);
  } catch (err) {
    log.error({ err }, 'worker_start_failed');
    send({ gw: 'failed', message: err instanceof Error ? err.message : String(err) });
    await link.close();
    return 1;
  }
  send({ gw: 'ready', listeners: gateway.listeners });
  await stopRequested;
  try {
    await gateway.stop();
  } finally {
    await link.close();
    process.off('message', onMessage);
    for (const s of SHUTDOWN_SIGNALS) process.off(s, ignore);
  }
  log.info({}, 'worker_stopped');
  return 0;
}

function send(m: GatewayMessage): void {
  if (process.connected) process.send!(m);
}

// ---------------------------------------------------------------- primary side

/**
 * Run this process as the primary: fork `count` workers, report `gateway_started` once all are
 * ready, restart any that dies, and stop them all when `stopRequested` resolves.
 */
export async function runPrimary(config: GatewayConfig, log: Logger, count: number, stopRequested: Promise<ShutdownSignal>): Promise<number> {
  const mqtt = config.mqtt as { max_retained_messages?: number } | undefined;
  const hub = new LocalHub({ log: log.child({ component: 'local_hub' }), maxRetained: mqtt?.max_retained_messages });
  const pool = new WorkerPool(hub, log, count);
  let listeners: ListenerInfo[];
  try {
    listeners = await pool.start();
  } catch (err) {
    log.error({ err }, 'gateway_start_failed');
    await pool.stop();
    hub.close();
    return 1;
  }
  log.info({ node: config.node.name, workers: count, listeners }, 'gateway_started');
  const signal = await stopRequested;
  log.info({ signal }, 'gateway_stopping');
  await pool.stop();
  hub.close();
  log.info({ signal }, 'gateway_stopped');
  return 0;
}

interface Slot {
  readonly index: number;
  worker?: Worker;
  startedAt: number;
  delay: number;
  restart?: NodeJS.Timeout;
  /** Once one of its workers was ready, a worker dying in this slot is restarted. */
  served: boolean;
}

/** The workers, by index: forks, readiness, restarts, stop. */
class WorkerPool {
  private readonly slots: Slot[];
  private stopping = false;

  constructor(
    private readonly hub: LocalHub,
    private readonly log: Logger,
    count: number,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ index: i + 1, startedAt: 0, delay: RESTART_DELAY, served: false }));
    // Must be set before the first fork. Round robin is node:cluster's default on Linux; the
    // advanced serialization carries the link's frames as binary.
    cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  /** Fork every worker; resolves with worker 1's listeners once all are ready. */
  async start(): Promise<ListenerInfo[]> {
    const ready = await Promise.all(this.slots.map((s) => this.fork(s)));
    return ready[0]!;
  }

  private fork(slot: Slot): Promise<ListenerInfo[]> {
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index) });
    slot.worker = w;
    slot.startedAt = Date.now();
    this.hub.addWorker(w.id, clusterHubPort(w));
    const pid = w.process.pid;
    this.log.info({ worker: slot.index, workerPid: pid }, 'worker_forked');
    return new Promise((resolve, reject) => {
      let ready = false;
      w.on('message', (m: unknown) => {
        if (!isGatewayMessage(m)) return;
        if (m.gw === 'ready') {
          ready = true;
          slot.served = true;
          this.log.info({ worker: slot.index, workerPid: pid }, 'worker_ready');
          resolve(m.listeners);
        } else if (m.gw === 'failed') {
          reject(new Error(`worker ${slot.index} failed to start: ${m.message}`));
        }
      });
      w.on('exit', (code, signal) => {
        const crashed = !this.stopping;
        this.hub.removeWorker(w.id, { crashed });
        if (slot.worker === w) slot.worker = undefined;
        if (!ready && !slot.served) {
          reject(new Error(`worker ${slot.index} exited during start (${signal ?? code})`));
          return;
        }
        if (!crashed) {
          this.log.info({ worker: slot.index, workerPid: pid, code }, 'worker_exited');
          return;
        }
        slot.delay = Date.now() - slot.startedAt < QUICK_DEATH ? Math.min(slot.delay * 2, MAX_RESTART_DELAY) : RESTART_DELAY;
        this.log.error({ worker: slot.index, workerPid: pid, code, signal, restartIn: slot.delay }, 'worker_died');
        slot.restart = setTimeout(() => {
          slot.restart = undefined;
          if (this.stopping) return;
          this.fork(slot).catch((err: unknown) => this.log.error({ err, worker: slot.index }, 'worker_restart_failed'));
        }, slot.delay);
      });
    });
  }

  /** Ask every worker to stop (they drain their clients), wait for them; kill the late ones. */
  async stop(): Promise<void> {
    this.stopping = true;
    const exits: Promise<void>[] = [];
    for (const slot of this.slots) {
      if (slot.restart) clearTimeout(slot.restart);
      const w = slot.worker;
      if (!w || w.isDead()) continue;
      exits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => w.process.kill('SIGKILL'), STOP_TIMEOUT);
          w.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (w.isConnected()) w.send({ gw: 'stop' } satisfies GatewayMessage);
          else w.process.kill('SIGTERM');
        }),
      );
    }
    await Promise.all(exits);
  }
}
