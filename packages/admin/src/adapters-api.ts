/**
 * What the API shows of the running adapters (MQTT listeners, gateways), handed in by the
 * composition root, which owns them: each adapter's config section (`listeners.tcp`,
 * `gateway.coap`, ...), the listeners it bound and its counters; optionally the adapter itself
 * (its listeners can then be stopped and started one by one when it offers `ListenerControl`)
 * and a way to build it afresh (a gateway can then be disabled and enabled again).
 */
import type { Adapter, AdapterStats, ListenerInfo } from '@junction/broker-core';

export interface AdminAdapterView {
  /** The config section the adapter reads, e.g. `listeners.tcp`, `listeners.ws`, `gateway.ocpp`. */
  readonly type: string;
  /** What it listens on, with real ports. */
  readonly listeners: readonly ListenerInfo[];
  stats(): AdapterStats;
  /** The running adapter: `PUT /listeners/{id}/stop|start|restart` works when it implements
   * `ListenerControl` (every `ListenerGroup` does). */
  readonly adapter?: Adapter;
  /** A new adapter of the same type and config (`factory.create(ctx, config)`): needed for
   * `PUT /gateways/{name}/enable/true` after a disable. The admin server then owns the new
   * adapter and stops it in its own `stop()`. */
  readonly recreate?: () => Adapter;
}

/** The adapters running now. */
export type AdminAdapters = () => readonly AdminAdapterView[];
