/**
 * PostgreSQL sink (EMQX's `pgsql` connector and action) through node-postgres: a parameterised
 * SQL template (`INSERT INTO t(a, b) VALUES (${payload.a}, ${clientid})` runs as
 * `... VALUES ($1, $2)` with the values passed apart), over a connection pool.
 *
 * A batch is one statement when the template is a plain `INSERT ... VALUES (...)` (a multi-row
 * VALUES list), otherwise one transaction running the statement per output. Connection errors and
 * transient server states are retried; an error about the data or the SQL (constraint, type,
 * syntax, unknown table) fails the batch at once. A periodic `SELECT 1` keeps the health status.
 */
import { Type, type Static } from '@sinclair/typebox';
import { silentLogger, type Logger } from '@junction/broker-core';
import pg from 'pg';
import { parseConfig } from './config.js';
import { NonRetryableError, ResilientQueue, ResourceOptsSchema, type SinkStatus } from './resilience.js';
import { MAX_PARAMS, SqlTemplate } from './sql-template.js';
import type { SinkOutput } from './template.js';

export const PgsqlConnectorSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the connector is started.' }),
    server: Type.String({ minLength: 1, description: 'PostgreSQL server, `host[:port]` (port 5432 by default).' }),
    database: Type.String({ minLength: 1, description: 'Database name.' }),
    username: Type.String({ minLength: 1, description: 'User name.' }),
    password: Type.Optional(Type.String({ description: 'Password.' })),
    pool_size: Type.Integer({ minimum: 1, default: 8, description: 'Connections in the pool.' }),
    connect_timeout: Type.Integer({ minimum: 1, default: 5000, description: 'Milliseconds to wait for a connection.' }),
    request_timeout: Type.Integer({ minimum: 1, default: 15_000, description: 'Milliseconds a statement may take before it is abandoned (and retried).' }),
    health_check_interval: Type.Integer({ minimum: 100, default: 15_000, description: 'Milliseconds between `SELECT 1` health checks.' }),
  },
  { additionalProperties: false },
);

export const PgsqlActionSchema = Type.Object(
  {
    enable: Type.Boolean({ default: true, description: 'Whether the action is registered.' }),
    connector: Type.String({ minLength: 1, description: 'Name of a `pgsql` connector.' }),
    parameters: Type.Object(
      {
        sql: Type.String({
          minLength: 1,
          description: 'SQL template; each `${field}` is a statement parameter (`$n`), never text spliced into the SQL, so it stands for a whole value.',
        }),
      },
      { additionalProperties: false },
    ),
    resource_opts: ResourceOptsSchema,
  },
  { additionalProperties: false },
);
export type PgsqlConnectorConfig = Static<typeof PgsqlConnectorSchema>;
export type PgsqlActionConfig = Static<typeof PgsqlActionSchema>;

/** SQLSTATE classes worth retrying: connection, resources, operator intervention, rollbacks. */
const RETRYABLE_CLASSES = new Set(['08', '53', '57', '40', '58']);

export class PgsqlSink {
  readonly name: string;
  private readonly pool: pg.Pool;
  private readonly queue: ResilientQueue<unknown[]>;
  private readonly sql: SqlTemplate;
  private readonly healthTimer: NodeJS.Timeout;
  private healthy: boolean | undefined;
  private stopped = false;

