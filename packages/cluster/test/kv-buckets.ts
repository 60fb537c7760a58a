/** One nats-server with JetStream for a test file, and fresh KV buckets on it for each test. */
import { startNatsCluster, type NatsCluster } from '@junction/test-servers';
import { connect, type JetStreamClient, type KV, type NatsConnection } from 'nats';
import { afterAll, beforeAll } from 'vitest';

export interface KvBuckets {
  /** A new bucket named `<prefix>_<n>` (history 1). */
  bucket(): Promise<{ kv: KV; name: string }>;
  jetstream(): JetStreamClient;
}

export function useKvBuckets(prefix: string): KvBuckets {
  let nats: NatsCluster | undefined;
  let nc: NatsConnection | undefined;
  let n = 0;
  beforeAll(async () => {
    nats = await startNatsCluster(1);
    nc = await connect({ servers: nats.urls });
  }, 30_000);
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });
  return {
    async bucket() {
      const name = `${prefix}_${++n}`;
      return { kv: (await nc!.jetstream().views.kv(name, { history: 1 })) as KV, name };
    },
    jetstream: () => nc!.jetstream(),
  };
}
