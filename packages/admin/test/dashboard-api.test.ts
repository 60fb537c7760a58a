import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectInfo, DeliverySink, SessionHandle } from '@junction/broker-core';
import { installRules, type RulesHandle } from '@junction/rules';
import { afterEach, describe, expect, it } from 'vitest';
import type { AdminAdapterView } from '../src/index.js';
import { eventually, nextMessage, publish, startAdmin, subscribe, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
let rules: RulesHandle | undefined;
afterEach(async () => {
  rules?.stop();
  rules = undefined;
  await f?.stop();
  f = undefined;
});

const sink: DeliverySink = { deliver: () => true, resendPubrel: () => {}, closeBy: () => {} };

describe('rules API', () => {
  it('creates, reads, updates, disables and deletes rules; the rule fires; metrics count it', async () => {
    f = await startAdmin({ extra: (h) => ({ rules: (rules = installRules(h.broker)) }) });
    const created = await f.api('POST', '/api/v5/rules', {
      id: 'hot',
      name: 'Hot sensors',
      sql: 'SELECT payload.t as t, clientid FROM "sensors/#" WHERE payload.t > 30',
      actions: [{ function: 'republish', args: { topic: 'alerts/${clientid}', payload: '${t}' } }],
      description: 'alerts',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'hot', name: 'Hot sensors', enable: true, from: ['sensors/#'], description: 'alerts' });
    expect((await f.api('POST', '/api/v5/rules', { id: 'hot', sql: 'SELECT * FROM "a"' })).status).toBe(409);
    const bad = await f.api('POST', '/api/v5/rules', { sql: 'SELEKT * FROM "a"' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('BAD_REQUEST');
    expect((await f.api('POST', '/api/v5/rules', { sql: 'SELECT * FROM "a"', actions: [{ function: 'nope' }] })).status).toBe(400);

    const watcher = await f.mqttClient({ clientId: 'watcher' });
    await subscribe(watcher, 'alerts/#');
    const sensor = await f.mqttClient({ clientId: 'sensor-9' });
    const got = nextMessage(watcher, 'alerts/sensor-9');
    await publish(sensor, 'sensors/room', JSON.stringify({ t: 35 }));
    expect((await got).payload.toString()).toBe('35');
    const m = await f.api('GET', '/api/v5/rules/hot/metrics');
    expect(m.body.metrics).toMatchObject({ matched: 1, passed: 1, 'actions.success': 1 });
    expect(m.body.node_metrics[0].node).toBe('junction@127.0.0.1');

    const off = await f.api('PUT', '/api/v5/rules/hot', { enable: false });
    expect(off.body).toMatchObject({ enable: false, sql: created.body.sql, name: 'Hot sensors' });
    await publish(sensor, 'sensors/room', JSON.stringify({ t: 40 }));
    expect((await f.api('GET', '/api/v5/rules/hot/metrics')).body.metrics.matched).toBe(1);
    expect((await f.api('PUT', '/api/v5/rules/hot', { sql: 'SELECT FROM' })).status).toBe(400);
    expect((await f.api('PUT', '/api/v5/rules/hot/metrics/reset')).status).toBe(204);
    expect((await f.api('GET', '/api/v5/rules/hot/metrics')).body.metrics.matched).toBe(0);

    const list = await f.api('GET', '/api/v5/rules?enable=false');
    expect(list.body.data.map((r: { id: string }) => r.id)).toEqual(['hot']);
    expect((await f.api('GET', '/api/v5/rules?enable=true')).body.data).toEqual([]);
    expect((await f.api('DELETE', '/api/v5/rules/hot')).status).toBe(204);
    expect((await f.api('GET', '/api/v5/rules/hot')).status).toBe(404);
    expect((await f.api('DELETE', '/api/v5/rules/hot')).status).toBe(404);
    // A generated id.
    const anon = await f.api('POST', '/api/v5/rules', { sql: 'SELECT * FROM "x/#"' });
    expect(anon.body.id).toMatch(/^rule_[0-9a-f]{8}$/);
  });

  it('tests SQL against a sample: the output, 412 NOT_MATCH, 400 for bad SQL', async () => {
    f = await startAdmin({ extra: (h) => ({ rules: (rules = installRules(h.broker)) }) });
    const sql = 'SELECT payload.t as t, upper(clientid) as who FROM "s/#" WHERE payload.t > 30';
    const ok = await f.api('POST', '/api/v5/rule_test', { sql, context: { clientid: 'c1', topic: 's/1', payload: '{"t":31}' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ t: 31, who: 'C1' });
    const no = await f.api('POST', '/api/v5/rule_test', { sql, context: { clientid: 'c1', topic: 's/1', payload: '{"t":3}' } });
    expect(no.status).toBe(412);
    expect(no.body.code).toBe('NOT_MATCH');
    expect((await f.api('POST', '/api/v5/rule_test', { sql: 'SELECT nope(' })).status).toBe(400);
    const each = await f.api('POST', '/api/v5/rule_test', { sql: 'FOREACH payload.xs as x FROM "s/#"', context: { topic: 's/1', payload: '{"xs":[1,2]}' } });
    expect(each.body.map((o: { x: number }) => o.x)).toEqual([1, 2]);
  });

  it('answers 501 without a rule engine', async () => {
    f = await startAdmin();
    expect((await f.api('GET', '/api/v5/rules')).status).toBe(501);
  });
});

describe('listeners, gateways and chargers', () => {
  it('lists MQTT listeners and gateways from the adapters, and each OCPP charger with its reported state', async () => {
    const views: AdminAdapterView[] = [];
    f = await startAdmin({ extra: () => ({ adapters: () => views }) });
    views.push(
      { type: 'listeners.tcp', listeners: [{ type: 'tcp', name: 'default', host: '127.0.0.1', port: f.harness.port }], stats: () => ({ connections: 1 }) },
      { type: 'gateway.ocpp', listeners: [{ type: 'ws', name: 'default', host: '127.0.0.1', port: 33033 }], stats: () => ({ connections: 2, upstream_calls: 4 }) },
    );
    await f.mqttClient({ clientId: 'plain' });
    const listeners = await f.api('GET', '/api/v5/listeners');
    expect(listeners.body).toEqual([{ id: 'tcp:default', type: 'tcp', name: 'default', bind: `127.0.0.1:${f.harness.port}`, running: true, enable: true, current_connections: 1 }]);

    // Two chargers open sessions as the OCPP gateway does, and send what chargers send.
    const broker = f.harness.broker;
    const info = (id: string): ConnectInfo => ({ clientId: id, protocol: 'ocpp', protocolVersion: 'ocpp1.6', peer: '127.0.0.7:5555', listener: 'ws:default', cleanStart: true, keepalive: 60 });
    const cp1: SessionHandle = await broker.open(info('CP-1'), sink);
    const cp2: SessionHandle = await broker.open(info('CP-2'), sink);
    const call = (h: SessionHandle, action: string, payload: unknown) =>
      h.publish({ topic: `ocpp/cp/${h.clientId}`, payload: Buffer.from(JSON.stringify({ MessageTypeId: 2, UniqueId: '1', Action: action, Payload: payload })), qos: 0, retain: false });
    await call(cp1, 'BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'Fast-1', firmwareVersion: '1.2' });
    await call(cp1, 'StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
    await call(cp1, 'StatusNotification', { connectorId: 2, status: 'Available', errorCode: 'NoError' });
    await call(cp2, 'StatusNotification', { connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' });
    await cp2.publish({ topic: 'ocpp/cp/CP-2', payload: Buffer.from('not json'), qos: 0, retain: false });

    const gws = await f.api('GET', '/api/v5/gateways');
    expect(gws.body).toEqual([
      { name: 'ocpp', status: 'running', protocol: 'OCPP', current_connections: 2, listeners: [{ id: 'ws:default', type: 'ws', name: 'default', bind: '127.0.0.1:33033', running: true, enable: true, current_connections: 2 }], stats: { upstream_calls: 4 } },
    ]);
    expect((await f.api('GET', '/api/v5/gateways/coap')).status).toBe(404);
    const clients = await f.api('GET', '/api/v5/gateways/ocpp/clients');
    expect(clients.status).toBe(200);
    const byId = Object.fromEntries(clients.body.data.map((c: { clientid: string }) => [c.clientid, c]));
    expect(byId['CP-1'].charger).toMatchObject({ state: 'Charging', vendor: 'Acme', model: 'Fast-1', firmware_version: '1.2', last_action: 'StatusNotification' });
    expect(byId['CP-1'].charger.connectors.map((c: { connector_id: number; status: string }) => [c.connector_id, c.status])).toEqual([[1, 'Charging'], [2, 'Available']]);
    expect(byId['CP-2'].charger).toMatchObject({ state: 'Faulted', connectors: [{ connector_id: 1, status: 'Faulted', error_code: 'GroundFailure' }] });
    expect(byId['CP-1']).toMatchObject({ proto_name: 'OCPP', ip_address: '127.0.0.7', listener: 'ws:default', connected: true });

    cp2.close('normal');
    await eventually(async () => (await f!.api('GET', '/api/v5/gateways/ocpp/clients')).body.data.length === 1, 3000, 'CP-2 gone');
    cp1.close('normal');
  });

  it('keeps a time series of connections and message rates', async () => {
    f = await startAdmin();
    const a = await f.mqttClient({ clientId: 'a' });
    await subscribe(a, 't/#');
    for (let i = 0; i < 5; i++) await publish(a, 't/x', 'hi');
    await eventually(async () => {
      const series = (await f!.api('GET', '/api/v5/monitor?latest=60')).body as { received: number; connections: number }[];
      return series.reduce((n, s) => n + s.received, 0) >= 5 && series.at(-1)!.connections === 1;
    }, 5000, 'samples');
    const cur = await f.api('GET', '/api/v5/monitor_current');
    expect(cur.body).toMatchObject({ node: 'junction@127.0.0.1', connections: 1, interval: 1000 });
    expect(typeof cur.body.received_msg_rate).toBe('number');
    expect((await f.api('GET', '/api/v5/monitor?latest=0')).status).toBe(400);
  });
});

describe('dashboard files', () => {
  it('serves the staticDir the composition root passes, unless dashboard.static_dir names another', async () => {
    const given = mkdtempSync(join(tmpdir(), 'junction-admin-dist-'));
    const configured = mkdtempSync(join(tmpdir(), 'junction-admin-static-'));
    try {
      writeFileSync(join(given, 'index.html'), '<title>given</title>');
      writeFileSync(join(configured, 'index.html'), '<title>configured</title>');
      f = await startAdmin({ extra: () => ({ staticDir: given }) });
      const page = await fetch(`${f.base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('given');
      await f.stop();
      f = await startAdmin({ config: { dashboard: { static_dir: configured } }, extra: () => ({ staticDir: given }) });
      expect(await (await fetch(`${f.base}/`)).text()).toContain('configured');
    } finally {
      rmSync(given, { recursive: true, force: true });
      rmSync(configured, { recursive: true, force: true });
    }
  });
});