  constructor(actionName: string, connector: PgsqlConnectorConfig, action: PgsqlActionConfig, private readonly log: Logger = silentLogger) {
    this.name = `pgsql:${actionName}`;
    this.sql = new SqlTemplate(action.parameters.sql);
    const [host, port] = splitHostPort(connector.server, 5432);
    this.pool = new pg.Pool({
      host,
      port,
      database: connector.database,
      user: connector.username,
      password: connector.password,
      max: connector.pool_size,
      connectionTimeoutMillis: connector.connect_timeout,
      query_timeout: connector.request_timeout,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection lost (server restart): the pool drops it; it must not crash the process.
    this.pool.on('error', (err) => log.debug({ sink: this.name, err: err.message }, 'connector.pgsql_error'));
    this.queue = new ResilientQueue(this.name, action.resource_opts, { deliver: (b) => this.write(b) }, log);
    this.healthTimer = setInterval(() => void this.checkHealth(), connector.health_check_interval);
    this.healthTimer.unref();
    void this.checkHealth();
  }

  send(output: SinkOutput): Promise<void> {
    this.queue.matched();
    const values = this.sql.values(output);
    let bytes = 0;
    for (const v of values) bytes += typeof v === 'string' ? Buffer.byteLength(v) : 8;
    return this.queue.enqueue(values, bytes);
  }

  /** Run `SELECT 1`; the outcome is the sink's status until the next check or delivery. */
  async checkHealth(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      this.setHealthy(true);
    } catch (err) {
      this.setHealthy(false, err);
    }
    return this.healthy === true;
  }

  private setHealthy(ok: boolean, err?: unknown): void {
    if (ok !== this.healthy && !this.stopped) {
      if (ok) this.log.info({ sink: this.name }, 'connector.pgsql_connected');
      else this.log.warn({ sink: this.name, err: (err as Error | undefined)?.message }, 'connector.pgsql_unhealthy');
    }
    this.healthy = ok;
  }

  private async write(batch: unknown[][]): Promise<void> {
    try {
      if (batch.length === 1) await this.pool.query(this.sql.text, batch[0]);
      else if (this.sql.batchable) await this.multiRow(batch);
      else await this.transaction(batch);
      this.setHealthy(true);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
      if (sqlstate && !RETRYABLE_CLASSES.has(sqlstate.slice(0, 2))) {
        throw new NonRetryableError(`pgsql ${sqlstate}: ${(err as Error).message}`, { cause: err });
      }
      this.setHealthy(false, err);
      throw err;
    }
  }

  private async multiRow(batch: unknown[][]): Promise<void> {
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / this.sql.params.length));
    if (batch.length <= perStatement) {
      const q = this.sql.multiRow(batch);
      await this.pool.query(q.text, q.values);
      return;
    }
    await this.inTransaction(async (c) => {
      for (let i = 0; i < batch.length; i += perStatement) {
        const q = this.sql.multiRow(batch.slice(i, i + perStatement));
        await c.query(q.text, q.values);
      }
    });
  }

  private transaction(batch: unknown[][]): Promise<void> {
    return this.inTransaction(async (c) => {
      for (const values of batch) await c.query(this.sql.text, values);
    });
  }

  private async inTransaction(body: (c: pg.PoolClient) => Promise<void>): Promise<void> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query('BEGIN');
      await body(c);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      c.release(broken);
    }
  }

  stats(): SinkStatus {
    const status = this.stopped ? 'stopped' : this.healthy === undefined ? 'connecting' : this.healthy ? 'connected' : 'disconnected';
    return { status, metrics: this.queue.metrics() };
  }

  async stop(timeoutMs?: number): Promise<void> {
    clearInterval(this.healthTimer);
    await this.queue.flush(timeoutMs);
    this.stopped = true;
    await this.pool.end().catch(() => undefined);
  }
}

function splitHostPort(server: string, defPort: number): [string, number] {
  const m = /^\[(.+)\](?::(\d+))?$/.exec(server) ?? /^([^:]+)(?::(\d+))?$/.exec(server);
  if (!m) return [server, defPort];
  return [m[1]!, m[2] ? Number(m[2]) : defPort];
}

export function pgsqlSink(actionName: string, connector: unknown, action: unknown, log?: Logger): PgsqlSink {
  return new PgsqlSink(
    actionName,
    parseConfig(PgsqlConnectorSchema, connector, 'connectors.pgsql'),
    parseConfig(PgsqlActionSchema, action, `actions.pgsql.${actionName}`),
    log,
  );
}
