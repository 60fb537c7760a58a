import { silentLogger, type BrokerCore, type ClusterLink, type Logger, type Message, type SessionSnapshot } from '@junction/broker-core';
import { connect, type ConnectionOptions, type JetStreamClient, type KV, type NatsConnection } from 'nats';
import { defaultClusterConfig, type ClusterConfig } from './config.js';
import { Confirmations } from './confirm.js';
import { NodeLiveness } from './liveness.js';
import { ParkedMessages } from './parking.js';
import { PersistentInterest } from './persistent.js';
import { ClusterRecordStore } from './records.js';
import { ClientRegistry } from './registry.js';
import { ClusterRetainedStore } from './retained.js';
import { ClusterRouting } from './routing.js';
import { ClusterSessions } from './sessions.js';
import { newClusterStats, type ClusterStats } from './stats.js';
import { Tasks } from './tasks.js';

export interface ClusterNodeOptions {
  /** This node's name; unique in the cluster (the gateway's `node.name`). */
  nodeName: string;
  config?: Partial<ClusterConfig>;
  log?: Logger;
  /** For the retained mirror: the broker's `max_retained_messages` (0: unlimited). */
  maxRetained?: number;
}

const JETSTREAM_READY_TIMEOUT = 20_000;

/**
 * One Junction node's membership of the cluster, as the core's {@link ClusterLink}: messages
 * through {@link ClusterRouting} (interest-based subjects, queue groups for shared
 * subscriptions), client ids and sessions through {@link ClusterSessions} (JetStream KV registry,
 * handover between nodes, wills of dead nodes), retained messages in {@link ClusterRetainedStore},
 * and heartbeats through {@link NodeLiveness}.
 *
 * Usage: `const node = await ClusterNode.start(opts)`, build the `BrokerCore` with
 * `retained: node.retained`, `await broker.restore()`, then `await node.attach(broker)` before
 * any listener starts. On shutdown: adapters, `broker.close()`, then `node.close()`.
 */
export class ClusterNode implements ClusterLink {
  private readonly tasks = new Tasks();
  private readonly routing: ClusterRouting;
  private readonly sessions: ClusterSessions;
  private readonly confirmations: Confirmations;
  private liveness: NodeLiveness | undefined;
  private broker: BrokerCore | undefined;
  private detach: (() => void) | undefined;
  private closed = false;

  private constructor(
    readonly nodeName: string,
    readonly config: ClusterConfig,
    private readonly log: Logger,
    private readonly data: NatsConnection,
    private readonly control: NatsConnection,
    registry: ClientRegistry,
    /** Retained messages for the whole cluster: give it to the `BrokerCore` as `retained`. */
    readonly retained: ClusterRetainedStore,
    /**
     * Banned clients, built-in users, ACL rules and rules for the whole cluster: give it to
     * `installAuth` (`records`) and `RulesHandle.persist` instead of a local store.
     */
    readonly records: ClusterRecordStore,
    private readonly parked: ParkedMessages,
    private readonly persistent: PersistentInterest,
    private readonly unfollow: () => void,
    readonly stats: ClusterStats,
  ) {
    this.confirmations = new Confirmations(control, config.subject_prefix, nodeName, config.confirm_timeout, config.on_registry_unavailable === 'refuse', parked, this.stats, log);
    this.routing = new ClusterRouting(data, control, config.subject_prefix, nodeName, persistent, this.confirmations, this.stats, log);
    this.sessions = new ClusterSessions(nodeName, config, control, registry, parked, persistent, this.tasks, this.stats, log);
  }

  /** Connect to NATS, open (or create) the KV buckets and load the retained messages. */
  static async start(opts: ClusterNodeOptions): Promise<ClusterNode> {
    const config: ClusterConfig = { ...defaultClusterConfig, ...opts.config };
    const log = opts.log ?? silentLogger;
    const common: ConnectionOptions = {
      servers: config.servers,
      noRandomize: !config.randomize_servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: config.request_timeout,
    };
    // Two connections: `data` (echo off) publishes and holds the plain subscriptions, so a node
    // never gets its own messages back; `control` holds queue groups, KV and requests.
    const data = await connect({ ...common, name: `junction ${opts.nodeName} data`, noEcho: true });
    let control: NatsConnection | undefined;
    try {
      control = await connect({ ...common, name: `junction ${opts.nodeName} control` });
      const js = control.jetstream({ timeout: config.request_timeout, ...(config.jetstream_domain && { domain: config.jetstream_domain }) });
      const bucket = (name: string) => untilJetStream(() => openBucket(js, `${config.subject_prefix}_${name}`, config), log);
      const clientsKv = await bucket('clients');
      const retainedKv = await bucket('retained');
      const recordsKv = await bucket('records');
      const retained = new ClusterRetainedStore(retainedKv, log, { maxRetained: opts.maxRetained || undefined });
      await retained.start();
      const records = await ClusterRecordStore.open(recordsKv, js, `${config.subject_prefix}_records`, log);
      const stats = newClusterStats();
      const parked = await untilJetStream(() => ParkedMessages.open(control!, js, config, stats, log), log);
      // Every node's persistent sessions, from the registry, before any client connects here.
      const registry = new ClientRegistry(clientsKv);
      const persistent = new PersistentInterest(opts.nodeName);
      const unfollow = await registry.follow((id, entry) => persistent.apply(id, entry));
      const node = new ClusterNode(opts.nodeName, config, log, data, control, registry, retained, records, parked, persistent, unfollow, stats);
      for (const nc of [data, control]) watchStatus(nc, log);
      log.info({ node: opts.nodeName, role: config.role, servers: config.servers }, 'cluster_joined');
      return node;
    } catch (err) {
      await Promise.allSettled([data.close(), control?.close()]);
      throw err;
    }
  }

