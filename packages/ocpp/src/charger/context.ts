import type { Broker, Clock, Logger, Metrics } from '@junction/broker-core';
import type { MessageFormatChecking } from '../config.js';
import type { OcppVersion } from '../frames.js';
import type { MessageSchemas } from '../schemas.js';
import type { OcppTopics } from '../topics.js';

/** Counters of one gateway, reported by `Adapter.stats()`. */
export interface OcppCounters {
  /** CALLs from chargers published to the back end. */
  upstream_calls: number;
  /** CALLs from the back end sent to chargers. */
  dnstream_calls: number;
  /** Charger CALLs answered with a CALLERROR by the gateway itself (invalid, unknown, busy). */
  upstream_refused: number;
  /** Back-end messages not delivered (invalid, unknown UniqueId, queue full, charger gone). */
  dnstream_refused: number;
  /** CALLs that got no answer in time, either way. */
  timeouts: number;
}

/** What every charger of one gateway shares: settings, topics, schemas, the broker. */
export interface GatewayContext {
  readonly broker: Broker;
  /** Timers of the gateway's own (CALL timeouts) and event timestamps. */
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly topics: OcppTopics;
  readonly schemas: Readonly<Record<OcppVersion, MessageSchemas>>;
  readonly counters: OcppCounters;
  readonly settings: ChargerSettings;
}

export interface ChargerSettings {
  /** Seconds; 0 disables the idle check. */
  readonly defaultHeartbeatInterval: number;
  /** A charger silent for this many intervals is disconnected. */
  readonly heartbeatBackoff: number;
  /** The broker's keepalive multiplier: the core disconnects after keepalive x this. */
  readonly keepaliveMultiplier: number;
  readonly checking: MessageFormatChecking;
  /** Milliseconds a charger CALL waits for the back end. */
  readonly upstreamTimeout: number;
  /** Milliseconds a back-end CALL waits for the charger. */
  readonly dnstreamTimeout: number;
  readonly maxQueue: number;
}

export function checksUpstream(c: MessageFormatChecking): boolean {
  return c === 'all' || c === 'upstream_only';
}

export function checksDnstream(c: MessageFormatChecking): boolean {
  return c === 'all' || c === 'dnstream_only';
}
