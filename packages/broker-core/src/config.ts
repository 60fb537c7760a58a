import { Type, type Static } from '@sinclair/typebox';
import { Duration } from './config-types.js';

/** Session and routing settings: the part of EMQX's `mqtt` section every protocol shares. */
export const brokerConfigSchema = Type.Object(
  {
    allow_anonymous: Type.Union([Type.Boolean(), Type.Literal('loopback')], { default: 'loopback', description: 'Clients no authenticator accepted: true lets them in, false refuses them, loopback lets them in only from this machine.' }),
    max_inflight: Type.Integer({ default: 32, minimum: 1, maximum: 65535, description: 'Maximum QoS 1/2 deliveries unacknowledged per client (lowered by a client\'s Receive Maximum).' }),
    max_mqueue_len: Type.Integer({ default: 1000, minimum: 1, description: 'Maximum messages queued per session while offline or while the inflight window is full.' }),
    mqueue_store_qos0: Type.Boolean({ default: true, description: 'Queue QoS 0 messages for offline persistent sessions.' }),
    mqueue_drop_policy: Type.Union([Type.Literal('drop_oldest'), Type.Literal('drop_newest')], { default: 'drop_oldest', description: 'Which message to drop when a session queue is full.' }),
    max_awaiting_rel: Type.Integer({ default: 100, minimum: 1, description: 'Maximum inbound QoS 2 messages awaiting PUBREL per client.' }),
    await_rel_timeout: Duration({ default: '300s', description: 'How long an inbound QoS 2 packet id awaits PUBREL before it is released.' }),
    session_expiry_interval: Duration({ default: '2h', description: 'Session expiry for MQTT 3.x clients with clean session false (MQTT 5 clients send their own).' }),
    max_session_expiry_interval: Duration({ default: '0s', description: 'Upper bound for client-requested session expiry; 0 means no bound.' }),
    keepalive_multiplier: Type.Number({ default: 1.5, minimum: 1, description: 'A client is disconnected after keepalive x this without traffic.' }),
    shared_subscription: Type.Boolean({ default: true, description: 'Allow $share/{group}/{filter} and $queue/{filter}.' }),
    shared_subscription_strategy: Type.Union([Type.Literal('round_robin'), Type.Literal('random'), Type.Literal('hash_clientid'), Type.Literal('sticky')], { default: 'round_robin', description: 'How a shared group picks the member that receives a message.' }),
    wildcard_subscription: Type.Boolean({ default: true, description: 'Allow + and # in subscriptions.' }),
    max_topic_levels: Type.Integer({ default: 128, minimum: 1, description: 'Maximum levels in a topic name or filter.' }),
    max_subscriptions: Type.Integer({ default: 0, minimum: 0, description: 'Maximum subscriptions per session; 0 means unlimited.' }),
    upgrade_qos: Type.Boolean({ default: false, description: 'Deliver at the subscription QoS even when the message was published at a lower one.' }),
    retain_available: Type.Boolean({ default: true, description: 'Accept retained messages.' }),
    max_retained_messages: Type.Integer({ default: 0, minimum: 0, description: 'Maximum retained messages kept; 0 means unlimited.' }),
    retained_msg_clear_interval: Duration({
      default: '5m',
      description: "How often retained messages whose Message Expiry Interval passed are removed from the store, freeing their space (they are never delivered once expired either way); 0 turns the sweep off (EMQX's retainer.msg_clear_interval).",
    }),
  },
  { additionalProperties: false },
);

export type BrokerConfig = Static<typeof brokerConfigSchema>;

/** The defaults, in numbers (durations in ms). */
export const defaultBrokerConfig: BrokerConfig = {
  allow_anonymous: 'loopback',
  max_inflight: 32,
  max_mqueue_len: 1000,
  mqueue_store_qos0: true,
  mqueue_drop_policy: 'drop_oldest',
  max_awaiting_rel: 100,
  await_rel_timeout: 300_000,
  session_expiry_interval: 7_200_000,
  max_session_expiry_interval: 0,
  keepalive_multiplier: 1.5,
  shared_subscription: true,
  shared_subscription_strategy: 'round_robin',
  wildcard_subscription: true,
  max_topic_levels: 128,
  max_subscriptions: 0,
  upgrade_qos: false,
  retain_available: true,
  max_retained_messages: 0,
  retained_msg_clear_interval: 300_000,
};
