import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerConfigSchema, BrokerCore, ConfigError, createAdapterContext, formatOf, parseHuman } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultOcppConfig, ocppConfigSchema, ocppGatewayFactory, resolveOcppConfig, wsListenerDefaults, wsListenerSchema } from '../src/index.js';
import { stopRigs } from './helpers.js';

afterEach(stopRigs);

type S = TSchema & { properties?: Record<string, S>; default?: unknown; description?: string; type?: string };

/** Leaf defaults of a schema, parsed as the config loader parses them. */
function leafDefaults(schema: S, path: string[] = [], out: Map<string, unknown> = new Map()): Map<string, unknown> {
  const format = formatOf(schema);
  if (schema.type === 'object' && schema.properties && !format) {
    for (const [k, inner] of Object.entries(schema.properties)) leafDefaults(inner, [...path, k], out);
  } else if ('default' in schema) {
    out.set(path.join('.'), format ? parseHuman(format, schema.default as string | number) : schema.default);
  }
  return out;
}

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

/** Every property in the schema has a description. */
function undocumented(schema: S, path = ''): string[] {
  const missing = path && !schema.description ? [path] : [];
  const inner = schema.properties ?? {};
  const items = (schema as { patternProperties?: Record<string, S> }).patternProperties ?? {};
  return [...missing, ...Object.entries(inner).flatMap(([k, s]) => undocumented(s, path ? `${path}.${k}` : k)), ...Object.values(items).flatMap((s) => undocumented(s, `${path}.*`))];
}

describe('config', () => {
  it('the schema defaults are the parsed defaults', () => {
    for (const [path, value] of leafDefaults(ocppConfigSchema as S)) {
      if (path === 'listeners.ws' || path === 'listeners.wss') continue;
      expect(at(defaultOcppConfig, path), path).toEqual(value);
    }
    for (const [path, value] of leafDefaults(wsListenerSchema as S)) expect(at(wsListenerDefaults(), path), path).toEqual(value);
  });

  it('has the EMQX keys and defaults', () => {
    expect(defaultOcppConfig).toMatchObject({
      mountpoint: 'ocpp/',
      default_heartbeat_interval: 60_000,
      heartbeat_checking_times_backoff: 1,
      upstream: { topic: 'cp/${cid}', topic_override_mapping: {}, reply_topic: 'cp/${cid}/Reply', error_topic: 'cp/${cid}/Reply' },
      dnstream: { topic: 'cs/${cid}', max_mqueue_len: 100 },
      json_schema_id_prefix: 'urn:OCPP:1.6:2019:12:',
    });
    expect(wsListenerDefaults()).toMatchObject({ bind: { host: '127.0.0.1', port: 33033 }, websocket: { path: '/ocpp' } });
  });

  it('documents every key', () => {
    expect(undocumented(ocppConfigSchema as S)).toEqual([]);
  });

  it('the factory reads gateway.ocpp and shares the core mqtt section', () => {
    expect(ocppGatewayFactory.type).toBe('gateway.ocpp');
    expect(ocppGatewayFactory.sections?.mqtt).toBe(brokerConfigSchema);
  });

  it('start() reports the real ports of every enabled listener; enable: false starts none', async () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker);
    const any = { host: '127.0.0.1', port: 0 };
    const gw = ocppGatewayFactory.create(ctx, resolveOcppConfig({ listeners: { ws: { a: { bind: any }, b: { bind: any, websocket: { path: '/v2/ocpp' } }, off: { bind: any, enable: false } } } }));
    const infos = await gw.start();
    expect(infos.map((i) => [i.type, i.name])).toEqual([
      ['ws', 'a'],
      ['ws', 'b'],
    ]);
    for (const i of infos) expect(i.port).toBeGreaterThan(0);
    expect(infos[0]!.port).not.toBe(infos[1]!.port);
    await gw.stop();
    const none = ocppGatewayFactory.create(ctx, resolveOcppConfig({ enable: false }));
    expect(await none.start()).toEqual([]);
    await none.stop();
    await broker.close();
  });

  it('a port in use fails start() and leaves nothing listening', async () => {
    const broker = new BrokerCore();
    const ctx = createAdapterContext(broker);
    const first = ocppGatewayFactory.create(ctx, resolveOcppConfig({ listeners: { ws: { a: { bind: { host: '127.0.0.1', port: 0 } } } } }));
    const [info] = await first.start();
    const clash = ocppGatewayFactory.create(ctx, resolveOcppConfig({ listeners: { ws: { a: { bind: { host: '127.0.0.1', port: 0 } }, b: { bind: { host: '127.0.0.1', port: info!.port } } } } }));
    await expect(clash.start()).rejects.toThrow(/EADDRINUSE/);
    await first.stop();
    await broker.close();
  });

  it.each([
    [{ listeners: { ws: { a: { websocket: { supported_subprotocols: 'ocpp1.6, ocpp2.0' } } } } }, 'gateway.ocpp.listeners.ws.a.websocket.supported_subprotocols'],
    [{ upstream: { topic: 'cp/${station}' } }, 'gateway.ocpp.upstream.topic'],
    [{ json_schema_dir: join(mkdtempSync(join(tmpdir(), 'none-')), 'missing') }, 'gateway.ocpp.json_schema_dir'],
  ])('config errors name the key: %j', (input, path) => {
    const broker = new BrokerCore();
    let err: unknown;
    try {
      ocppGatewayFactory.create(createAdapterContext(broker), resolveOcppConfig(input as never));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe(path);
  });

  it("EMQX's ${application_priv}/schemas means the built-in schemas", () => {
    const broker = new BrokerCore();
    expect(() => ocppGatewayFactory.create(createAdapterContext(broker), resolveOcppConfig({ json_schema_dir: '${application_priv}/schemas' }))).not.toThrow();
  });
});
