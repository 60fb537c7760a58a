/**
 * MQTT bridge source (ingress, EMQX's `mqtt` source): subscribes to a topic filter on a remote
 * broker through MQTT.js and hands every message to the rule engine as an event of
 * `FROM "$bridges/mqtt:<name>"` (through a callback: `installRules(...).ingest`). The client
 * reconnects and re-subscribes by itself.
 *
 * The event's columns follow EMQX's: `id`, `topic`, `payload`, `qos`, `retain`, `dup`,
 * `pub_props`, `server`, `message_received_at`.
 */
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, silentLogger, type Logger } from '@junction/broker-core';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { parseConfig } from './config.js';
import { MqttConnectorSchema, type MqttConnectorConfig } from './mqtt.js';

export const MqttSourceSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the source is started.' }),
    connector: Type.String({ minLength: 1, description: 'Name of an `mqtt` connector (the remote broker).' }),
    parameters: Type.Object(
      {
        topic: Type.String({ minLength: 1, description: 'Topic filter subscribed to on the remote broker, e.g. `remote/sensors/#`.' }),
        qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1, description: 'QoS of the subscription.' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type MqttSourceConfig = Static<typeof MqttSourceSchema>;

/** Where a source delivers: `(bridgeId, columns)`, the shape of `RulesHandle.ingest`. */
/** A column value, as the rule engine's `Value` (structurally: this package must not import it). */
export type SourceValue = undefined | null | boolean | number | string | Buffer | SourceValue[] | { [key: string]: SourceValue };
export type SourceColumns = { [key: string]: SourceValue };
export type IngestFn = (bridgeId: string, columns: SourceColumns) => void;

export interface SourceStatus {
  status: 'connected' | 'connecting' | 'stopped';
  metrics: { received: number; failed: number };
}

export class MqttBridgeSource {
  /** `mqtt:<name>`, what rules name after `$bridges/`. */
  readonly name: string;
  private readonly client: MqttClient;
  private received = 0;
  private failed = 0;
  private stopped = false;

  constructor(
    sourceName: string,
    private readonly connector: MqttConnectorConfig,
    private readonly source: MqttSourceConfig,
    private readonly ingest: IngestFn,
    private readonly log: Logger = silentLogger,
  ) {
    this.name = `mqtt:${sourceName}`;
    const url = /^[a-z]+:\/\//.test(connector.server) ? connector.server : `mqtt://${connector.server}`;
    this.client = mqtt.connect(url, {
      protocolVersion: connector.proto_ver === 'v5' ? 5 : connector.proto_ver === 'v3' ? 3 : 4,
      clientId: `${connector.clientid_prefix}junction_source_${sourceName}_${randomBytes(4).toString('hex')}`,
      username: connector.username,
      password: connector.password,
      clean: connector.clean_start,
      keepalive: connector.keepalive,
      reconnectPeriod: connector.reconnect_interval,
      connectTimeout: connector.connect_timeout,
    });
    this.client.on('error', (err) => log.debug({ source: this.name, err: err.message }, 'connector.mqtt_source_error'));
    this.client.on('connect', (connack) => {
      log.info({ source: this.name, server: connector.server }, 'connector.mqtt_source_connected');
      // A resumed session keeps its subscription; MQTT.js re-subscribes otherwise.
      if (!connack.sessionPresent) this.subscribe();
    });
    this.client.on('message', (_topic, _payload, packet) => this.onMessage(packet));
  }

  private subscribe(): void {
    const { topic, qos } = this.source.parameters;
    this.client.subscribe(topic, { qos }, (err, granted) => {
      const refused = granted?.find((g) => g.qos === 128);
      if (err || refused) this.log.warn({ source: this.name, topic, err: err?.message ?? 'subscription refused' }, 'connector.mqtt_source_subscribe_failed');
    });
  }

  private onMessage(packet: IPublishPacket): void {
    this.received++;
    const props = packet.properties ?? {};
    const columns: SourceColumns = {
      id: randomBytes(16).toString('hex'),
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      pub_props: pubProps(props),
      server: this.connector.server,
      message_received_at: Date.now(),
    };
    try {
      this.ingest(this.name, columns);
    } catch (err) {
      this.failed++;
      this.log.warn({ source: this.name, err: (err as Error).message }, 'connector.mqtt_source_ingest_failed');
    }
  }

  stats(): SourceStatus {
    return { status: this.stopped ? 'stopped' : this.client.connected ? 'connected' : 'connecting', metrics: { received: this.received, failed: this.failed } };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.client.endAsync(true);
  }
}

/** MQTT 5 properties with EMQX's names (`User-Property` as a map). */
function pubProps(p: NonNullable<IPublishPacket['properties']>): SourceColumns {
  const out: SourceColumns = {};
  if (p.userProperties) out['User-Property'] = p.userProperties;
  if (p.contentType !== undefined) out['Content-Type'] = p.contentType;
  if (p.payloadFormatIndicator !== undefined) out['Payload-Format-Indicator'] = p.payloadFormatIndicator ? 1 : 0;
  if (p.messageExpiryInterval !== undefined) out['Message-Expiry-Interval'] = p.messageExpiryInterval;
  if (p.responseTopic !== undefined) out['Response-Topic'] = p.responseTopic;
  if (p.correlationData !== undefined) out['Correlation-Data'] = p.correlationData;
  return out;
}

/** The `sources` config section (EMQX 5): sources by type and name, each naming a connector. */
export interface SourcesConfigInput {
  connectors?: { mqtt?: Record<string, unknown> };
  sources?: { mqtt?: Record<string, unknown> };
}

export interface Sources {
  readonly sources: ReadonlyMap<string, MqttBridgeSource>;
  stats(): Record<string, SourceStatus>;
  stop(): Promise<void>;
}

/**
 * Start the enabled `sources.mqtt.*`; each calls `ingest(bridgeId, columns)` per message (pass
 * `rules.ingest`). Throws `ConfigError` on bad config.
 */
export function createSources(config: SourcesConfigInput, ingest: IngestFn, baseLog: Logger = silentLogger): Sources {
  const log = baseLog.child({ component: 'connectors' });
  const sources = new Map<string, MqttBridgeSource>();
  const stopAll = () => Promise.all([...sources.values()].map((s) => s.stop())).then(() => undefined);
  try {
    for (const [type, byName] of Object.entries(config.sources ?? {}) as [string, Record<string, unknown>][]) {
      if (type !== 'mqtt') throw new ConfigError(`sources.${type}`, 'unknown source type (supported: mqtt)');
      for (const [name, raw] of Object.entries(byName ?? {})) {
        const source = parseConfig(MqttSourceSchema, raw, `sources.mqtt.${name}`);
        if (!source.enable) continue;
        const connRaw = config.connectors?.mqtt?.[source.connector];
        if (!connRaw) throw new ConfigError(`sources.mqtt.${name}.connector`, `no mqtt connector named ${source.connector}`);
        const connector = parseConfig(MqttConnectorSchema, connRaw, `connectors.mqtt.${source.connector}`);
        if (!connector.enable) continue;
        sources.set(`mqtt:${name}`, new MqttBridgeSource(name, connector, source, ingest, log));
      }
    }
  } catch (err) {
    void stopAll();
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    sources,
    stats: () => Object.fromEntries([...sources].map(([n, s]) => [n, s.stats()])),
    stop: () => (stopped ??= stopAll()),
  };
}
