/**
 * Redis sink (EMQX's `redis` action): one command per rule output from a template such as
 * `HSET devices:${clientid} temp ${payload.temp}`, sent through ioredis in pipelined batches.
 * Connection errors are retried; a command Redis refuses (wrong type, unknown command) is not.
 */
import { Type, type Static } from '@sinclair/typebox';
import { silentLogger, type Logger } from '@junction/broker-core';
import { Redis } from 'ioredis';
import { parseConfig } from './config.js';
import { NonRetryableError, ResilientQueue, ResourceOptsSchema, type SinkStatus } from './resilience.js';
import { Template, type SinkOutput } from './template.js';

export const RedisConnectorSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the connector is started.' }),
    redis_type: Type.Literal('single', { default: 'single', description: 'Deployment type; only `single` is supported.' }),
    server: Type.String({ minLength: 1, description: 'Redis server, `host:port`.' }),
    database: Type.Integer({ minimum: 0, default: 0, description: 'Database index.' }),
    username: Type.Optional(Type.String({ description: 'ACL username.' })),
    password: Type.Optional(Type.String({ description: 'Password.' })),
  },
  { additionalProperties: false },
);

export const RedisActionSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the action is registered.' }),
    connector: Type.String({ minLength: 1, description: 'Name of a `redis` connector.' }),
    parameters: Type.Object(
      {
        command_template: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1 })], {
          description: 'The command: a string split on spaces (`HSET devices:${clientid} temp ${payload.temp}`) or a list of arguments, each templated.',
        }),
      },
      { additionalProperties: false },
    ),
    resource_opts: ResourceOptsSchema,
  },
  { additionalProperties: false },
);
export type RedisConnectorConfig = Static<typeof RedisConnectorSchema>;
export type RedisActionConfig = Static<typeof RedisActionSchema>;

export class RedisSink {
  readonly name: string;
  private readonly client: Redis;
  private readonly queue: ResilientQueue<string[]>;
  private readonly args: Template[];

  constructor(actionName: string, connector: RedisConnectorConfig, action: RedisActionConfig, log: Logger = silentLogger) {
    this.name = `redis:${actionName}`;
    const cmd = action.parameters.command_template;
    this.args = (typeof cmd === 'string' ? cmd.trim().split(/\s+/) : cmd).map((a) => new Template(a));
    const [host, port] = splitHostPort(connector.server, 6379);
    this.client = new Redis({
      host,
      port,
      db: connector.database,
      username: connector.username,
      password: connector.password,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: (n) => Math.min(100 * n, 2000),
    });
    this.client.on('error', (err: Error) => log.debug({ sink: this.name, err: err.message }, 'connector.redis_error'));
    this.client.on('ready', () => this.queue.kick());
    this.queue = new ResilientQueue(this.name, action.resource_opts, { deliver: (b) => this.exec(b), isConnected: () => this.client.status === 'ready' }, log);
  }

  send(output: SinkOutput): Promise<void> {
    this.queue.matched();
    const args = this.args.map((t) => t.render(output));
    return this.queue.enqueue(args, args.reduce((n, a) => n + Buffer.byteLength(a), 0));
  }

  private async exec(batch: string[][]): Promise<void> {
    const pipe = this.client.pipeline();
    for (const [cmd, ...args] of batch) pipe.call(cmd!, ...args);
    const results = await pipe.exec();
    const bad = results?.find(([err]) => err);
    if (!bad) return;
    // A lost connection is worth retrying; an error reply from a live server is not.
    if (this.client.status !== 'ready') throw new Error(`redis: ${bad[0]!.message}`);
    throw new NonRetryableError(`redis: ${bad[0]!.message}`);
  }

  stats(): SinkStatus {
    const s = this.client.status;
    return { status: s === 'ready' ? 'connected' : s === 'end' ? 'stopped' : s === 'close' ? 'disconnected' : 'connecting', metrics: this.queue.metrics() };
  }

  async stop(timeoutMs?: number): Promise<void> {
    await this.queue.flush(timeoutMs);
    this.client.disconnect();
  }
}

function splitHostPort(server: string, defPort: number): [string, number] {
  const i = server.lastIndexOf(':');
  if (i < 0) return [server, defPort];
  return [server.slice(0, i), Number(server.slice(i + 1))];
}

export function redisSink(actionName: string, connector: unknown, action: unknown, log?: Logger): RedisSink {
  return new RedisSink(
    actionName,
    parseConfig(RedisConnectorSchema, connector, 'connectors.redis'),
    parseConfig(RedisActionSchema, action, `actions.redis.${actionName}`),
    log,
  );
}
