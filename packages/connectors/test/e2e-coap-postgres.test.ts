/**
 * The data-integration scenario of issue 10, in one process with real peers: sensors publish JSON
 * over CoAP (node-coap client → `POST /ps/{topic}` on the CoAP gateway), a rule drops outliers and
 * reshapes the record, the rows land in a real PostgreSQL (pgsql sink) and a summary is republished
 * to an MQTT topic that an MQTT.js client, connected over TCP, receives.
 */
import { createSocket } from 'node:dgram';
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { CoapGateway, defaultCoapConfig, defaultCoapUdpListener } from '@junction/coap';
import { tcpListenersFactory } from '@junction/mqtt';
import { installRules, type RulesHandle } from '@junction/rules';
import { startPostgres, type PostgresServer } from '@junction/test-servers';
import { Agent, request, type IncomingMessage } from 'coap';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSinks, type Sinks } from '../src/index.js';
import { until } from './helpers.js';

/** `POST /ps/<topic>?clientid=<id>` as a confirmable request; resolves with the response code. */
function coapPublish(agent: Agent, port: number, topic: string, clientid: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: '127.0.0.1', port, method: 'POST', pathname: `/ps/${topic}`, query: `clientid=${clientid}`, confirmable: true, agent });
    const timer = setTimeout(() => reject(new Error(`no CoAP response for ${topic}`)), 5000);
    req.on('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      res.resume();
      resolve(String(res.code));
    });
    req.on('error', (err: Error) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}

describe('CoAP sensor → rule → PostgreSQL rows + MQTT summary', () => {
  let pgServer: PostgresServer;
  let db: pg.Client;
  let broker: BrokerCore;
  let coap: CoapGateway;
  let mqttListeners: ReturnType<typeof tcpListenersFactory.create>;
  let rules: RulesHandle;
  let sinks: Sinks;
  let subscriber: MqttClient;
  let coapPort: number;
  const socket = createSocket('udp4');
  const agent = new Agent({ socket });
  const summaries: { topic: string; body: unknown }[] = [];

  beforeAll(async () => {
    pgServer = await startPostgres();
    db = new pg.Client({ connectionString: pgServer.url });
    await db.connect();
    await db.query('CREATE TABLE readings (device text, site text, temp double precision, humidity double precision, at bigint)');

    broker = new BrokerCore();
    const ctx = createAdapterContext(broker);
    coap = new CoapGateway(ctx, { ...defaultCoapConfig, listeners: { udp: { default: { ...defaultCoapUdpListener, bind: { host: '127.0.0.1', port: 0 } } } } });
    coapPort = (await coap.start())[0]!.port;
    mqttListeners = tcpListenersFactory.create(ctx, { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' } });
    const [mqttInfo] = await mqttListeners.start();

    sinks = createSinks({
      connectors: { pgsql: { warehouse: { server: `127.0.0.1:${pgServer.port}`, database: 'postgres', username: 'postgres', pool_size: 2 } } },
      actions: {
        pgsql: {
          readings: {
            connector: 'warehouse',
            parameters: { sql: 'INSERT INTO readings(device, site, temp, humidity, at) VALUES (${device}, ${site}, ${temp}, ${humidity}, ${at})' },
            resource_opts: { batch_size: 20, batch_time: 20 },
          },
        },
      },
    });
    rules = installRules(broker, {
      rules: {
        clean: {
          // Outliers (a broken probe reports 999 or -100) are dropped; the record is reshaped.
          sql: `SELECT clientid AS device, topic(2) AS site, payload.t AS temp, payload.h AS humidity, timestamp AS at
                FROM "sensors/#" WHERE payload.t > -40 and payload.t < 85`,
          actions: [
            'pgsql:readings',
            { function: 'republish', args: { topic: 'summary/${site}', qos: 1, payload: '{"device":"${device}","temp":${temp}}' } },
          ],
        },
      },
    });
    for (const s of sinks.list()) rules.sinks.register(s);

    subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttInfo!.port}`, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'dashboard' });
    subscriber.on('message', (topic, payload) => summaries.push({ topic, body: JSON.parse(payload.toString('utf8')) }));
    await subscriber.subscribeAsync('summary/#', { qos: 1 });
  });

  afterAll(async () => {
    await subscriber?.endAsync(true);
    rules?.stop();
    await sinks?.stop(500);
    await mqttListeners?.stop({ drainMs: 100 });
    await coap?.stop();
    await broker?.close();
    socket.close();
    await db?.end().catch(() => undefined);
    await pgServer?.stop();
  });

  it('stores the clean readings and republishes a summary of each', async () => {
    const readings: [string, string, object][] = [
      ['sensors/lyon/probe-1', 'probe-1', { t: 21.5, h: 40 }],
      ['sensors/lyon/probe-2', 'probe-2', { t: 999, h: 41 }], // outlier
      ['sensors/paris/probe-3', 'probe-3', { t: 19, h: 55 }],
      ['sensors/paris/probe-4', 'probe-4', { t: -100, h: 50 }], // outlier
      ['sensors/lyon/probe-1', 'probe-1', { t: 22.25, h: 39 }],
    ];
    for (const [topic, clientid, body] of readings) {
      expect(await coapPublish(agent, coapPort, topic, clientid, JSON.stringify(body))).toBe('2.04');
    }

    await until(async () => (await db.query('SELECT count(*)::int AS n FROM readings')).rows[0].n === 3, 10_000, '3 rows in PostgreSQL');
    const rows = (await db.query('SELECT device, site, temp, humidity, at FROM readings ORDER BY temp')).rows as { device: string; site: string; temp: number; humidity: number; at: string }[];
    expect(rows.map(({ device, site, temp, humidity }) => ({ device, site, temp, humidity }))).toEqual([
      { device: 'probe-3', site: 'paris', temp: 19, humidity: 55 },
      { device: 'probe-1', site: 'lyon', temp: 21.5, humidity: 40 },
      { device: 'probe-1', site: 'lyon', temp: 22.25, humidity: 39 },
    ]);
    for (const r of rows) expect(Number(r.at)).toBeGreaterThan(1_600_000_000_000);

    await until(() => summaries.length === 3, 5000, '3 summaries over MQTT');
    expect(summaries).toEqual([
      { topic: 'summary/lyon', body: { device: 'probe-1', temp: 21.5 } },
      { topic: 'summary/paris', body: { device: 'probe-3', temp: 19 } },
      { topic: 'summary/lyon', body: { device: 'probe-1', temp: 22.25 } },
    ]);
    expect(rules.metrics('clean')).toMatchObject({ matched: 5, passed: 3, 'failed.no_result': 2, 'actions.success': 6, 'actions.failed': 0 });
    expect(sinks.stats()['pgsql:readings']).toMatchObject({ status: 'connected', metrics: { matched: 3, success: 3, failed: 0 } });
  });
});
