/** The composition root: builds the broker and adapters from a loaded config and starts them. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrokerCore, brokerConfigSchema, createAdapterContext, SysPublisher, type Adapter, type BrokerConfig, type ListenerInfo } from '@junction/broker-core';
import { createAdminServer, type AdminAdapterView } from '@junction/admin';
import { installAuth, type AuthConfigInput } from '@junction/auth';
import { createSinks, createSources, type ConnectorsConfigInput, type SourcesConfigInput } from '@junction/connectors';
import { ClusterNode, type ClusterConfig } from '@junction/cluster';
import { installRules, type RulesConfigInput } from '@junction/rules';
import { openLmdbStores, type DurableSessionsConfig, type LmdbStores } from '@junction/store-lmdb';
import type { GatewayConfig } from './config/schema.js';
import { getAtPath } from './config/path.js';
import type { Logger } from './logger.js';
import { gatewaySections } from './sections.js';
import type { WorkerRole } from './worker-role.js';

/** A started gateway. */
export interface RunningGateway {
  readonly broker: BrokerCore;
  /** What is listening, with real ports. */
  readonly listeners: ListenerInfo[];
  /** Stops every adapter (clients are told the server is shutting down) and the broker; idempotent. */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

/** `worker`: this process is one of `node.workers` (see workers.ts), linked to the others. */
export async function startGateway(config: GatewayConfig, log: Logger, worker?: WorkerRole): Promise<RunningGateway> {
  const section = (path: string) => getAtPath(config, path);
  const durable = section('durable_sessions') as DurableSessionsConfig | undefined;
  let stores: LmdbStores | undefined;
  // A replicant cluster node keeps no local durable state: sessions in memory (resumed on other
  // nodes from the cluster registry), retained messages and records in the cluster's KV.
  const replicant = (section('cluster') as ClusterConfig | undefined)?.enable === true && section('cluster.role') === 'replicant';
  if (durable?.enable !== false && replicant) log.info({}, 'durable_store_skipped_replicant');
  else if (durable?.enable !== false) {
    const path = join(config.node.data_dir, 'store');
    stores = await openLmdbStores({ path, maxBytes: durable?.max_bytes, durability: durable?.durability, commitInterval: durable?.commit_interval });
    log.info({ path, durability: durable?.durability ?? 'flush' }, 'durable_store_opened');
  }
  // Clustering over NATS: retained messages then live in JetStream KV, shared by every node.
  const clusterConfig = section('cluster') as ClusterConfig | undefined;
  const cluster = clusterConfig?.enable ? await ClusterNode.start({ nodeName: config.node.name, config: clusterConfig, log: log.child({ component: 'cluster' }) }) : undefined;
  const broker = new BrokerCore({
    nodeName: config.node.name,
    config: pick(section('mqtt'), Object.keys(brokerConfigSchema.properties)) as Partial<BrokerConfig>,
    log: log.child({ component: 'broker' }),
    sessionStore: stores?.sessions,
    retained: cluster?.retained ?? worker?.link.retained ?? stores?.retained,
  });
  await broker.restore();
  await cluster?.attach(broker);
  worker?.link.attach(broker);
  const abort = new AbortController();
  const started: Adapter[] = [];
  const listeners: ListenerInfo[] = [];
  const running: AdminAdapterView[] = [];
  // Security first: no listener accepts a client before the auth hooks are in place.
  const auth = await installAuth(broker, pick(config, ['authentication', 'authorization', 'banned', 'flapping_detect']) as AuthConfigInput, log, { records: cluster?.records ?? stores?.records });
  const rules = installRules(broker, (section('rule_engine') ?? {}) as RulesConfigInput, log);
  // Rules created or changed through the API come back from the store, over the configured ones.
  // In a cluster they are cluster-wide: the nodes share them and apply each other's changes.
  const records = cluster?.records ?? stores?.records;
  if (records) await rules.persist(records);
  const sinks = createSinks(pick(config, ['connectors', 'actions']) as ConnectorsConfigInput, log);
  for (const sink of sinks.list()) rules.sinks.register(sink);
  // Ingress bridges feed rules `FROM "$bridges/<type>:<name>"`.
  const sources = createSources(pick(config, worker?.runs('sources') === false ? ['connectors'] : ['connectors', 'sources']) as SourcesConfigInput, (id, columns) => rules.ingest(id, columns), log);
  const admin =
    section('dashboard.listeners.http.enable') === false || worker?.runs('admin') === false
      ? undefined
      : createAdminServer({
          broker,
          auth,
          rules,
          adapters: () => running,
          staticDir: dashboardDir(),
          config: pick(config, ['dashboard', 'prometheus', 'api_key']),
          dataDir: config.node.data_dir,
          log,
          // GET /api/v5/configs (redacted) and PUT /api/v5/configs/log {"level": …}.
          runningConfig: () => config,
          logLevel: { get: () => log.level, set: (level) => void (log.level = level) },
        });
  try {
    for (const entry of gatewaySections().list()) {
      const own = section(entry.type);
      if (own === undefined || worker?.runs(entry.type) === false) continue;
      // An adapter loaded on demand stays unloaded while its section configures nothing.
      if (entry.lazy && isEmptyObject(own)) continue;
      const factory = await entry.load();
      const ctx = createAdapterContext(broker, { log: log.child({ adapter: factory.type }), signal: abort.signal, section });
      const adapter = factory.create(ctx, own);
      started.push(adapter);
      const bound = await adapter.start();
      listeners.push(...bound);
      // The admin API stops and starts listeners (adapter) and rebuilds disabled gateways (recreate).
      running.push({ type: factory.type, listeners: bound, stats: () => adapter.stats(), adapter, recreate: () => factory.create(ctx, own) });
    }
    if (admin) {
      const { host, port } = await admin.start();
      listeners.push({ type: 'http', name: 'dashboard', host, port });
    }
  } catch (err) {
    await Promise.allSettled(started.map((a) => a.stop({ drainMs: 0 })));
    await admin?.stop();
    await sources.stop();
    rules.stop();
    await sinks.stop(0);
    await auth.stop();
    await broker.close();
    await cluster?.close();
    await stores?.close();
    throw err;
  }
  const sys = new SysPublisher(broker, config.sys_topics);
  sys.start();

  let stopping: Promise<void> | undefined;
  return {
    broker,
    listeners,
    stop: (opts) =>
      (stopping ??= (async () => {
        sys.stop();
        abort.abort();
        await Promise.allSettled(started.reverse().map((a) => a.stop(opts)));
        await admin?.stop();
        await broker.close();
        await cluster?.close();
        await stores?.close();
        await sources.stop();
        rules.stop();
        await sinks.stop();
        await auth.stop();
      })()),
  };
}

/** The dashboard's build next to this app in the workspace (apps/dashboard/dist), when it exists;
 * the admin server serves it at `/` unless `dashboard.static_dir` says otherwise. */
function dashboardDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

function pick(obj: unknown, keys: string[]): Record<string, unknown> {
  const src = (obj ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => src[k] !== undefined).map((k) => [k, src[k]]));
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}
