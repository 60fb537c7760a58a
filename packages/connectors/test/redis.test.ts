import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisSink, type RedisSink } from '../src/index.js';
import { output, startRedis, until, type RedisServer } from './helpers.js';

describe('Redis sink against a real redis-server', () => {
  let redis: RedisServer;
  const sinks: RedisSink[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of sinks) await s.stop(200);
    await redis?.stop();
  });

  it('runs the templated command for each output, pipelined in batches', async () => {
    const s = redisSink('devices', { server: `127.0.0.1:${redis.port}` }, {
      connector: 'r',
      parameters: { command_template: 'HSET devices:${clientid} temp ${payload.temp}' },
      resource_opts: { batch_size: 10, batch_time: 30 },
    });
    sinks.push(s);
    await until(() => s.stats().status === 'connected');
    for (let i = 0; i < 5; i++) await s.send(output({}, { clientid: `d${i}`, payload: JSON.stringify({ temp: 20 + i }) }));
    await until(() => s.stats().metrics.success === 5);
    for (let i = 0; i < 5; i++) expect(await redis.client.hgetall(`devices:d${i}`)).toEqual({ temp: String(20 + i) });
    expect(s.stats().metrics).toMatchObject({ matched: 5, success: 5, failed: 0, retried: 0, queuing: 0 });
  });

  it('accepts a list of arguments and does not retry a command Redis refuses', async () => {
    await redis.client.set('plain', 'x');
    const s = redisSink('bad', { server: `127.0.0.1:${redis.port}` }, { connector: 'r', parameters: { command_template: ['HSET', '${key}', 'f', 'v'] } });
    sinks.push(s);
    await until(() => s.stats().status === 'connected');
    await s.send(output({ key: 'plain' })); // WRONGTYPE
    await until(() => s.stats().metrics.failed === 1);
    expect(s.stats().metrics).toMatchObject({ success: 0, failed: 1, retried: 0 });
  });
});
