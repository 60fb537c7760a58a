import {
  ListenerGroup,
  defaultBrokerConfig,
  systemClock,
  type Adapter,
  type AdapterContext,
  type AdapterFactory,
  type AdapterStats,
  type Clock,
  type ListenerInfo,
} from '@junction/broker-core';
import type { GatewayContext, OcppCounters } from './charger/context.js';
import { ocppGatewayDescriptor, type OcppConfig, type ocppConfigSchema } from './config.js';
import { loadSchemas } from './schemas.js';
import { OcppTopics } from './topics.js';
import { OcppListener, type ListenerSpec } from './transport/listener.js';

/**
 * The OCPP gateway: its ws and wss listeners and what their chargers share. Config errors
 * (a bad topic template, an unreadable schema directory) throw `ConfigError` from the constructor.
 * `options.clock` drives the gateway's own timers (the core's keepalive uses the broker's clock).
 */
export class OcppGateway implements Adapter {
  private readonly listeners: OcppListeners;
  private readonly gw: GatewayContext;

  constructor(ctx: AdapterContext, config: OcppConfig, options: { clock?: Clock } = {}) {
    this.gw = createGatewayContext(ctx, config, options.clock ?? systemClock);
    const specs: ListenerSpec[] = [];
    if (config.enable) {
      for (const [name, c] of Object.entries(config.listeners.ws)) if (c.enable) specs.push({ type: 'ws', name, config: c });
      for (const [name, c] of Object.entries(config.listeners.wss)) if (c.enable) specs.push({ type: 'wss', name, config: c });
    }
    this.listeners = new OcppListeners(specs.map((s) => new OcppListener(s, this.gw)));
  }

  start(): Promise<ListenerInfo[]> {
    return this.listeners.start();
  }

  stop(opts?: { drainMs?: number }): Promise<void> {
    return this.listeners.stop(opts);
  }

  stats(): AdapterStats {
    return { ...this.listeners.stats(), ...this.gw.counters };
  }
}

class OcppListeners extends ListenerGroup<OcppListener> {
  stats(): AdapterStats {
    return { connections: this.listeners.reduce((n, l) => n + l.connections, 0), rate_limited: this.listeners.reduce((n, l) => n + l.ratePauses, 0) };
  }
}

/** What the chargers of one gateway share, from its config. Throws `ConfigError`. */
export function createGatewayContext(ctx: AdapterContext, config: OcppConfig, clock: Clock): GatewayContext {
  const mqtt = ctx.section('mqtt') as { keepalive_multiplier?: number } | undefined;
  const counters: OcppCounters = { upstream_calls: 0, dnstream_calls: 0, upstream_refused: 0, dnstream_refused: 0, timeouts: 0 };
  return {
    broker: ctx.broker,
    clock,
    log: ctx.log,
    metrics: ctx.metrics,
    topics: new OcppTopics(config.upstream, config.dnstream, ctx.topicMapper(config.mountpoint || undefined)),
    schemas: loadSchemas({ jsonSchemaDir: config.json_schema_dir, idPrefix: config.json_schema_id_prefix }),
    counters,
    settings: {
      defaultHeartbeatInterval: config.default_heartbeat_interval / 1000,
      heartbeatBackoff: config.heartbeat_checking_times_backoff,
      // The core disconnects after keepalive x its multiplier (the `mqtt` section's).
      keepaliveMultiplier: mqtt?.keepalive_multiplier ?? defaultBrokerConfig.keepalive_multiplier,
      checking: config.message_format_checking,
      upstreamTimeout: config.upstream.awaiting_timeout,
      dnstreamTimeout: config.dnstream.awaiting_timeout,
      maxQueue: config.dnstream.max_mqueue_len,
    },
  };
}

/** `gateway.ocpp`: OCPP-J 1.6 and 2.0.1 charge points over WebSocket, mapped to MQTT topics as EMQX does. */
export const ocppGatewayFactory: AdapterFactory<typeof ocppConfigSchema> = {
  ...ocppGatewayDescriptor,
  create: (ctx: AdapterContext, config: OcppConfig) => new OcppGateway(ctx, config),
};
