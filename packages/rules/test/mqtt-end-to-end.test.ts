/**
 * The rule engine on a real broker behind the TCP listener, driven by MQTT.js clients.
 */
import { tcpFixture, useScope } from '@junction/mqtt/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installRules, type RulesHandle } from '../src/index.js';

describe('rules end to end over MQTT (TCP)', () => {
  const scope = useScope(tcpFixture, 5);
  let rules: RulesHandle;

  beforeAll(() => {
    rules = installRules(scope.h.broker);
  });

  afterEach(() => {
    for (const r of rules.list()) rules.remove(r.id);
  });

  it('republishes an alert as JSON to alerts/${clientid} when payload.temp > 30', async () => {
    rules.create('temp_alert', {
      sql: 'SELECT payload.temp as t, clientid FROM "sensors/#" WHERE payload.temp > 30',
      actions: [{ function: 'republish', args: { topic: 'alerts/${clientid}', qos: 1 } }],
    });
    const sub = await scope.connect();
    await sub.client.subscribeAsync('alerts/#', { qos: 1 });
    const dev = await scope.connect({ clientId: 'sensor-17' });
    await dev.client.publishAsync('sensors/room1', JSON.stringify({ temp: 25 }), { qos: 1 });
    await dev.client.publishAsync('sensors/room1', JSON.stringify({ temp: 35.5, hum: 40 }), { qos: 1 });
    const [alert] = await sub.waitMessages(1, 'alerts/');
    expect(alert!.topic).toBe('alerts/sensor-17');
    expect(alert!.qos).toBe(1);
    expect(JSON.parse(alert!.text)).toEqual({ t: 35.5, clientid: 'sensor-17' });
    await scope.flush(sub, dev);
    expect(sub.on('alerts/')).toHaveLength(1);
    expect(rules.metrics('temp_alert')).toMatchObject({ matched: 2, passed: 1, 'failed.no_result': 1, 'actions.success': 1 });
  });

  it('FOREACH over an array payload publishes one message per element', async () => {
    rules.create('split', {
      sql: "FOREACH payload.readings as r DO r.id as id, r.value * 10 as scaled INCASE r.value >= 0 FROM \"batch/#\"",
      actions: [{ function: 'republish', args: { topic: 'reading/${id}', payload: '${scaled}', qos: 0 } }],
    });
    const sub = await scope.connect();
    await sub.client.subscribeAsync('reading/#', { qos: 0 });
    const dev = await scope.connect();
    await dev.client.publishAsync('batch/1', JSON.stringify({ readings: [{ id: 'a', value: 1.5 }, { id: 'b', value: -1 }, { id: 'c', value: 2 }] }), { qos: 1 });
    const got = await sub.waitMessages(2, 'reading/');
    expect(got.map((m) => [m.topic, m.text])).toEqual([
      ['reading/a', '15'],
      ['reading/c', '20'],
    ]);
  });

  it('a $events/client_connected rule reports each new connection', async () => {
    rules.create('online', {
      sql: "SELECT clientid, username, proto_name, proto_ver, keepalive FROM \"$events/client_connected\" WHERE regex_match(clientid, '^dev-')",
      actions: [{ function: 'republish', args: { topic: 'presence/${clientid}' } }],
    });
    const sub = await scope.connect();
    await sub.client.subscribeAsync('presence/#', { qos: 0 });
    await scope.connect({ clientId: 'dev-1', username: 'device', keepalive: 42 });
    const [m] = await sub.waitMessages(1, 'presence/');
    expect(m!.topic).toBe('presence/dev-1');
    expect(JSON.parse(m!.text)).toEqual({ clientid: 'dev-1', username: 'device', proto_name: 'MQTT', proto_ver: 5, keepalive: 42 });
    expect(rules.metrics('online')).toMatchObject({ passed: 1 });
  });

  it('a rule failing on a bad JSON payload counts failed and the original message is delivered', async () => {
    rules.create('strict', {
      sql: 'SELECT payload.temp as t FROM "sensors/#"',
      actions: [{ function: 'republish', args: { topic: 'never' } }],
    });
    const sub = await scope.connect();
    await sub.client.subscribeAsync('sensors/#', { qos: 1 });
    await sub.client.subscribeAsync('never', { qos: 1 });
    const dev = await scope.connect();
    await dev.client.publishAsync('sensors/x', '{not json', { qos: 1 });
    const [m] = await sub.waitMessages(1, 'sensors/');
    expect(m!.text).toBe('{not json');
    await scope.flush(sub, dev);
    expect(sub.on('never')).toHaveLength(0);
    expect(rules.metrics('strict')).toMatchObject({ matched: 1, failed: 1, 'failed.exception': 1, passed: 0, 'actions.total': 0 });
  });

  it('MQTT 5 user properties reach the rule and can be republished', async () => {
    rules.create('props', {
      sql: "SELECT payload, pub_props.'User-Property' as user_properties FROM \"props/in\"",
      actions: [{ function: 'republish', args: { topic: 'props/out', payload: '${payload}' } }],
    });
    const sub = await scope.connect();
    await sub.client.subscribeAsync('props/out', { qos: 0 });
    const dev = await scope.connect();
    await dev.client.publishAsync('props/in', 'p', { qos: 1, properties: { userProperties: { site: 'north' } } });
    const [m] = await sub.waitMessages(1, 'props/out');
    expect(m!.text).toBe('p');
    expect(m!.properties?.userProperties).toEqual({ site: 'north' });
  });
});
