/**
 * PostgreSQL sink against a real server (initdb in a temp dir, postgres on a free loopback port):
 * templated rows land as parameters (an injection-looking payload stays data), batches are one
 * multi-row insert or one transaction, a stopped server counts failures and retries, and the sink
 * writes again once the server is back.
 */
import { startPostgres, type PostgresServer } from '@junction/test-servers';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pgsqlSink, SqlTemplate, type PgsqlSink } from '../src/index.js';
import { output, until } from './helpers.js';

describe('SQL templates become parameterised statements', () => {
  it.each([
    ['INSERT INTO t(a, b) VALUES (${payload.a}, ${clientid})', 'INSERT INTO t(a, b) VALUES ($1, $2)', true],
    ["insert into t(a, b) values ('${payload.a}', to_timestamp(${ts} / 1000.0));", 'insert into t(a, b) values ($1, to_timestamp($2 / 1000.0));', true],
    ['INSERT INTO t(a) VALUES (${a}) ON CONFLICT (a) DO NOTHING', 'INSERT INTO t(a) VALUES ($1) ON CONFLICT (a) DO NOTHING', false],
    ['UPDATE t SET a = ${a} WHERE id = ${id}', 'UPDATE t SET a = $1 WHERE id = $2', false],
  ])('%s', (source, text, batchable) => {
    const t = new SqlTemplate(source);
    expect(t.text).toBe(text);
    expect(t.batchable).toBe(batchable);
  });

  it('numbers a multi-row insert', () => {
    const t = new SqlTemplate('INSERT INTO t(a, b) VALUES (${a}, lower(${b}))');
    expect(t.multiRow([[1, 'x'], [2, 'y']])).toEqual({ text: 'INSERT INTO t(a, b) VALUES ($1, lower($2)), ($3, lower($4))', values: [1, 'x', 2, 'y'] });
  });
});

describe('PostgreSQL sink against a real server', () => {
  let server: PostgresServer;
  let db: pg.Client;
  const sinks: PgsqlSink[] = [];
  const connector = () => ({ server: `127.0.0.1:${server.port}`, database: 'postgres', username: 'postgres', pool_size: 2, connect_timeout: 1000 });

  beforeAll(async () => {
    server = await startPostgres();
    db = new pg.Client({ connectionString: server.url });
    await db.connect();
    await db.query('CREATE TABLE readings (clientid text NOT NULL, temp double precision, note text, at bigint)');
    await db.query('CREATE TABLE uniq (id int PRIMARY KEY)');
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.stop(200);
  });
  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await server?.stop();
  });

  const rows = async (sql: string) => (await db.query(sql)).rows as Record<string, unknown>[];

  it('inserts a batch as one multi-row statement; values are parameters, never SQL', async () => {
    const s = pgsqlSink('readings', connector(), {
      connector: 'pg',
      parameters: { sql: 'INSERT INTO readings(clientid, temp, note, at) VALUES (${clientid}, ${payload.temp}, ${payload.note}, ${timestamp})' },
      resource_opts: { batch_size: 50, batch_time: 30 },
    });
    sinks.push(s);
    const evil = "x'); DROP TABLE readings; --";
    for (let i = 0; i < 20; i++) {
      await s.send(output({}, { clientid: `d${i}`, payload: JSON.stringify({ temp: 20 + i / 2, note: i === 7 ? evil : `n${i}` }), timestamp: 1000 + i }));
    }
    await until(() => s.stats().metrics.success === 20, 10_000, '20 rows written');
    const got = await rows('SELECT clientid, temp, note, at FROM readings ORDER BY at');
    expect(got).toHaveLength(20);
    expect(got[7]).toEqual({ clientid: 'd7', temp: 23.5, note: evil, at: '1007' });
    expect(got[19]).toEqual({ clientid: 'd19', temp: 29.5, note: 'n19', at: '1019' });
    expect(await rows("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'readings'")).toEqual([{ n: 1 }]);
    expect(s.stats()).toMatchObject({ status: 'connected', metrics: { matched: 20, success: 20, failed: 0, queuing: 0 } });
  });

  it('runs other statements one per output inside a transaction per batch, and does not retry data errors', async () => {
    const s = pgsqlSink('uniq', connector(), {
      connector: 'pg',
      parameters: { sql: 'INSERT INTO uniq(id) VALUES (${id}) ON CONFLICT (id) DO UPDATE SET id = excluded.id' },
      resource_opts: { batch_size: 10, batch_time: 30 },
    });
    sinks.push(s);
    for (const id of [1, 2, 2, 3]) await s.send(output({ id }));
    await until(() => s.stats().metrics.success === 4, 10_000, 'upserts');
    expect(await rows('SELECT id FROM uniq ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);

    const strict = pgsqlSink('strict', connector(), { connector: 'pg', parameters: { sql: 'INSERT INTO uniq(id) VALUES (${id})' }, resource_opts: { retry_interval: 10 } });
    sinks.push(strict);
    await strict.send(output({ id: 1 })); // 23505 unique_violation
    await strict.send(output({ id: 'not a number' })); // 22P02 invalid_text_representation
    await until(() => strict.stats().metrics.failed === 2, 10_000, 'data errors counted');
    expect(strict.stats().metrics).toMatchObject({ success: 0, failed: 2, retried: 0 });
  });

  it('writes a batch atomically: one bad row fails the whole batch', async () => {
    await db.query('CREATE TABLE atomic (id int)');
    const s = pgsqlSink('atomic', connector(), {
      connector: 'pg',
      parameters: { sql: 'INSERT INTO atomic(id) VALUES (${id})' },
      resource_opts: { batch_size: 10, batch_time: 50 },
    });
    sinks.push(s);
    for (const id of [1, 'two', 3]) await s.send(output({ id }));
    await until(() => s.stats().metrics.failed === 3, 10_000, 'batch failed');
    expect(await rows('SELECT id FROM atomic')).toEqual([]);
    expect(s.stats().metrics).toMatchObject({ success: 0, failed: 3, retried: 0 });
  });

  it('counts failures and retries while the server is down, and writes again once it is back', async () => {
    await db.query('CREATE TABLE outage (n int)');
    const s = pgsqlSink('outage', { ...connector(), health_check_interval: 100 }, {
      connector: 'pg',
      parameters: { sql: 'INSERT INTO outage(n) VALUES (${n})' },
      resource_opts: { max_retries: 2, retry_interval: 50 },
    });
    sinks.push(s);
    await s.send(output({ n: 1 }));
    await until(() => s.stats().metrics.success === 1, 10_000, 'first row');

    await db.end();
    await server.halt();
    await s.send(output({ n: 2 }));
    await until(() => s.stats().metrics.failed === 1, 10_000, 'failure counted');
    expect(s.stats()).toMatchObject({ status: 'disconnected', metrics: { success: 1, failed: 1, retried: 2 } });

    await server.resume();
    await until(() => s.stats().status === 'connected', 10_000, 'health check sees the server');
    await s.send(output({ n: 3 }));
    await until(() => s.stats().metrics.success === 2, 10_000, 'row after restart');
    db = new pg.Client({ connectionString: server.url });
    await db.connect();
    expect(await rows('SELECT n FROM outage ORDER BY n')).toEqual([{ n: 1 }, { n: 3 }]);
  });
});