  /**
   * Join `broker` to the cluster. Call once, after `broker.restore()` and before any listener
   * accepts clients: sessions restored from the durable store that another node took over while
   * this one was down hand their kept messages to that node and are dropped here (without their
   * will, see `RestoredSessions`), the others are registered again.
   */
  async attach(broker: BrokerCore): Promise<void> {
    if (this.broker) throw new Error('ClusterNode is already attached');
    if (broker.retained !== this.retained) this.log.warn({}, 'cluster_retained_not_shared');
    this.broker = broker;
    this.routing.attach(broker);
    this.detach = broker.attachCluster(this);
    await this.sessions.attach(broker);
    const c = this.config;
    const down = (n: string) => {
      this.confirmations.nodeDown(n);
      this.sessions.nodeDown(n);
    };
    const up = (n: string) => this.confirmations.heard(n);
    this.liveness = new NodeLiveness(this.control, c.subject_prefix, this.nodeName, c.heartbeat_interval, c.node_timeout, down, this.log, up);
  }

  /** The node holding `clientId`'s persistent session, as this node knows from the registry. */
  sessionNode(clientId: string): string | undefined {
    return this.persistent.nodeOf(clientId);
  }

  /** Resolves once every subscription change sent so far has reached this node's NATS server. */
  async flush(): Promise<void> {
    await Promise.all([this.data.flush(), this.control.flush()]);
  }

  // ---------------------------------------------------------------- ClusterLink

  interestAdded(filter: string, group: string | undefined): void {
    this.routing.interestAdded(filter, group);
  }

  interestRemoved(filter: string, group: string | undefined): void {
    this.routing.interestRemoved(filter, group);
  }

  subscribed(clientId: string, persistent: boolean): Promise<void> | undefined {
    const routed = this.routing.synced();
    const waits = persistent ? [routed, this.sessions.recorded(clientId)] : [routed];
    if (waits.every((w) => w === undefined)) return undefined;
    // A NATS server that is away answers no flush until the connection is back: the SUBACK
    // waits request_timeout at most.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the cluster did not confirm a subscription of ${clientId} within ${this.config.request_timeout} ms`)), this.config.request_timeout);
    });
    return Promise.race([Promise.all(waits), late]).then(
      () => clearTimeout(timer),
      (err: unknown) => {
        clearTimeout(timer);
        throw err;
      },
    );
  }

  forward(msg: Message): number {
    return this.routing.forward(msg);
  }

  forwardedDurable(): Promise<void> | undefined {
    return this.routing.forwardedDurable();
  }

  claim(clientId: string, cleanStart: boolean): Promise<SessionSnapshot | undefined> {
    return this.sessions.claim(clientId, cleanStart);
  }

  released(clientId: string): void {
    this.sessions.released(clientId);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Leave the cluster: finish registry writes, detach from the broker, drain both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.liveness?.stop();
    this.unfollow();
    this.sessions.close();
    await this.tasks.settle();
    this.routing.close();
    this.confirmations.close();
    this.parked.close();
    this.detach?.();
    await this.retained.close();
    await this.records.close();
    await Promise.allSettled([this.data, this.control].map((nc) => closeConnection(nc, this.config.request_timeout)));
    this.log.info({ node: this.nodeName }, 'cluster_left');
  }
}

function watchStatus(nc: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ type: s.type, server: s.data }, 'cluster_nats_status');
    }
  })().catch(() => {});
}

/** Drain (send what is buffered) when connected, within `ms`; then close in any case. */
async function closeConnection(nc: NatsConnection, ms: number): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([nc.drain(), new Promise((r) => (timer = setTimeout(r, ms)))]);
  } catch {
    // closing anyway
  } finally {
    clearTimeout(timer);
    if (!nc.isClosed()) await nc.close();
  }
}

/**
 * A KV bucket of the cluster. A core node creates it (or binds to it when it exists); a
 * replicant only binds to a bucket a core node created, and throws until there is one (retried).
 */
async function openBucket(js: JetStreamClient, name: string, config: ClusterConfig): Promise<KV> {
  if (config.role === 'core') return (await js.views.kv(name, { history: 1, replicas: config.kv_replicas })) as KV;
  const jsm = await js.jetstreamManager();
  const info = await jsm.streams.info(`KV_${name}`);
  return (await js.views.kv(name, { bindOnly: true, allow_direct: info.config.allow_direct ?? false })) as KV;
}

/** JetStream answers "unavailable" until its cluster has elected a meta leader: retry. */
async function untilJetStream<T>(op: () => Promise<T>, log: Logger): Promise<T> {
  const end = Date.now() + JETSTREAM_READY_TIMEOUT;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (Date.now() > end) throw err;
      if (attempt === 0) log.info({ err }, 'cluster_jetstream_waiting');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
