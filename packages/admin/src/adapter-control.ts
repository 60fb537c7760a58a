/**
 * Run-time control of the adapters the composition root handed in: stop, start and restart one
 * MQTT listener (adapters implementing `ListenerControl`), and disable or enable a whole
 * protocol gateway (stop it; build and start a fresh one from `recreate`). Operations run one
 * at a time. Adapters built here are owned here and stopped by `close()`.
 */
import { hasListenerControl, type Adapter, type AdapterStats, type ListenerInfo, type Logger } from '@junction/broker-core';
import type { AdminAdapters, AdminAdapterView } from './adapters-api.js';
import { AdminError } from './errors.js';
import { LOG } from './log-events.js';

export type ListenerAction = 'start' | 'stop' | 'restart';

/** One adapter as it is now. */
export interface AdapterState {
  readonly type: string;
  /** False after `PUT /gateways/{name}/enable/false`. */
  readonly enabled: boolean;
  readonly listeners: readonly { readonly info: ListenerInfo; readonly running: boolean }[];
  stats(): AdapterStats;
}

const idOf = (l: ListenerInfo) => `${l.type}:${l.name}`;

export class AdapterControl {
  /** Gateways disabled (adapter undefined) or rebuilt here, by type. */
  private readonly replaced = new Map<string, { adapter: Adapter | undefined; listeners: readonly ListenerInfo[] }>();
  private readonly owned = new Set<Adapter>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly source: AdminAdapters | undefined,
    private readonly log: Logger,
  ) {}

  states(): AdapterState[] {
    return (this.source ? this.source() : []).map((v) => this.stateOf(v));
  }

  /** `listeners.*` adapters only; ids are unique there (`tcp:default`, `ws:default`, ...). */
  listenerAction(id: string, action: ListenerAction): Promise<void> {
    return this.serial(async () => {
      const adapter = this.mqttAdapterOf(id);
      if (!hasListenerControl(adapter)) throw new AdminError('not_supported', `listener ${id} cannot be stopped or started at run time`);
      if (action !== 'start') {
        await adapter.stopListener(id);
        this.log.info({ listener: id }, LOG.listenerStopped);
      }
      if (action === 'stop') return;
      try {
        const info = await adapter.startListener(id);
        this.log.info({ listener: id, host: info.host, port: info.port }, LOG.listenerStarted);
      } catch (err) {
        this.log.warn({ listener: id, err }, LOG.listenerStartFailed);
        throw new AdminError('unavailable', `listener ${id} cannot start: ${(err as Error).message}`, { cause: err });
      }
    });
  }

  /** EMQX `PUT /gateways/{name}/enable/{true|false}`. */
  setGatewayEnabled(name: string, enable: boolean): Promise<void> {
    return this.serial(async () => {
      const type = `gateway.${name}`;
      const view = (this.source ? this.source() : []).find((v) => v.type === type);
      if (!view) throw new AdminError('not_found', `no gateway ${JSON.stringify(name)} is running`);
      const r = this.replaced.get(type);
      const current = r ? r.adapter : view.adapter;
      const enabled = r ? r.adapter !== undefined : true;
      if (enabled === enable) return;
      if (!enable) {
        if (!current || !view.recreate) throw new AdminError('not_supported', `gateway ${name} cannot be disabled at run time`);
        await current.stop();
        this.owned.delete(current);
        this.replaced.set(type, { adapter: undefined, listeners: r?.listeners ?? view.listeners });
        this.log.info({ gateway: name }, LOG.gatewayDisabled);
        return;
      }
      const fresh = view.recreate!();
      let listeners: ListenerInfo[];
      try {
        listeners = await fresh.start();
      } catch (err) {
        await fresh.stop({ drainMs: 0 }).catch(() => {});
        this.log.warn({ gateway: name, err }, LOG.listenerStartFailed);
        throw new AdminError('unavailable', `gateway ${name} cannot start: ${(err as Error).message}`, { cause: err });
      }
      this.owned.add(fresh);
      this.replaced.set(type, { adapter: fresh, listeners });
      this.log.info({ gateway: name }, LOG.gatewayEnabled);
    });
  }

  /** Stop the adapters built here. */
  async close(): Promise<void> {
    await this.queue.catch(() => {});
    await Promise.allSettled([...this.owned].map((a) => a.stop()));
    this.owned.clear();
  }

  private stateOf(v: AdminAdapterView): AdapterState {
    const r = this.replaced.get(v.type);
    if (r && !r.adapter) return { type: v.type, enabled: false, listeners: r.listeners.map((info) => ({ info, running: false })), stats: () => ({ connections: 0 }) };
    const adapter = r ? r.adapter : v.adapter;
    const bound = r ? r.listeners : v.listeners;
    const listeners = hasListenerControl(adapter) && adapter.listenerStatus().length > 0 ? adapter.listenerStatus().map((s) => ({ info: s.info, running: s.running })) : bound.map((info) => ({ info, running: true }));
    return { type: v.type, enabled: true, listeners, stats: () => (r?.adapter ? r.adapter.stats() : v.stats()) };
  }

  private mqttAdapterOf(id: string): Adapter | undefined {
    for (const v of this.source ? this.source() : []) {
      if (!v.type.startsWith('listeners.')) continue;
      const adapter = this.replaced.get(v.type)?.adapter ?? v.adapter;
      const known = hasListenerControl(adapter) ? adapter.listenerStatus().map((s) => s.id) : v.listeners.map(idOf);
      if (known.includes(id)) return adapter;
    }
    throw new AdminError('not_found', `no listener ${JSON.stringify(id)}`, { apiCode: 'BAD_LISTENER_ID' });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
