import type { Static, TSchema } from '@sinclair/typebox';
import type { Clock } from './clock.js';
import type { Broker } from './contract.js';
import type { Hooks } from './hooks.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** A bound socket an adapter reports after `start()`; `port` is the real one (port 0 works). */
export interface ListenerInfo {
  /** `tcp`, `ssl`, `ws`, `wss`, `quic`, `udp`, ... */
  readonly type: string;
  /** The listener's name in config, e.g. `default`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface AdapterStats {
  readonly connections: number;
  readonly [counter: string]: number;
}

/** A running protocol adapter. It may also offer `ListenerControl` (stop and start single
 * listeners at run time; every `ListenerGroup` does). */
export interface Adapter {
  /** Bind; resolves with the listeners actually bound. */
  start(): Promise<ListenerInfo[]>;
  /** Stop accepting, tell clients the server is going away, close. Idempotent. */
  stop(opts?: { drainMs?: number }): Promise<void>;
  stats(): AdapterStats;
}

/** Prefixes topics of one adapter or listener (EMQX mountpoints) with client placeholders. */
export interface TopicMapper {
  /** Topic as the client sent it -> topic on the bus. */
  mount(topic: string, client: { clientId: string; username?: string }): string;
  /** Topic on the bus -> topic as the client sees it. */
  unmount(topic: string, client: { clientId: string; username?: string }): string;
}

/** What an adapter receives from the app. It never reaches into core internals. */
export interface AdapterContext {
  readonly broker: Broker;
  readonly hooks: Hooks;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The broker's clock: adapters' timers follow it, so tests can drive them. */
  readonly clock: Clock;
  /** Builds a mapper for a mountpoint template such as `ocpp/${clientid}/`. */
  topicMapper(mountpoint: string | undefined): TopicMapper;
  /** The validated config of another section the adapter declared in `sections` (e.g. `mqtt`). */
  section(path: string): unknown;
}

/**
 * What configuration needs of an adapter type, without its code (`AdapterFactory` minus
 * `create`): an app can validate its config and load the adapter only when it is configured.
 */
export type AdapterDescriptor<S extends TSchema = TSchema> = Pick<AdapterFactory<S>, 'type' | 'configSchema' | 'sections'>;

/** A protocol adapter type, registered by the app under its config section name. */
export interface AdapterFactory<S extends TSchema = TSchema> {
  /** Config section, e.g. `listeners` for MQTT, `gateway.coap` for CoAP. */
  readonly type: string;
  /** JSON schema with defaults and descriptions; the config reference is generated from it. */
  readonly configSchema: S;
  /** Further config sections this adapter reads through `ctx.section()`, with their schemas;
   * schemas of the same section from several factories are merged. */
  readonly sections?: Readonly<Record<string, TSchema>>;
  create(ctx: AdapterContext, config: Static<S>): Adapter;
}

/** Placeholders a mountpoint may use, as EMQX: `${clientid}`, `${username}`. */
export function createTopicMapper(mountpoint: string | undefined): TopicMapper {
  if (!mountpoint) return identityMapper;
  const dynamic = mountpoint.includes('${');
  const expand = (c: { clientId: string; username?: string }) =>
    dynamic ? mountpoint.replaceAll('${clientid}', c.clientId).replaceAll('${username}', c.username ?? '') : mountpoint;
  return {
    mount: (topic, c) => expand(c) + topic,
    unmount: (topic, c) => {
      const prefix = expand(c);
      return topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
    },
  };
}

const identityMapper: TopicMapper = { mount: (t) => t, unmount: (t) => t };
