/** MQTT.js publish → rule (from @junction/rules) → HTTP sink → a local HTTP server. */
import { tcpFixture, useScope } from '@junction/mqtt/testing';
import { installRules, type RulesHandle } from '@junction/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinks, type Sinks } from '../src/index.js';
import { startHttp, until, type HttpFixture } from './helpers.js';

describe('rule → HTTP sink end to end', () => {
  const scope = useScope(tcpFixture, 5);
  let rules: RulesHandle;
  let sinks: Sinks;
  let srv: HttpFixture;

  beforeAll(async () => {
    srv = await startHttp();
    rules = installRules(scope.h.broker);
    sinks = createSinks({
      connectors: { http: { webhook: { url: srv.url } } },
      actions: { http: { alerts: { connector: 'webhook', parameters: { path: '/alerts/${clientid}' } } } },
    });
    for (const s of sinks.list()) rules.sinks.register(s);
  });
  afterAll(async () => {
    rules?.stop();
    await sinks?.stop(200);
    await srv?.stop();
  });

  it('delivers the rule output as JSON', async () => {
    rules.create('hot', {
      sql: 'SELECT payload.temp as temp, clientid FROM "sensors/#" WHERE payload.temp > 30',
      actions: [{ function: 'sink', name: 'http:alerts' }],
    });
    const dev = await scope.connect({ clientId: 'sensor-9' });
    await dev.client.publishAsync('sensors/a', JSON.stringify({ temp: 20 }), { qos: 1 });
    await dev.client.publishAsync('sensors/a', JSON.stringify({ temp: 41 }), { qos: 1 });
    await until(() => srv.requests.length === 1, 5000, 'webhook call');
    expect(srv.requests[0]!.url).toBe('/alerts/sensor-9');
    expect(JSON.parse(srv.requests[0]!.body)).toEqual({ temp: 41, clientid: 'sensor-9' });
    await until(() => sinks.stats()['http:alerts']!.metrics.success === 1);
    expect(rules.metrics('hot')).toMatchObject({ matched: 2, passed: 1, 'actions.success': 1 });
  });

  it('a full sink buffer makes the action count failed', async () => {
    srv.respond = () => undefined;
    const tight = createSinks({
      connectors: { http: { slow: { url: srv.url } } },
      actions: { http: { tight: { connector: 'slow', parameters: { request_timeout: 60_000 }, resource_opts: { max_buffer_items: 1 } } } },
    });
    rules.sinks.register(tight.get('http:tight')!);
    rules.create('flood', { sql: 'SELECT * FROM "flood/#"', actions: ['http:tight'] });
    const dev = await scope.connect();
    for (let i = 0; i < 4; i++) await dev.client.publishAsync('flood/x', String(i), { qos: 1 });
    await until(() => (rules.metrics('flood')?.['actions.failed'] ?? 0) >= 2, 5000, 'failed actions');
    expect(tight.stats()['http:tight']!.metrics).toMatchObject({ matched: 4, dropped: 2, queuing: 1, inflight: 1 });
    await tight.stop(50);
  });
});
