import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '@junction/broker-core';

/** The `cluster` config section. */
export const clusterConfigSchema = Type.Object(
  {
    enable: Type.Boolean({ default: false, description: 'Join a cluster of Junction nodes over NATS. Every node needs a unique `node.name`.' }),
    role: Type.Union([Type.Literal('core'), Type.Literal('replicant')], {
      default: 'core',
      description:
        "This node's role, as EMQX 5's `node.role`. `core` nodes create the JetStream KV buckets and should use NATS servers with JetStream. `replicant` nodes only hold connections: they never create buckets (they wait for a core node to have created them), keep no local durable store (sessions in memory, resumed on other nodes from the cluster registry), and may connect to NATS servers or leaf nodes without JetStream.",
    }),
    jetstream_domain: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]+$',
        description: 'JetStream domain of the core NATS servers, when the NATS servers this node connects to (e.g. leaf nodes with their own JetStream) are in another domain.',
      }),
    ),
    servers: Type.Array(Type.String({ description: 'A NATS server URL, e.g. `nats://10.0.0.1:4222`.' }), {
      default: ['nats://127.0.0.1:4222'],
      minItems: 1,
      description: 'NATS servers to connect to; the client fails over between them and learns the rest of the NATS cluster from them.',
    }),
    randomize_servers: Type.Boolean({ default: true, description: 'Connect to the `servers` in random order (spreads nodes over the NATS cluster); false tries them in the order given.' }),
    subject_prefix: Type.String({
      default: 'junction',
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'First token of every NATS subject and prefix of the JetStream KV buckets; clusters sharing a NATS system need different prefixes.',
    }),
    kv_replicas: Type.Integer({
      default: 1,
      minimum: 1,
      maximum: 5,
      description: 'Replicas of the JetStream KV buckets (client registry, retained messages) when this node creates them. Use 3 on a 3-server NATS cluster so that losing one server loses nothing.',
    }),
    request_timeout: Duration({
      default: '2s',
      description: 'How long a connect waits for the client registry and for the node that held the client id to hand its session over.',
    }),
    heartbeat_interval: Duration({ default: '1s', description: 'How often this node tells the others it is alive.' }),
    node_timeout: Duration({
      default: '5s',
      description: 'A node silent this long is taken for dead: one surviving node publishes the wills of its connected clients (compare-and-set in the registry, so once).',
    }),
    confirm_timeout: Duration({
      default: '1s',
      description:
        "How long a node waits for another node to confirm that it queued a QoS 1/2 message for a persistent session it holds (stored, with durable sessions) before taking that node for gone and parking the message in the cluster's JetStream stream for the session; the publisher's PUBACK/PUBREC waits for one or the other.",
    }),
    parked_max_age: Duration({
      default: '1d',
      description:
        'How long a message parked for a persistent session whose node is gone stays in the JetStream stream waiting for the session to be resumed on another node (or its node to come back).',
    }),
    on_registry_unavailable: Type.Union([Type.Literal('refuse'), Type.Literal('local')], {
      default: 'refuse',
      description:
        'When the client registry cannot be reached (NATS partition, no JetStream quorum): `refuse` the connect (CONNACK server unavailable), or accept it with a node-local session (no takeover across nodes until the registry is back). Likewise for a QoS 1/2 message that a persistent session\'s node does not confirm and that cannot be parked: `refuse` answers PUBACK/PUBREC 0x80 (MQTT 5) or closes the connection (MQTT 3.1.1); `local` acknowledges it.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Clustering over NATS: interest-based routing, queue groups for shared subscriptions, a JetStream KV client registry, retained messages and records (bans, users, rules).' },
);

export type ClusterConfig = Static<typeof clusterConfigSchema>;

export const defaultClusterConfig: ClusterConfig = {
  enable: false,
  role: 'core',
  servers: ['nats://127.0.0.1:4222'],
  randomize_servers: true,
  subject_prefix: 'junction',
  kv_replicas: 1,
  request_timeout: 2000,
  heartbeat_interval: 1000,
  node_timeout: 5000,
  confirm_timeout: 1000,
  parked_max_age: 86_400_000,
  on_registry_unavailable: 'refuse',
};
