/**
 * The event sources a rule's FROM may name, with EMQX's topics (both the underscore and the
 * slash spellings) and the fields each event carries. docs/rules.md lists them from here.
 */

export type EventName =
  | 'message.publish'
  | 'client.connected'
  | 'client.disconnected'
  | 'client.connack'
  | 'client.check_authn_complete'
  | 'client.check_authz_complete'
  | 'session.subscribed'
  | 'session.unsubscribed'
  | 'message.delivered'
  | 'message.acked'
  | 'message.dropped'
  | 'delivery.dropped';

export interface EventInfo {
  readonly name: EventName;
  /** FROM topics that select it; the first is the canonical one. */
  readonly topics: readonly string[];
  readonly description: string;
  /** Field name to description. */
  readonly fields: Readonly<Record<string, string>>;
  /** False when the broker core does not (yet) report this event: rules on it never fire. */
  readonly emitted: boolean;
}

const COMMON = {
  timestamp: 'When the event happened (ms since the epoch).',
  node: 'Name of the node where it happened.',
  event: 'The event name, e.g. `client.connected`.',
};

const MESSAGE = {
  id: 'Message id (32 hex digits), the same in every event of one message.',
  topic: 'Topic.',
  qos: 'QoS: 0, 1 or 2.',
  flags: 'Flags: `{retain, dup}`.',
  payload: 'Payload, as text (JSON is decoded on access through `payload.x`).',
  pub_props: "MQTT 5 PUBLISH properties: 'User-Property' (map), 'User-Property-Pairs', 'Content-Type', 'Response-Topic', 'Correlation-Data', 'Message-Expiry-Interval', 'Payload-Format-Indicator'.",
  headers: 'Message headers: `{peerhost, protocol, username, properties}`.',
  publish_received_at: 'When the broker accepted the message (ms).',
};

const RECEIVER = {
  from_clientid: 'Client id of the publisher.',
  from_username: 'User name of the publisher.',
  clientid: 'Client id of the receiver.',
  username: 'User name of the receiver.',
  peerhost: 'Address of the receiver.',
};

const CONN = {
  clientid: 'Client id.',
  username: 'User name.',
  peername: 'Client address and port (`host:port`).',
  sockname: 'Listener address and port (not reported by the core yet: undefined).',
  proto_name: 'Protocol name: MQTT, MQTT-SN, CoAP, OCPP, ...',
  proto_ver: 'Protocol version (3, 4, 5 for MQTT).',
};

