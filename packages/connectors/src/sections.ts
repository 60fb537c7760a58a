import { Type, type TSchema } from '@sinclair/typebox';
import { HttpActionSchema, HttpConnectorSchema } from './http.js';
import { MqttActionSchema, MqttConnectorSchema } from './mqtt.js';
import { RedisActionSchema, RedisConnectorSchema } from './redis.js';

const byName = (schema: TSchema, what: string) => Type.Record(Type.String(), schema, { default: {}, description: `${what}, by name.` });

/** EMQX 5's `connectors` and `actions` sections, for the gateway's config schema. */
export const connectorsSections: Readonly<Record<'connectors' | 'actions', TSchema>> = {
  connectors: Type.Object(
    {
      http: byName(HttpConnectorSchema, 'HTTP servers'),
      mqtt: byName(MqttConnectorSchema, 'Remote MQTT brokers'),
      redis: byName(RedisConnectorSchema, 'Redis servers'),
    },
    { additionalProperties: false, default: {}, description: 'Where data goes: connections to external systems, by type and name.' },
  ),
  actions: Type.Object(
    {
      http: byName(HttpActionSchema, 'HTTP requests'),
      mqtt: byName(MqttActionSchema, 'MQTT bridge publishes'),
      redis: byName(RedisActionSchema, 'Redis commands'),
    },
    { additionalProperties: false, default: {}, description: 'What rules send: an action names its connector; rules use it as `type:name`.' },
  ),
};
