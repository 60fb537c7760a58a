/**
 * Kafka sink (EMQX's `kafka_producer` connector and `kafka` action) through kafkajs: each rule
 * output becomes one record (topic, key, value, headers from templates); a batch is one
 * `sendBatch` (one Produce request per broker), gzip-compressed if asked.
 *
 * kafkajs retries a request a couple of times by itself (short); the sink's resilience layer
 * retries the batch with backoff after that. Errors the broker marks not retriable (message too
 * large, unknown or unauthorised topic) fail the batch at once.
 */
import { Type, type Static } from '@sinclair/typebox';
import { silentLogger, type Logger } from '@junction/broker-core';
import { CompressionTypes, Kafka, logLevel, Partitioners, type IHeaders, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { parseConfig } from './config.js';
import { NonRetryableError, ResilientQueue, ResourceOptsSchema, type SinkStatus } from './resilience.js';
import { lookup, outputJson, stringify, Template, type SinkOutput } from './template.js';

export const KafkaConnectorSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the connector is started.' }),
    bootstrap_hosts: Type.String({ minLength: 1, description: 'Bootstrap brokers, `host:port[,host:port...]`.' }),
    client_id: Type.String({ default: 'junction', description: 'Kafka client id sent to the brokers.' }),
    connect_timeout: Type.Integer({ minimum: 1, default: 5000, description: 'Milliseconds to wait for a TCP connection to a broker.' }),
    request_timeout: Type.Integer({ minimum: 1, default: 10_000, description: 'Milliseconds to wait for a broker to answer a request (Metadata, Produce, ...).' }),
  },
  { additionalProperties: false },
);

const ExtHeaderSchema = Type.Object(
  {
    kafka_ext_header_key: Type.String({ minLength: 1, description: 'Header name.' }),
    kafka_ext_header_value: Type.String({ description: 'Header value template, e.g. `${clientid}`.' }),
  },
  { additionalProperties: false },
);

export const KafkaActionSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the action is registered.' }),
    connector: Type.String({ minLength: 1, description: 'Name of a `kafka_producer` connector.' }),
    parameters: Type.Object(
      {
        topic: Type.String({ minLength: 1, description: 'Kafka topic; may hold `${field}` placeholders (the topic must exist or be auto-created by the cluster).' }),
        message: Type.Object(
          {
            key: Type.String({ default: '${clientid}', description: 'Record key template; an empty result sends no key.' }),
            value: Type.String({ default: '', description: 'Record value template; empty sends the rule output as JSON.' }),
            timestamp: Type.String({ default: '', description: 'Record timestamp template (milliseconds since the epoch); empty lets the client set it.' }),
          },
          { additionalProperties: false, default: {} },
        ),
        kafka_headers: Type.String({ default: '', description: 'A placeholder (e.g. `${pub_props.User-Property}`) whose value, a map or a list of `{key, value}`, becomes record headers.' }),
        kafka_ext_headers: Type.Array(ExtHeaderSchema, { default: [], description: 'More headers, each value templated.' }),
        kafka_header_value_encode_mode: Type.Union([Type.Literal('none'), Type.Literal('json')], { default: 'none', description: '`json` JSON-encodes every header value from `kafka_headers`; `none` sends text as is (other values as JSON).' }),
        partition_strategy: Type.Union([Type.Literal('random'), Type.Literal('key_dispatch')], { default: 'random', description: '`random` spreads records over partitions; `key_dispatch` hashes the key (murmur2, as the Java client).' }),
        required_acks: Type.Union([Type.Literal('all_isr'), Type.Literal('leader_only'), Type.Literal('none')], { default: 'all_isr', description: 'Acknowledgement asked of the brokers (acks -1, 1 or 0).' }),
        compression: Type.Union([Type.Literal('no_compression'), Type.Literal('gzip')], { default: 'no_compression', description: 'Record batch compression.' }),
        max_batch_bytes: Type.Integer({ minimum: 1, default: 896 * 1024, description: 'A batch is split into Produce requests of at most this many value+key bytes.' }),
        send_timeout: Type.Integer({ minimum: 1, default: 10_000, description: 'Milliseconds the broker may wait for the required acks.' }),
      },
      { additionalProperties: false },
    ),
    resource_opts: ResourceOptsSchema,
  },
  { additionalProperties: false },
);
export type KafkaConnectorConfig = Static<typeof KafkaConnectorSchema>;
export type KafkaActionConfig = Static<typeof KafkaActionSchema>;

