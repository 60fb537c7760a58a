/**
 * The adapter: `gateway.coap` config schema and defaults, start() reporting real ports (port 0),
 * several listeners, IPv4 and IPv6, per-listener client limits, idempotent stop().
 */
import { createSocket } from 'node:dgram';
import { BrokerCore, createAdapterContext, formatOf, parseHuman } from '@junction/broker-core';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { coapConfigSchema, coapGatewayFactory, coapUdpListenerSchema, defaultCoapConfig, defaultCoapUdpListener } from '../src/index.js';
import { CoapTestClient } from './coap-client.js';
import { startGateway, type Running } from './harness.js';
import { codeOf, RawClient } from './raw-client.js';

let gw: Running | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

/** Every default of the schema, with human values parsed, as `defaultCoapConfig` has it. */
function defaultsOf(schema: TSchema): unknown {
  const s = schema as TSchema & { properties?: Record<string, TSchema>; default?: unknown };
  const format = formatOf(s);
  if (format && s.default !== undefined) return parseHuman(format, s.default as string);
  if (s.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(s.properties)) {
      const v = defaultsOf(p);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  return s.default;
}

describe('configuration', () => {
  it('is the gateway.coap section with EMQX\'s keys and defaults', () => {
    expect(coapGatewayFactory.type).toBe('gateway.coap');
    const d = defaultsOf(coapConfigSchema) as Record<string, unknown>;
    const { listeners, ...rest } = defaultCoapConfig;
    expect({ ...d, listeners: undefined }).toEqual({ ...rest, listeners: undefined });
    expect(defaultsOf(coapUdpListenerSchema)).toEqual(defaultCoapUdpListener);
    expect(Value.Check(coapConfigSchema, defaultCoapConfig)).toBe(true);
    expect((coapConfigSchema.properties.listeners as { default: unknown }).default).toEqual({ udp: { default: { bind: '127.0.0.1:5683' } } });
    expect(listeners.udp.default?.bind).toEqual({ host: '127.0.0.1', port: 5683 });
    expect(d).toMatchObject({ connection_required: false, heartbeat: 30_000, notify_type: 'qos', subscribe_qos: 'coap', publish_qos: 'coap', mountpoint: '' });
  });

  it('describes every key', () => {
    const undescribed: string[] = [];
    const walk = (s: TSchema, path: string) => {
      const o = s as TSchema & { properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema> };
      for (const [k, p] of Object.entries(o.properties ?? {})) {
        if (!(p as { description?: string }).description) undescribed.push(`${path}${k}`);
        walk(p, `${path}${k}.`);
      }
      for (const p of Object.values(o.patternProperties ?? {})) walk(p, `${path}{name}.`);
    };
    walk(coapConfigSchema, 'gateway.coap.');
    expect(undescribed).toEqual([]);
  });

  it('refuses unknown keys and bad values', () => {
    expect(Value.Check(coapConfigSchema, { ...defaultCoapConfig, surprise: 1 })).toBe(false);
    expect(Value.Check(coapConfigSchema, { ...defaultCoapConfig, notify_type: 'sometimes' })).toBe(false);
    expect(Value.Check(coapConfigSchema, { ...defaultCoapConfig, blockwise: { ...defaultCoapConfig.blockwise, max_block_size: 100 } })).toBe(false);
  });
});

describe('listeners', () => {
  it('reports the real ports of several listeners bound to port 0', async () => {
    gw = await startGateway({ listeners: { one: {}, two: {}, off: { enable: false } } });
    expect(gw.ports).toHaveLength(2);
    expect(gw.ports.every((p) => p > 0)).toBe(true);
    expect(new Set(gw.ports).size).toBe(2);
    for (const port of gw.ports) {
      const c = new CoapTestClient(port);
      try {
        expect((await c.request({ method: 'POST', path: '/ps/l', payload: 'x' })).code).toBe('2.04');
      } finally {
        await c.close();
      }
    }
  });

  it('starts nothing when the gateway is disabled, and stop() is idempotent', async () => {
    const broker = new BrokerCore();
    const adapter = coapGatewayFactory.create(createAdapterContext(broker), { ...defaultCoapConfig, enable: false });
    expect(await adapter.start()).toEqual([]);
    await Promise.all([adapter.stop(), adapter.stop()]);
    await adapter.stop();
    await broker.close();
  });

  it('fails to start on a port in use (reuseaddr false)', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', r));
    const broker = new BrokerCore();
    const config = { ...defaultCoapConfig, listeners: { udp: { default: { ...defaultCoapUdpListener, bind: { host: '127.0.0.1', port: taken.address().port }, udp_options: { reuseaddr: false } } } } };
    const adapter = coapGatewayFactory.create(createAdapterContext(broker), config);
    try {
      await expect(adapter.start()).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
      await adapter.stop();
      await broker.close();
    }
  });

  it('serves IPv6 ([::1])', async (t) => {
    const probe = createSocket('udp6');
    const ok = await new Promise<boolean>((r) => {
      probe.once('error', () => r(false));
      probe.bind(0, '::1', () => r(true));
    });
    probe.close();
    if (!ok) return t.skip();
    gw = await startGateway({ listeners: { v6: { bind: { host: '::1', port: 0 } } } });
    const raw = await RawClient.open(gw.port, '::1');
    try {
      const r = await raw.response(raw.send({ code: '0.02', path: 'ps/v6', query: ['c=v6-client'], payload: 'x' }));
      expect(codeOf(r)).toBe('2.04');
      expect(gw.broker.session('v6-client')).toBeDefined();
    } finally {
      raw.close();
    }
  });

  it('bounds clients per listener (max_connections) and new clients per second (max_conn_rate) with 5.03', async () => {
    gw = await startGateway({ listeners: { default: { max_connections: 2, max_conn_rate: 0 } } });
    const post = async (c: string) => codeOf(await raw.response(raw.send({ code: '0.02', path: 'ps/lim', query: [`c=${c}`], payload: 'x' })));
    const raw = await RawClient.open(gw.port);
    try {
      expect([await post('m1'), await post('m2'), await post('m3'), await post('m1')]).toEqual(['2.04', '2.04', '5.03', '2.04']);
    } finally {
      raw.close();
    }
    await gw.stop();
    gw = await startGateway({ listeners: { default: { max_conn_rate: 2 } } });
    const raw2 = await RawClient.open(gw.port);
    try {
      const post2 = async (c: string) => codeOf(await raw2.response(raw2.send({ code: '0.02', path: 'ps/lim', query: [`c=${c}`], payload: 'x' })));
      expect([await post2('r1'), await post2('r2'), await post2('r3')]).toEqual(['2.04', '2.04', '5.03']);
    } finally {
      raw2.close();
    }
  });

  it('closes every client with the gateway: sessions end, observers are told nothing more', async () => {
    gw = await startGateway();
    const raw = await RawClient.open(gw.port);
    try {
      await raw.response(raw.send({ path: 'ps/bye', observe: 0, token: Buffer.from('by'), query: ['c=leaving'] }));
      expect(gw.gateway.stats()).toMatchObject({ connections: 1, observations: 1 });
      await gw.gateway.stop();
      expect(gw.broker.session('leaving')).toBeUndefined();
      expect(gw.gateway.stats()).toMatchObject({ connections: 0, observations: 0 });
    } finally {
      raw.close();
    }
  });
});
