import { ConnectionRateGate, type AdapterContext, type Logger, type Rate } from '@junction/broker-core';
import { defaultMqttOptions, type MqttOptions } from '../config.js';
import type { EngineContext } from '../engine/connection.js';
import { listenerRates, type ListenerRates } from './rates.js';

/** What every MQTT listener (TCP, TLS, WebSocket, QUIC, WebTransport) builds from its config. */
export interface ListenerEngine {
  /** The engine context its connections share. */
  readonly engine: EngineContext;
  /** The listener's logger (`listener` bound). */
  readonly log: Logger;
  /** `max_conn_rate`: keep it to make a fresh gate on a restart. */
  readonly connRate: Rate | undefined;
  /** Connections over `max_conn_rate` wait here. */
  readonly gate: ConnectionRateGate;
}

/**
 * The engine context and connection-rate gate of listener `listener` (e.g. `tcp:default`): the
 * `mqtt` section over the engine's defaults, the listener's rates (a bad one throws a
 * ConfigError naming `path`), its mountpoint.
 */
export function listenerEngine(ctx: AdapterContext, listener: string, config: Partial<ListenerRates> & { mountpoint?: string }, path: string): ListenerEngine {
  const log = ctx.log.child({ listener });
  const options: MqttOptions = { ...defaultMqttOptions, ...(ctx.section('mqtt') as Partial<MqttOptions> | undefined) };
  const rates = listenerRates(config, path);
  const engine: EngineContext = {
    broker: ctx.broker,
    metrics: ctx.metrics,
    log,
    options,
    topics: ctx.topicMapper(config.mountpoint || undefined),
    listener,
    limits: rates.client,
  };
  return { engine, log, connRate: rates.conn, gate: new ConnectionRateGate(rates.conn) };
}
