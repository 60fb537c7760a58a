import { Type, type TSchema } from '@sinclair/typebox';
import { HttpActionSchema, HttpConnectorSchema } from './http.js';
import { KafkaActionSchema, KafkaConnectorSchema } from './kafka.js';
import { MqttActionSchema, MqttConnectorSchema } from './mqtt.js';
import { MqttSourceSchema } from './mqtt-source.js';
import { PgsqlActionSchema, PgsqlConnectorSchema } from './pgsql.js';
import { RedisActionSchema, RedisConnectorSchema } from './redis.js';

const byName = (schema: TSchema, what: string) => Type.Record(Type.String(), schema, { default: {}, description: `${what}, by name.` });

/** EMQX 5's `connectors` and `actions` sections, for the gateway's config schema. */
export const connectorsSections: Readonly<Record<'connectors' | 'actions', TSchema>> = {
  connectors: Type.Object(
    {
      http: byName(HttpConnectorSchema, 'HTTP servers'),
      mqtt: byName(MqttConnectorSchema, 'Remote MQTT brokers'),
      redis: byName(RedisConnectorSchema, 'Redis servers'),
      kafka_producer: byName(KafkaConnectorSchema, 'Kafka clusters'),
      pgsql: byName(PgsqlConnectorSchema, 'PostgreSQL servers'),
    },
    { additionalProperties: false, default: {}, description: 'Where data goes: connections to external systems, by type and name.' },
  ),
  actions: Type.Object(
    {
      http: byName(HttpActionSchema, 'HTTP requests'),
      mqtt: byName(MqttActionSchema, 'MQTT bridge publishes'),
      redis: byName(RedisActionSchema, 'Redis commands'),
      kafka_producer: byName(KafkaActionSchema, 'Kafka records'),
      pgsql: byName(PgsqlActionSchema, 'PostgreSQL statements'),
    },
    { additionalProperties: false, default: {}, description: 'What rules send: an action names its connector; rules use it as `type:name`.' },
  ),
};

/** EMQX 5's `sources` section (ingress): sources by type and name, each naming a connector. */
export const sourcesSection: TSchema = Type.Object(
  { mqtt: byName(MqttSourceSchema, 'Subscriptions on remote MQTT brokers, fed to rules `FROM "$bridges/mqtt:<name>"`') },
  { additionalProperties: false, default: {}, description: 'Where data comes from: ingress bridges, by type and name.' },
);
