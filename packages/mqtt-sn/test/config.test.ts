import { BrokerCore, ConfigError, createAdapterContext, formatOf, parseHuman } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { defaultMqttSnConfig, defaultUdpListener, mqttSnConfig, mqttSnConfigSchema, mqttSnGatewayFactory, udpListenerSchema } from '../src/index.js';

type S = TSchema & { type?: string; default?: unknown; properties?: Record<string, TSchema>; description?: string; items?: TSchema; patternProperties?: Record<string, TSchema> };

/** The schema's defaults as the config loader makes them: human values parsed. */
function defaults(schema: S, value: unknown = structuredClone(schema.default)): unknown {
  const f = formatOf(schema);
  if (f && (typeof value === 'string' || typeof value === 'number')) return parseHuman(f, value);
  if (schema.type === 'object' && schema.properties) {
    const out: Record<string, unknown> = { ...(value as object) };
    for (const [k, p] of Object.entries(schema.properties)) {
      const v = defaults(p as S, out[k] ?? structuredClone((p as S).default));
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (schema.type === 'object' && schema.patternProperties && value) {
    const inner = Object.values(schema.patternProperties)[0] as S;
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, defaults(inner, v)]));
  }
  return value;
}

/** Every key of the schema, with its path, for the "described and defaulted" check. */
function keys(schema: S, path = ''): [string, S][] {
  const out: [string, S][] = [];
  for (const [k, p] of Object.entries(schema.properties ?? {})) {
    const ps = p as S;
    out.push([`${path}${k}`, ps]);
    if (formatOf(ps)) continue; // a human value (bind address): one key
    if (ps.type === 'object') out.push(...keys(ps, `${path}${k}.`));
    if (ps.type === 'object' && ps.patternProperties) out.push(...keys(Object.values(ps.patternProperties)[0] as S, `${path}${k}.*.`));
    if (ps.type === 'array' && (ps.items as S).type === 'object' && !formatOf(ps.items as S)) out.push(...keys(ps.items as S, `${path}${k}[].`));
  }
  return out;
}

describe('gateway.mqttsn config', () => {
  it('is the factory of type gateway.mqttsn', () => {
    expect(mqttSnGatewayFactory.type).toBe('gateway.mqttsn');
    expect(mqttSnGatewayFactory.configSchema).toBe(mqttSnConfigSchema);
  });

  it('has EMQX\'s keys', () => {
    const top = Object.keys(mqttSnConfigSchema.properties);
    for (const k of ['gateway_id', 'broadcast', 'enable_qos3', 'subs_resume', 'predefined', 'mountpoint', 'listeners', 'enable', 'enable_stats', 'idle_timeout', 'clientinfo_override']) expect(top).toContain(k);
    for (const k of ['enable', 'bind', 'max_connections', 'max_conn_rate', 'enable_authn', 'mountpoint', 'access_rules', 'udp_options']) expect(Object.keys(udpListenerSchema.properties)).toContain(k);
  });

  it('describes every key, and gives every key a default (but `predefined` entries)', () => {
    for (const [path, s] of keys(mqttSnConfigSchema as unknown as S)) {
      expect(s.description, path).toBeTruthy();
      if (!path.startsWith('predefined[]')) expect('default' in s, path).toBe(true);
    }
  });

  it('its defaults, parsed, are `defaultMqttSnConfig` (the section itself is optional)', () => {
    expect('default' in mqttSnConfigSchema).toBe(false);
    expect(defaults(mqttSnConfigSchema as unknown as S, {})).toEqual(defaultMqttSnConfig);
    expect(defaults(udpListenerSchema as unknown as S, {})).toEqual(defaultUdpListener);
    expect(defaultUdpListener.bind).toEqual({ host: '127.0.0.1', port: 1884 });
    expect(Value.Check(mqttSnConfigSchema, defaultMqttSnConfig)).toBe(true);
  });

  it('accepts an EMQX-shaped config', () => {
    const c = mqttSnConfig({ gateway_id: 3, predefined: [{ id: 1, topic: 'a/b' }], mountpoint: 'mqttsn/', listeners: { udp: { default: { bind: { host: '0.0.0.0', port: 1884 }, access_rules: ['allow 10.0.0.0/8', 'deny all'] } } } });
    expect(Value.Check(mqttSnConfigSchema, c)).toBe(true);
  });
});

describe('the adapter', () => {
  const ctx = () => createAdapterContext(new BrokerCore());

  it('reports the real port when bound to port 0, and stops idempotently', async () => {
    const a = mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ listeners: { udp: { default: { bind: { host: '127.0.0.1', port: 0 } }, second: { bind: { host: '127.0.0.1', port: 0 } } } } }));
    const infos = await a.start();
    expect(infos).toHaveLength(2);
    expect(infos[0]).toMatchObject({ type: 'udp', name: 'default', host: '127.0.0.1' });
    expect(infos[0]!.port).toBeGreaterThan(0);
    expect(infos[1]!.port).not.toBe(infos[0]!.port);
    expect(a.stats()).toMatchObject({ connections: 0, 'packets.received': 0 });
    await a.stop();
    await a.stop();
  });

  it('enable: false (gateway or listener) binds nothing', async () => {
    expect(await mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ enable: false })).start()).toEqual([]);
    expect(await mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ listeners: { udp: { default: { enable: false } } } })).start()).toEqual([]);
  });

  it('enable_stats: false reports only connections', async () => {
    const a = mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ enable_stats: false, listeners: { udp: { default: { bind: { host: '127.0.0.1', port: 0 } } } } }));
    await a.start();
    expect(a.stats()).toEqual({ connections: 0 });
    await a.stop();
  });

  it('refuses duplicate pre-defined ids and unreadable access rules with a ConfigError naming the key', () => {
    expect(() => mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ predefined: [{ id: 1, topic: 'a' }, { id: 1, topic: 'b' }] }))).toThrow(ConfigError);
    try {
      mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ listeners: { udp: { default: { access_rules: ['allow nowhere'] } } } }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('gateway.mqttsn.listeners.udp.default.access_rules');
    }
  });

  it('a port in use fails start() and leaves nothing bound', async () => {
    const first = mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ listeners: { udp: { default: { bind: { host: '127.0.0.1', port: 0 }, udp_options: { reuseaddr: false } } } } }));
    const [info] = await first.start();
    const second = mqttSnGatewayFactory.create(ctx(), mqttSnConfig({ listeners: { udp: { default: { bind: { host: '127.0.0.1', port: info!.port }, udp_options: { reuseaddr: false } } } } }));
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
    await first.stop();
  });
});
