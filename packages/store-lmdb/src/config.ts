import { Bytes, Duration } from '@junction/broker-core';
import { Type, type Static } from '@sinclair/typebox';

/** The `durable_sessions` section: where persistent sessions and retained messages are kept. */
export const durableSessionsSchema = Type.Object(
  {
    enable: Type.Boolean({
      default: true,
      description: 'Keep persistent sessions (queued and in-flight messages, QoS 2 state, subscriptions, delayed wills) and retained messages on disk under `node.data_dir`, across restarts and crashes. false keeps them in memory only.',
    }),
    max_bytes: Bytes({ default: '4GB', description: 'Bound on the stored bytes; beyond it new queued and retained messages are refused (dropped with reason quota_exceeded), removals always work.' }),
    durability: Type.Union([Type.Literal('flush'), Type.Literal('commit')], {
      default: 'flush',
      description: 'flush: a QoS 1/2 message is acknowledged once fsync-ed (survives power loss); commit: once committed (survives a process crash, not a power loss), faster.',
    }),
    commit_interval: Duration({
      default: '5ms',
      maximum: 1000,
      description: 'Under load, the least time between two store transactions: writes arriving meanwhile join the next one (group commit; fewer, larger transactions and fsyncs), so the acknowledgement of a QoS 1/2 message to a persistent session may wait up to this much longer. An idle store writes at once. 0: a transaction as soon as the previous one is durable.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Durable storage of sessions and retained messages (embedded LMDB).' },
);

export type DurableSessionsConfig = Static<typeof durableSessionsSchema>;