interface KafkaRecord {
  topic: string;
  message: Message;
  bytes: number;
}

const ACKS = { all_isr: -1, leader_only: 1, none: 0 } as const;

const randomPartitioner = () => (args: { partitionMetadata: { partitionId: number }[] }) =>
  args.partitionMetadata[Math.floor(Math.random() * args.partitionMetadata.length)]?.partitionId ?? 0;

export class KafkaSink {
  readonly name: string;
  private readonly producer: Producer;
  private readonly queue: ResilientQueue<KafkaRecord>;
  private readonly topic: Template;
  private readonly key: Template;
  private readonly value: Template;
  private readonly timestamp: Template;
  private readonly extHeaders: [string, Template][];
  private readonly headersPath: string[] | undefined;
  private connected = false;
  private lastError: string | undefined;
  private stopped = false;
  private connecting: Promise<void> | undefined;

  constructor(
    actionName: string,
    connector: KafkaConnectorConfig,
    private readonly action: KafkaActionConfig,
    private readonly log: Logger = silentLogger,
  ) {
    this.name = `kafka_producer:${actionName}`;
    const p = action.parameters;
    this.topic = new Template(p.topic);
    this.key = new Template(p.message.key);
    this.value = new Template(p.message.value);
    this.timestamp = new Template(p.message.timestamp);
    this.extHeaders = p.kafka_ext_headers.map((h) => [h.kafka_ext_header_key, new Template(h.kafka_ext_header_value)]);
    this.headersPath = placeholderPath(p.kafka_headers);
    const kafka = new Kafka({
      clientId: connector.client_id,
      brokers: connector.bootstrap_hosts.split(',').map((h) => h.trim()).filter(Boolean),
      connectionTimeout: connector.connect_timeout,
      requestTimeout: connector.request_timeout,
      // Short: the sink's own retry (with backoff, counted) takes over after this.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      logLevel: logLevel.NOTHING,
    });
    this.producer = kafka.producer({
      createPartitioner: p.partition_strategy === 'key_dispatch' ? Partitioners.DefaultPartitioner : randomPartitioner,
      allowAutoTopicCreation: true,
    });
    this.producer.on('producer.disconnect', () => (this.connected = false));
    this.queue = new ResilientQueue(this.name, action.resource_opts, { deliver: (b) => this.produce(b) }, log);
    void this.connect().catch((err: Error) => {
      this.lastError = err.message;
      log.debug({ sink: this.name, err: err.message }, 'connector.kafka_connect_failed');
    });
  }

  send(output: SinkOutput): Promise<void> {
    this.queue.matched();
    let record: KafkaRecord;
    try {
      record = this.render(output);
    } catch (err) {
      this.queue.failedOne();
      return Promise.reject(err as Error);
    }
    return this.queue.enqueue(record, record.bytes);
  }

  private render(output: SinkOutput): KafkaRecord {
    const key = this.key.render(output);
    const value = this.value.isEmpty ? outputJson(output) : this.value.render(output);
    const headers: IHeaders = {};
    if (this.headersPath) Object.assign(headers, this.headerMap(lookup(this.headersPath, output)));
    for (const [k, t] of this.extHeaders) headers[k] = t.render(output);
    const message: Message = { key: key === '' ? null : key, value, headers };
    const ts = this.timestamp.isEmpty ? '' : this.timestamp.render(output);
    if (ts !== '' && /^\d+$/.test(ts)) message.timestamp = ts;
    let bytes = Buffer.byteLength(value) + Buffer.byteLength(key);
    for (const [k, v] of Object.entries(headers)) bytes += k.length + Buffer.byteLength(String(v));
    return { topic: this.topic.render(output), message, bytes };
  }