export const EVENTS: readonly EventInfo[] = [
  {
    name: 'message.publish',
    topics: [],
    description: 'A message is published.',
    fields: { ...MESSAGE, clientid: 'Client id of the publisher.', username: 'User name of the publisher.', peerhost: 'Address of the publisher.', ...COMMON },
    emitted: true,
  },
  {
    name: 'client.connected',
    topics: ['$events/client_connected', '$events/client/connected'],
    description: 'A client connected.',
    fields: {
      ...CONN,
      mountpoint: 'Mountpoint (undefined).',
      keepalive: 'Keepalive (s).',
      clean_start: 'Clean start.',
      receive_maximum: 'Receive Maximum (MQTT 5).',
      expiry_interval: 'Session expiry interval (s).',
      is_bridge: 'Whether the client is a bridge (false).',
      conn_props: 'MQTT 5 CONNECT properties (not reported by the core yet: empty).',
      client_attrs: 'Attributes an authenticator attached.',
      connected_at: 'When it connected (ms).',
      ...COMMON,
    },
    emitted: true,
  },
  {
    name: 'client.disconnected',
    topics: ['$events/client_disconnected', '$events/client/disconnected'],
    description: 'A client disconnected.',
    fields: {
      ...CONN,
      reason: 'Why: normal, kicked, takenover, discarded, keepalive_timeout, not_authorized, banned, sock_closed, protocol_error, shutdown, send_timeout.',
      disconn_props: 'MQTT 5 DISCONNECT properties (not reported by the core yet: empty).',
      client_attrs: 'Attributes an authenticator attached.',
      disconnected_at: 'When it disconnected (ms).',
      ...COMMON,
    },
    emitted: true,
  },
  {
    name: 'client.connack',
    topics: ['$events/client_connack', '$events/client/connack'],
    description: 'The broker answered a CONNECT (the core defines the hook, adapters do not call it yet).',
    fields: { reason_code: 'success, or why the client was refused.', ...CONN, clean_start: 'Clean start.', keepalive: 'Keepalive (s).', expiry_interval: 'Session expiry interval (s).', conn_props: 'MQTT 5 CONNECT properties (empty).', ...COMMON },
    emitted: true,
  },
  {
    name: 'client.check_authn_complete',
    topics: ['$events/client_check_authn_complete', '$events/client/check_authn_complete', '$events/auth/check_authn_complete'],
    description: 'The authentication chain decided (banned or flapping clients are refused before it).',
    fields: { clientid: 'Client id.', username: 'User name.', peername: 'Client address.', reason_code: 'success or the failure.', is_superuser: 'Superuser.', is_anonymous: 'Anonymous.', ...COMMON },
    emitted: true,
  },
  {
    name: 'client.check_authz_complete',
    topics: ['$events/client_check_authz_complete', '$events/client/check_authz_complete', '$events/auth/check_authz_complete'],
    description: 'An authorization check decided (superusers skip authorization). `authz_source` is the source that decided (`file`, `built_in_database`, `redis`, `http`, `client_info`), `cache`, or `default` (no source matched: `no_match`).',
    fields: { clientid: 'Client id.', username: 'User name.', peerhost: 'Client address.', topic: 'Topic.', action: 'publish or subscribe.', authz_source: 'Which source decided.', result: 'allow or deny.', ...COMMON },
    emitted: true,
  },
  {
    name: 'session.subscribed',
    topics: ['$events/session_subscribed', '$events/session/subscribed'],
    description: 'A subscription was added.',
    fields: { clientid: 'Client id.', username: 'User name.', peerhost: 'Client address.', topic: 'The filter as subscribed.', qos: 'Granted QoS.', sub_props: 'MQTT 5 SUBSCRIBE properties.', ...COMMON },
    emitted: true,
  },
  {
    name: 'session.unsubscribed',
    topics: ['$events/session_unsubscribed', '$events/session/unsubscribed'],
    description: 'A subscription was removed.',
    fields: { clientid: 'Client id.', username: 'User name.', peerhost: 'Client address.', topic: 'The filter.', qos: 'QoS it had (when the rule engine saw the subscription).', unsub_props: 'MQTT 5 UNSUBSCRIBE properties (empty).', ...COMMON },
    emitted: true,
  },
  {
    name: 'message.delivered',
    topics: ['$events/message_delivered', '$events/message/delivered'],
    description: 'A message was handed to a subscriber.',
    fields: { ...MESSAGE, ...RECEIVER, qos: 'QoS of the delivery.', ...COMMON },
    emitted: true,
  },
  {
    name: 'message.acked',
    topics: ['$events/message_acked', '$events/message/acked'],
    description: 'A subscriber acknowledged a QoS 1 or 2 delivery.',
    fields: { ...MESSAGE, ...RECEIVER, puback_props: 'MQTT 5 PUBACK properties (empty).', ...COMMON },
    emitted: true,
  },
  {
    name: 'message.dropped',
    topics: ['$events/message_dropped', '$events/message/dropped'],
    description: 'A message was dropped while routing (no subscribers, denied by a hook).',
    fields: { ...MESSAGE, reason: 'no_subscribers, denied_by_hook, not_authorized, ...', clientid: 'Client id of the publisher.', username: 'User name of the publisher.', peerhost: 'Address of the publisher.', ...COMMON },
    emitted: true,
  },
  {
    name: 'delivery.dropped',
    topics: ['$events/delivery_dropped', '$events/message/delivery_dropped'],
    description: "A message was dropped on its way to one subscriber (queue full, expired, session ended).",
    fields: { ...MESSAGE, ...RECEIVER, reason: 'queue_full, qos0_msg (queue full, QoS 0), expired, session_ended.', ...COMMON },
    emitted: true,
  },
];

const BY_TOPIC = new Map<string, EventName>();
for (const e of EVENTS) for (const t of e.topics) BY_TOPIC.set(t, e.name);

/** The event a `$events/...` FROM topic names, or undefined when it names none. */
export function eventForTopic(topic: string): EventName | undefined {
  return BY_TOPIC.get(topic);
}

export function eventInfo(name: EventName): EventInfo {
  return EVENTS.find((e) => e.name === name)!;
}
