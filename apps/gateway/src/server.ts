/** The composition root: builds the broker and adapters from a loaded config and starts them. */
import { join } from 'node:path';
import { BrokerCore, brokerConfigSchema, createAdapterContext, SysPublisher, type Adapter, type BrokerConfig, type ListenerInfo } from '@junction/broker-core';
import { createAdminServer } from '@junction/admin';
import { installAuth, type AuthConfigInput } from '@junction/auth';
import { createSinks, type ConnectorsConfigInput } from '@junction/connectors';
import { installRules, type RulesConfigInput } from '@junction/rules';
import { openLmdbStores, type DurableSessionsConfig, type LmdbStores } from '@junction/store-lmdb';
import type { GatewayConfig } from './config/schema.js';
import { getAtPath } from './config/path.js';
import type { Logger } from './logger.js';
import { gatewaySections } from './sections.js';

/** A started gateway. */
export interface RunningGateway {
  readonly broker: BrokerCore;
  /** What is listening, with real ports. */
  readonly listeners: ListenerInfo[];
  /** Stops every adapter (clients are told the server is shutting down) and the broker; idempotent. */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

export async function startGateway(config: GatewayConfig, log: Logger): Promise<RunningGateway> {
  const section = (path: string) => getAtPath(config, path);
  const durable = section('durable_sessions') as DurableSessionsConfig | undefined;
  let stores: LmdbStores | undefined;
  if (durable?.enable !== false) {
    const path = join(config.node.data_dir, 'store');
    stores = await openLmdbStores({ path, maxBytes: durable?.max_bytes, durability: durable?.durability });
    log.info({ path, durability: durable?.durability ?? 'flush' }, 'durable_store_opened');
  }
  const broker = new BrokerCore({
    nodeName: config.node.name,
    config: pick(section('mqtt'), Object.keys(brokerConfigSchema.properties)) as Partial<BrokerConfig>,
    log: log.child({ component: 'broker' }),
    sessionStore: stores?.sessions,
    retained: stores?.retained,
  });
  await broker.restore();
  const abort = new AbortController();
  const started: Adapter[] = [];
  const listeners: ListenerInfo[] = [];
  // Security first: no listener accepts a client before the auth hooks are in place.
  const auth = await installAuth(broker, pick(config, ['authentication', 'authorization', 'banned', 'flapping_detect']) as AuthConfigInput, log);
  const rules = installRules(broker, (section('rule_engine') ?? {}) as RulesConfigInput, log);
  const sinks = createSinks(pick(config, ['connectors', 'actions']) as ConnectorsConfigInput, log);
  for (const sink of sinks.list()) rules.sinks.register(sink);
  const admin =
    section('dashboard.listeners.http.enable') === false
      ? undefined
      : createAdminServer({ broker, auth, config: pick(config, ['dashboard', 'prometheus', 'api_key']), dataDir: config.node.data_dir, log });
  try {
    for (const factory of gatewaySections().list()) {
      const own = section(factory.type);
      if (own === undefined) continue;
      const ctx = createAdapterContext(broker, { log: log.child({ adapter: factory.type }), signal: abort.signal, section });
      const adapter = factory.create(ctx, own);
      started.push(adapter);
      listeners.push(...(await adapter.start()));
    }
    if (admin) {
      const { host, port } = await admin.start();
      listeners.push({ type: 'http', name: 'dashboard', host, port });
    }
  } catch (err) {
    await Promise.allSettled(started.map((a) => a.stop({ drainMs: 0 })));
    await admin?.stop();
    rules.stop();
    await sinks.stop(0);
    await auth.stop();
    await broker.close();
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
        await stores?.close();
        rules.stop();
        await sinks.stop();
        await auth.stop();
      })()),
  };
}

function pick(obj: unknown, keys: string[]): Record<string, unknown> {
  const src = (obj ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => src[k] !== undefined).map((k) => [k, src[k]]));
}
