/**
 * Kafka sink against librdkafka's mock cluster (a real Kafka wire-protocol server in another
 * process, tools/test-servers/kafka-mock): records land with the templated key, value and headers;
 * a stopped broker makes deliveries fail and count; a restarted one is used again.
 */
import { startKafkaMock, type KafkaMock } from '@junction/test-servers';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kafkaSink, SinkBufferFullError, type KafkaSink } from '../src/index.js';
import { output, startTcpProxy, until } from './helpers.js';

interface Got {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** A consumer group of one on `topics`, from the beginning (the README's settings for the mock). */
async function consume(brokers: string[], topics: string[]): Promise<{ consumer: Consumer; got: Got[] }> {
  const kafka = new Kafka({ clientId: 'test-consumer', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `g-${Math.random().toString(16).slice(2)}`,
    maxWaitTimeInMs: 500,
    sessionTimeout: 6000,
    heartbeatInterval: 2000,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const got: Got[] = [];
  await consumer.run({ eachMessage: async ({ topic, partition, message }) => void got.push({ topic, partition, message }) });
  return { consumer, got };
}

async function recordCount(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high), 0);
  } finally {
    await admin.disconnect();
  }
}

const headersOf = (m: KafkaMessage) => Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));

describe('Kafka sink against the librdkafka mock cluster', () => {
  let mock: KafkaMock;
  let consumer: Consumer;
  let got: Got[];
  const sinks: KafkaSink[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    mock = await startKafkaMock({ topics: { 'sensor-data': 3, 'by-client': 3 } });
    ({ consumer, got } = await consume(mock.brokers, ['sensor-data', 'by-client']));
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.stop(200);
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  afterAll(async () => {
    await consumer?.disconnect();
    await mock?.stop();
  });

  it('produces records with templated key, value and headers, gzip, in batches', async () => {
    const s = kafkaSink(
      'sensors',
      { bootstrap_hosts: mock.bootstrap },
      {
        connector: 'k',
        parameters: {
          topic: 'sensor-data',
          message: { key: '${clientid}', value: '${payload}', timestamp: '${timestamp}' },
          kafka_headers: '${pub_props.User-Property}',
          kafka_ext_headers: [{ kafka_ext_header_key: 'mqtt-topic', kafka_ext_header_value: '${topic}' }],
          compression: 'gzip',
          partition_strategy: 'key_dispatch',
        },
        resource_opts: { batch_size: 10, batch_time: 20 },
      },
    );
    sinks.push(s);
    for (let i = 0; i < 6; i++) {
      const event = {
        clientid: `dev-${i % 2}`,
        topic: `sensors/${i}`,
        payload: JSON.stringify({ n: i }),
        timestamp: 1_700_000_000_000 + i,
        pub_props: { 'User-Property': { site: 'lyon' } },
      };
      await s.send(output({}, event));
    }
    await until(() => got.filter((g) => g.topic === 'sensor-data').length === 6, 15_000, '6 records consumed');
    const recs = got.filter((g) => g.topic === 'sensor-data').sort((a, b) => JSON.parse(a.message.value!.toString()).n - JSON.parse(b.message.value!.toString()).n);
    expect(recs.map((r) => [r.message.key?.toString(), JSON.parse(r.message.value!.toString())])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [`dev-${i % 2}`, { n: i }]),
    );
    expect(recs.map((r) => r.message.timestamp)).toEqual([0, 1, 2, 3, 4, 5].map((i) => String(1_700_000_000_000 + i)));
    expect(headersOf(recs[3]!.message)).toEqual({ site: 'lyon', 'mqtt-topic': 'sensors/3' });
    // key_dispatch: one key, one partition.
    for (const key of ['dev-0', 'dev-1']) expect(new Set(recs.filter((r) => r.message.key?.toString() === key).map((r) => r.partition)).size).toBe(1);
    expect(s.stats()).toMatchObject({ status: 'connected', metrics: { matched: 6, success: 6, failed: 0, dropped: 0, queuing: 0 } });
  });

  it('renders the topic per record and sends the rule output as JSON by default', async () => {
    const s = kafkaSink('routed', { bootstrap_hosts: mock.bootstrap }, { connector: 'k', parameters: { topic: '${dest}', required_acks: 'leader_only' } });
    sinks.push(s);
    await s.send(output({ dest: 'by-client', temp: 21.5 }, { clientid: 'c-9' }));
    await until(() => got.some((g) => g.topic === 'by-client'), 15_000, 'record on by-client');
    const rec = got.find((g) => g.topic === 'by-client')!;
    expect([rec.message.key?.toString(), JSON.parse(rec.message.value!.toString())]).toEqual(['c-9', { dest: 'by-client', temp: 21.5 }]);
  });

  it('counts failures while the broker is down, never blocks send, and recovers when it is back', async () => {
    let current = await startKafkaMock({ topics: { recovery: 2 } });
    cleanup.push(() => current.stop());
    const [host, port] = current.brokers[0]!.split(':');
    const proxy = await startTcpProxy({ host: host!, port: Number(port) });
    cleanup.push(() => proxy.stop());
    const s = kafkaSink(
      'flaky',
      { bootstrap_hosts: `127.0.0.1:${proxy.port}`, connect_timeout: 500, request_timeout: 2000 },
      { connector: 'k', parameters: { topic: 'recovery' }, resource_opts: { max_retries: 1, retry_interval: 50, max_buffer_items: 3 } },
    );
    sinks.push(s);
    await s.send(output({ n: 1 }));
    await until(() => s.stats().metrics.success === 1, 10_000, 'first record');
    expect(await recordCount(current.brokers, 'recovery')).toBe(1);

    // Broker gone: the bootstrap proxy refuses and the broker itself is stopped.
    await proxy.down();
    await current.stop();
    const sent = await Promise.allSettled([2, 3, 4, 5, 6].map((n) => s.send(output({ n }))));
    // send never waits for Kafka: it resolves (queued) or rejects at once when the buffer is full.
    expect(sent.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof SinkBufferFullError)).toBe(true);
    const dropped = sent.filter((r) => r.status === 'rejected').length;
    expect(dropped).toBeGreaterThanOrEqual(1);
    await until(() => s.stats().metrics.failed === 5 - dropped, 15_000, 'failed deliveries counted');
    expect(s.stats()).toMatchObject({ status: 'disconnected', metrics: { matched: 6, success: 1, dropped, queuing: 0 } });
    expect(s.stats().metrics.retried).toBeGreaterThanOrEqual(1);

    // A new mock cluster (new ports) behind the same bootstrap address.
    current = await startKafkaMock({ topics: { recovery: 2 } });
    const [h2, p2] = current.brokers[0]!.split(':');
    proxy.target = { host: h2!, port: Number(p2) };
    await proxy.up();
    await s.send(output({ n: 7 }));
    await until(() => s.stats().metrics.success === 2, 15_000, 'delivery after the broker is back');
    expect(await recordCount(current.brokers, 'recovery')).toBe(1);
    expect(s.stats().status).toBe('connected');
  });
});
