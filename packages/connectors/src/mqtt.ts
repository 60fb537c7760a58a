/**
 * MQTT bridge sink (egress, EMQX's `mqtt` action): publishes rule outputs to a remote broker
 * through MQTT.js. The client reconnects by itself; while it is down, outputs stay in the sink's
 * buffer and are delivered when it is back. A batch is published back to back (QoS 1/2 awaited).
 */
import { Type, type Static } from '@sinclair/typebox';
import { silentLogger, type Logger } from '@junction/broker-core';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from './config.js';
import { ResilientQueue, ResourceOptsSchema, type SinkStatus } from './resilience.js';
import { outputJson, Template, type SinkOutput } from './template.js';

export const MqttConnectorSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the connector is started.' }),
    server: Type.String({ minLength: 1, description: 'Remote broker, `host:port` (or an `mqtt://` / `mqtts://` URL).' }),
    proto_ver: Type.Union([Type.Literal('v3'), Type.Literal('v4'), Type.Literal('v5')], { default: 'v4', description: 'MQTT protocol version.' }),
    clientid_prefix: Type.String({ default: '', description: 'Prefix of the generated client id.' }),
    username: Type.Optional(Type.String({ description: 'Username on the remote broker.' })),
    password: Type.Optional(Type.String({ description: 'Password on the remote broker.' })),
    clean_start: Type.Boolean({ default: true, description: 'Start a clean session at each connection.' }),
    keepalive: Type.Integer({ minimum: 0, default: 300, description: 'Keepalive in seconds.' }),
    reconnect_interval: Type.Integer({ minimum: 1, default: 1000, description: 'Milliseconds between reconnection attempts.' }),
    connect_timeout: Type.Integer({ minimum: 1, default: 5000, description: 'Milliseconds to wait for CONNACK.' }),
  },
  { additionalProperties: false },
);

export const MqttActionSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the action is registered.' }),
    connector: Type.String({ minLength: 1, description: 'Name of an `mqtt` connector.' }),
    parameters: Type.Object(
      {
        topic: Type.String({ minLength: 1, description: 'Remote topic template, e.g. `bridge/${clientid}/${topic}`.' }),
        qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1, description: 'QoS of the bridged publish.' }),
        retain: Type.Boolean({ default: false, description: 'Retain flag of the bridged publish.' }),
        payload: Type.String({ default: '', description: 'Payload template; empty sends the rule output as JSON.' }),
        publish_timeout: Type.Integer({ minimum: 1, default: 10_000, description: 'Milliseconds to wait for a publish acknowledgement before retrying.' }),
      },
      { additionalProperties: false },
    ),
    resource_opts: ResourceOptsSchema,
  },
  { additionalProperties: false },
);
export type MqttConnectorConfig = Static<typeof MqttConnectorSchema>;
export type MqttActionConfig = Static<typeof MqttActionSchema>;

interface Outgoing {
  topic: string;
  payload: Buffer;
}

export class MqttBridgeSink {
  readonly name: string;
  private readonly client: MqttClient;
  private readonly queue: ResilientQueue<Outgoing>;
  private readonly topic: Template;
  private readonly payload: Template;

  constructor(
    actionName: string,
    connector: MqttConnectorConfig,
    private readonly action: MqttActionConfig,
    log: Logger = silentLogger,
  ) {
    this.name = `mqtt:${actionName}`;
    this.topic = new Template(action.parameters.topic);
    this.payload = new Template(action.parameters.payload);
    const url = /^[a-z]+:\/\//.test(connector.server) ? connector.server : `mqtt://${connector.server}`;
    this.client = mqtt.connect(url, {
      protocolVersion: connector.proto_ver === 'v5' ? 5 : connector.proto_ver === 'v3' ? 3 : 4,
      clientId: `${connector.clientid_prefix}junction_bridge_${actionName}_${Math.random().toString(16).slice(2, 10)}`,
      username: connector.username,
      password: connector.password,
      clean: connector.clean_start,
      keepalive: connector.keepalive,
      reconnectPeriod: connector.reconnect_interval,
      connectTimeout: connector.connect_timeout,
      queueQoSZero: false,
    });
    this.client.on('error', (err) => log.debug({ sink: this.name, err: err.message }, 'connector.mqtt_error'));
    this.client.on('connect', () => {
      log.info({ sink: this.name, server: connector.server }, 'connector.mqtt_connected');
      this.queue.kick();
    });
    this.queue = new ResilientQueue(this.name, action.resource_opts, { deliver: (b) => this.publish(b), isConnected: () => this.client.connected }, log);
  }

  send(output: SinkOutput): Promise<void> {
    this.queue.matched();
    const topic = this.topic.render(output);
    const payload = Buffer.from(this.payload.isEmpty ? outputJson(output) : this.payload.render(output), 'utf8');
    return this.queue.enqueue({ topic, payload }, payload.length + topic.length);
  }

  private async publish(batch: Outgoing[]): Promise<void> {
    const { qos, retain, publish_timeout } = this.action.parameters;
    const all = Promise.all(batch.map((m) => this.client.publishAsync(m.topic, m.payload, { qos, retain })));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => reject(new Error('publish timed out')), publish_timeout);
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): SinkStatus {
    const status = this.client.connected ? 'connected' : this.client.disconnecting ? 'stopped' : 'connecting';
    return { status, metrics: this.queue.metrics() };
  }

  async stop(timeoutMs?: number): Promise<void> {
    await this.queue.flush(timeoutMs);
    await this.client.endAsync(true);
  }
}

export function mqttSink(actionName: string, connector: unknown, action: unknown, log?: Logger): MqttBridgeSink {
  return new MqttBridgeSink(
    actionName,
    parseConfig(MqttConnectorSchema, connector, 'connectors.mqtt'),
    parseConfig(MqttActionSchema, action, `actions.mqtt.${actionName}`),
    log,
  );
}
