/**
 * @junction/connectors: data-integration sinks for the rule engine (HTTP, MQTT bridge, Redis,
 * Kafka, PostgreSQL).
 * Each sink has the `RuleSink` shape of @junction/rules (`name`, `send(output)`), so it can be
 * registered with `installRules(...).sinks.register(sink)`.
 */
import { ConfigError, silentLogger, type Logger } from '@junction/broker-core';
import { httpSink, type HttpSink } from './http.js';
import { kafkaSink, type KafkaSink } from './kafka.js';
import { mqttSink, type MqttBridgeSink } from './mqtt.js';
import { pgsqlSink, type PgsqlSink } from './pgsql.js';
import { redisSink, type RedisSink } from './redis.js';
import type { SinkStatus } from './resilience.js';
import type { SinkOutput } from './template.js';

export * from './resilience.js';
export * from './template.js';
export * from './http.js';
export * from './mqtt.js';
export * from './redis.js';
export * from './kafka.js';
export * from './pgsql.js';
export { SqlTemplate } from './sql-template.js';
export * from './mqtt-source.js';
export { parseConfig } from './config.js';

export type ConnectorSink = HttpSink | MqttBridgeSink | RedisSink | KafkaSink | PgsqlSink;
export type SinkType = 'http' | 'mqtt' | 'redis' | 'kafka_producer' | 'pgsql';

/** EMQX's shape: connectors by type and name, actions by type and name naming a connector. */
export interface ConnectorsConfigInput {
  connectors?: Partial<Record<SinkType, Record<string, unknown>>>;
  actions?: Partial<Record<SinkType, Record<string, { connector?: string; enable?: boolean } & Record<string, unknown>>>>;
}

export interface Sinks {
  /** The sinks, by `type:name`. */
  readonly sinks: ReadonlyMap<string, ConnectorSink>;
  get(name: string): ConnectorSink | undefined;
  list(): ConnectorSink[];
  stats(): Record<string, SinkStatus>;
  /** Flush buffers (up to `timeoutMs` per sink) and close connections. Idempotent. */
  stop(timeoutMs?: number): Promise<void>;
}

const builders: Record<SinkType, (name: string, connector: unknown, action: unknown, log?: Logger) => ConnectorSink> = {
  http: httpSink,
  mqtt: mqttSink,
  redis: redisSink,
  kafka_producer: kafkaSink,
  pgsql: pgsqlSink,
};

/** Build the enabled actions of a `connectors` config section; throws `ConfigError` on bad config. */
export function createSinks(config: ConnectorsConfigInput = {}, baseLog: Logger = silentLogger): Sinks {
  const log = baseLog.child({ component: 'connectors' });
  const sinks = new Map<string, ConnectorSink>();
  const stopAll = (timeoutMs?: number) => Promise.all([...sinks.values()].map((s) => s.stop(timeoutMs))).then(() => undefined);
  try {
    for (const [type, actions] of Object.entries(config.actions ?? {}) as [string, Record<string, Record<string, unknown>>][]) {
      const build = builders[type as SinkType];
      if (!build) throw new ConfigError(`actions.${type}`, `unknown action type (supported: ${Object.keys(builders).join(', ')})`);
      for (const [name, action] of Object.entries(actions ?? {})) {
        if (action.enable === false) continue;
        const connName = action.connector;
        if (typeof connName !== 'string') throw new ConfigError(`actions.${type}.${name}.connector`, 'required');
        const connector = config.connectors?.[type as SinkType]?.[connName] as { enable?: boolean } | undefined;
        if (!connector) throw new ConfigError(`actions.${type}.${name}.connector`, `no ${type} connector named ${connName}`);
        if (connector.enable === false) continue;
        sinks.set(`${type}:${name}`, build(name, connector, action, log));
      }
    }
  } catch (err) {
    void stopAll(0);
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    sinks,
    get: (name) => sinks.get(name),
    list: () => [...sinks.values()],
    stats: () => Object.fromEntries([...sinks].map(([n, s]) => [n, s.stats()])),
    stop: (timeoutMs) => (stopped ??= stopAll(timeoutMs)),
  };
}

/** What `send` accepts: @junction/rules' `RuleOutput`. */
export type { SinkOutput };
export { connectorsSections, sourcesSection } from './sections.js';