  /** `kafka_headers`: a map, or EMQX's list of `{key, value}` pairs. */
  private headerMap(v: unknown): Record<string, string> {
    const json = this.action.parameters.kafka_header_value_encode_mode === 'json';
    const enc = (x: unknown) => (json ? JSON.stringify(x) : stringify(x));
    if (Array.isArray(v)) {
      const out: Record<string, string> = {};
      for (const e of v) {
        if (e && typeof e === 'object' && 'key' in e) out[String((e as { key: unknown }).key)] = enc((e as { value?: unknown }).value);
      }
      return out;
    }
    if (v && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
    return {};
  }

  /** Connect once at a time (the first delivery may race the initial connection). */
  private connect(): Promise<void> {
    if (this.connected || this.stopped) return Promise.resolve();
    return (this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined)));
  }

  private async doConnect(): Promise<void> {
    await this.producer.connect();
    if (this.stopped) {
      // stop() ran while connecting: do not leave this connection open.
      await this.producer.disconnect();
      return;
    }
    this.connected = true;
    this.lastError = undefined;
    this.log.info({ sink: this.name }, 'connector.kafka_connected');
  }

  private async produce(batch: KafkaRecord[]): Promise<void> {
    const p = this.action.parameters;
    try {
      await this.connect();
      for (const chunk of chunks(batch, p.max_batch_bytes)) {
        const byTopic = new Map<string, Message[]>();
        for (const r of chunk) {
          const list = byTopic.get(r.topic);
          if (list) list.push(r.message);
          else byTopic.set(r.topic, [r.message]);
        }
        const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
        await this.producer.sendBatch({
          topicMessages,
          acks: ACKS[p.required_acks],
          timeout: p.send_timeout,
          compression: p.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        });
      }
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
      if (notRetriable(err)) throw new NonRetryableError(`kafka: ${(err as Error).message}`, { cause: err });
      throw err;
    }
  }

  stats(): SinkStatus {
    const status = this.stopped ? 'stopped' : this.lastError !== undefined ? 'disconnected' : this.connected ? 'connected' : 'connecting';
    return { status, metrics: this.queue.metrics() };
  }

  async stop(timeoutMs?: number): Promise<void> {
    await this.queue.flush(timeoutMs);
    this.stopped = true;
    await this.producer.disconnect().catch(() => undefined);
  }
}

/** `${a.b}` alone → ['a', 'b']; anything else → undefined. */
function placeholderPath(s: string): string[] | undefined {
  const m = /^\s*\$\{([^}]+)\}\s*$/.exec(s);
  return m ? m[1]!.trim().split('.') : undefined;
}

function* chunks(batch: KafkaRecord[], maxBytes: number): Generator<KafkaRecord[]> {
  let cur: KafkaRecord[] = [];
  let size = 0;
  for (const r of batch) {
    if (cur.length > 0 && size + r.bytes > maxBytes) {
      yield cur;
      cur = [];
      size = 0;
    }
    cur.push(r);
    size += r.bytes;
  }
  if (cur.length > 0) yield cur;
}

/** A broker error marked not retriable (kafkajs may wrap it once). */
function notRetriable(err: unknown): boolean {
  for (let e = err as { name?: string; retriable?: boolean; cause?: unknown } | undefined, i = 0; e && i < 3; e = e.cause as typeof e, i++) {
    if (e.name === 'KafkaJSProtocolError') return e.retriable === false;
  }
  return false;
}

export function kafkaSink(actionName: string, connector: unknown, action: unknown, log?: Logger): KafkaSink {
  return new KafkaSink(
    actionName,
    parseConfig(KafkaConnectorSchema, connector, 'connectors.kafka_producer'),
    parseConfig(KafkaActionSchema, action, `actions.kafka_producer.${actionName}`),
    log,
  );
}
